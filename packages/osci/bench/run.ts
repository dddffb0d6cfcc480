/**
 * `pnpm bench` — opening throughput of this machine, next to its raw RSA-4096, AES-GCM and SHA-256 speed measured
 * in the same run (the cipher baselines in a fresh process, see ciphers.mjs). Reads the reference vectors in place from ../shared/osci-vectors.
 */
import { execFileSync } from 'node:child_process';
import { constants, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { loadPkcs12 } from '../src/pki/keystore.js';
import { openMessage } from '../src/open-message.js';
import { MessageStreamOpener } from '../src/open-stream.js';

const shared = resolve(process.env.EFA_SHARED_DIR ?? join(import.meta.dirname, '../../../../shared'));
const vectors = join(shared, 'osci-vectors');
const bob = loadPkcs12(readFileSync(join(vectors, 'pki/bob_cipher_4096.p12')), '123456');

/** Runs `fn` for `seconds` and returns calls/s and units/s (units: what `fn` returns, e.g. bytes). */
function measure(seconds: number, fn: () => number): { perSecond: number; unitsPerSecond: number } {
  let ops = 0;
  let units = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    units += fn();
    ops++;
  }
  const elapsed = (performance.now() - start) / 1000;
  return { perSecond: ops / elapsed, unitsPerSecond: units / elapsed };
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
/**
 * The speed of a shared virtual machine drifts by tens of percent within seconds. So the baselines and the
 * openers are measured in interleaved short rounds, and each figure is the median over the rounds: every ratio
 * printed compares numbers taken under the same conditions.
 */
function rounds<K extends string>(tasks: Record<K, { seconds: number; fn: () => number }>): Record<K, { perSecond: number; unitsPerSecond: number }> {
  const entries = Object.entries(tasks) as Array<[K, { seconds: number; fn: () => number }]>;
  for (const [, t] of entries) for (let i = 0; i < 3; i++) t.fn(); // warm-up
  const samples: Record<string, Array<{ perSecond: number; unitsPerSecond: number }>> = {};
  for (let r = 0; r < ROUNDS; r++) for (const [name, t] of entries) (samples[name] ??= []).push(measure(t.seconds, t.fn));
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return Object.fromEntries(
    Object.entries(samples).map(([name, xs]) => [
      name,
      { perSecond: median(xs.map((x) => x.perSecond)), unitsPerSecond: median(xs.map((x) => x.unitsPerSecond)) },
    ]),
  ) as Record<K, { perSecond: number; unitsPerSecond: number }>;
}

const wrapped = publicEncrypt({ key: bob.certificate.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, randomBytes(32));
const small = readFileSync(join(vectors, 'cases/b-accept-delivery/request.bin'));
const large = readFileSync(join(vectors, 'cases/c-accept-5mb-attachment/request.bin'));
const consumable = Buffer.allocUnsafeSlow(large.length);

// Two groups, each interleaved in itself: the small opener with RSA, the large openers with RSA. (Interleaving 5 MB
// messages with the small one would charge their garbage collection to it.)
const rsaTask = {
  seconds: 0.4,
  fn: () => {
    privateDecrypt({ key: bob.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, wrapped);
    return 1;
  },
};
const smallGroup = rounds({
  rsa: rsaTask,
  small: {
    seconds: 0.8,
    fn: () => {
      const m = openMessage(small, { keys: [bob] });
      if (!m.content.ok) throw m.content.error;
      return 1;
    },
  },
});
// The cipher baselines come from a fresh process (see bench/ciphers.mjs: here the garbage collections triggered by
// the fresh output buffers would be measured along with the cipher).
const ciphers = JSON.parse(execFileSync(process.execPath, [join(import.meta.dirname, 'ciphers.mjs')], { encoding: 'utf8' })) as {
  gcm: number;
  sha: number;
};
const largeGroup = rounds({
  rsa: rsaTask,
  large: {
    seconds: 0.8,
    fn: () => {
      const m = openMessage(large, { keys: [bob] });
      if (!m.content.ok) throw m.content.error;
      return large.length;
    },
  },
  // The gateway's way: the message was read into a buffer of its own, which is decrypted in place (the copy into
  // that buffer, standing in for reading the file, is part of the time).
  largeConsumed: {
    seconds: 0.8,
    fn: () => {
      large.copy(consumable);
      const m = openMessage(consumable, { keys: [bob], consumeInput: true });
      if (!m.content.ok) throw m.content.error;
      return large.length;
    },
  },
  // Attachment plaintext streamed to a sink in the decryption pass instead of kept in memory.
  largeStreamed: {
    seconds: 0.8,
    fn: () => {
      let n = 0;
      const m = openMessage(large, { keys: [bob], retainAttachments: false, onAttachmentData: (_id, chunk) => (n += chunk.length) });
      if (!m.content.ok || n === 0) throw new Error('nothing streamed');
      return large.length;
    },
  },
  // While it arrives: MessageStreamOpener fed 64 KiB slices (what the gateway does for messages from 1 MiB on,
  // reading them from its spool), attachment plaintext to a sink; memory bounded by the envelopes.
  largeArriving: {
    seconds: 0.8,
    fn: () => {
      let n = 0;
      const opener = new MessageStreamOpener({ keys: [bob], onAttachmentData: (_id, chunk) => (n += chunk.length) });
      for (let at = 0; at < large.length; at += 64 * 1024) opener.push(large.subarray(at, at + 64 * 1024));
      const m = opener.finish();
      if (!m.content.ok || n === 0) throw new Error('nothing streamed');
      return large.length;
    },
  },
});

/**
 * Both cores: two threads open the 5 MB vector side by side (attachment streamed to a sink), as a server opening
 * several messages at a time does. Bytes/s of the two together, median of three runs.
 */
async function openOnBothCores(seconds: number): Promise<number> {
  const run = async () => {
    const startAt = Date.now() + 3000; // both threads have loaded the key and warmed up by then
    const threads = [0, 1].map(() => new Worker(new URL('./open-loop.mjs', import.meta.url), { workerData: { vectors, startAt, seconds } }));
    const rates = await Promise.all(
      threads.map(
        (t) =>
          new Promise<number>((done, fail) => {
            t.once('message', done);
            t.once('error', fail);
          }),
      ),
    );
    await Promise.all(threads.map((t) => t.terminate()));
    return rates.reduce((a, b) => a + b, 0);
  };
  const runs = [await run(), await run(), await run()];
  return runs.sort((a, b) => a - b)[1]!;
}
const bothCoresRate = await openOnBothCores(2);
// One message on two cores at best: the protocol's cryptography alone on an ideal schedule (bench/two-core-bound.mjs).
const twoCoreBound = JSON.parse(execFileSync(process.execPath, [join(import.meta.dirname, 'two-core-bound.mjs')], { encoding: 'utf8' })) as {
  oneCore: number;
  twoCores: number;
};

const { rsa, small: smallRun } = smallGroup;
const gcm = { unitsPerSecond: ciphers.gcm };
const sha = { unitsPerSecond: ciphers.sha };
const { rsa: rsaLarge, large: largeRun, largeConsumed: consumedRun, largeStreamed: streamedRun, largeArriving: arrivingRun } = largeGroup;

const mb = (bytesPerSecond: number) => (bytesPerSecond / 1e6).toFixed(1);
// Per message the protocol needs 2 RSA private operations (transport and content key); per payload byte 2 AES-GCM
// decryptions (transport, attachment) and 2 SHA-256 passes (order-signature digest over the transmitted attachment,
// content-signature digest over its plaintext). This is the ceiling for one core, before any parsing.
const protocolSeconds = 2 / rsaLarge.perSecond + (2 * large.length) / gcm.unitsPerSecond + (2 * large.length) / sha.unitsPerSecond;
const protocolBound = large.length / protocolSeconds;
const rows = [
  ['RSA-4096 private operations (OAEP-SHA256)', `${rsa.perSecond.toFixed(1)} ops/s`, 'machine baseline'],
  ['AES-256-GCM encryption (64 KiB slices)', `${mb(gcm.unitsPerSecond)} MB/s`, 'machine baseline, fresh process'],
  ['SHA-256 (64 KiB slices)', `${mb(sha.unitsPerSecond)} MB/s`, 'machine baseline, fresh process'],
  [
    'open b-accept-delivery (33 KB, 2 RSA-4096 private ops)',
    `${smallRun.perSecond.toFixed(1)} msg/s`,
    `bound by RSA: ${(rsa.perSecond / 2).toFixed(1)} msg/s (${((200 * smallRun.perSecond) / rsa.perSecond).toFixed(0)} % of it)`,
  ],
  ['open c-accept-5mb-attachment (5.3 MB), attachment kept', `${mb(largeRun.unitsPerSecond)} MB/s`, `protocol minimum on this core: ${mb(protocolBound)} MB/s`],
  ['open c-accept-5mb-attachment, input consumed (in place)', `${mb(consumedRun.unitsPerSecond)} MB/s`, `${consumedRun.perSecond.toFixed(1)} msg/s`],
  ['open c-accept-5mb-attachment, attachment streamed to a sink', `${mb(streamedRun.unitsPerSecond)} MB/s`, `${streamedRun.perSecond.toFixed(1)} msg/s`],
  [
    'open c-accept-5mb-attachment while it arrives (64 KiB slices)',
    `${mb(arrivingRun.unitsPerSecond)} MB/s`,
    `${arrivingRun.perSecond.toFixed(1)} msg/s, MessageStreamOpener`,
  ],
  ['open c-accept-5mb-attachment on both cores, two at a time', `${mb(bothCoresRate)} MB/s`, 'two threads side by side, attachment streamed'],
  [
    'one 5 MB message on two cores at best (cryptography only)',
    `${mb(twoCoreBound.twoCores)} MB/s`,
    `ideal schedule, no parsing; the same work on one core: ${mb(twoCoreBound.oneCore)} MB/s`,
  ],
];
process.stdout.write(`osci bench (one core unless said, Node ${process.version}; medians of ${ROUNDS} interleaved rounds)\n`);
for (const [what, value, note] of rows) process.stdout.write(`  ${what!.padEnd(58)} ${value!.padStart(14)}   ${note}\n`);
process.stdout.write(`  resident memory after run: ${(process.memoryUsage().rss / 1048576).toFixed(0)} MiB\n`);
