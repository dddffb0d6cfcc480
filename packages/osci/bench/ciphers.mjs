/**
 * AES-256-GCM and SHA-256 speed of this machine, measured in a process of its own (run by bench/run.ts). Every
 * cipher update returns a fresh 64 KiB buffer; in a process with a larger heap the garbage collections that this
 * external memory triggers cost as much as the cipher itself, and the figure would measure the heap, not the core.
 * Prints one JSON object: { "gcm": bytes/s, "sha": bytes/s } (medians of interleaved rounds).
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const block = randomBytes(64 * 1024);
const key = randomBytes(32);
const tasks = {
  gcm: () => {
    const c = createCipheriv('aes-256-gcm', key, randomBytes(12));
    for (let i = 0; i < 16; i++) c.update(block);
    c.final();
    return block.length * 16;
  },
  sha: () => {
    const h = createHash('sha256');
    for (let i = 0; i < 128; i++) h.update(block);
    h.digest();
    return block.length * 128;
  },
};
const samples = { gcm: [], sha: [] };
for (const fn of Object.values(tasks)) for (let i = 0; i < 20; i++) fn();
for (let r = 0; r < ROUNDS; r++)
  for (const [name, fn] of Object.entries(tasks)) {
    let units = 0;
    const start = performance.now();
    while (performance.now() - start < 300) units += fn();
    samples[name].push(units / ((performance.now() - start) / 1000));
  }
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
process.stdout.write(JSON.stringify({ gcm: median(samples.gcm), sha: median(samples.sha) }));
