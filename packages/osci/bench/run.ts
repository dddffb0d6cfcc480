/**
 * `pnpm bench` — opening throughput of this machine, next to its raw RSA-4096 and AES-GCM speed measured in the
 * same run. Reads the reference vectors in place from ../shared/osci-vectors.
 */
import { constants, createCipheriv, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadPkcs12 } from '../src/pki/keystore.js';
import { openMessage } from '../src/open-message.js';

const shared = resolve(process.env.EFA_SHARED_DIR ?? join(import.meta.dirname, '../../../../shared'));
const vectors = join(shared, 'osci-vectors');
const bob = loadPkcs12(readFileSync(join(vectors, 'pki/bob_cipher_4096.p12')), '123456');

function measure(label: string, seconds: number, fn: () => number): { perSecond: number; unitsPerSecond: number } {
  for (let i = 0; i < 3; i++) fn(); // warm-up
  let ops = 0;
  let units = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    units += fn();
    ops++;
  }
  const elapsed = (performance.now() - start) / 1000;
  void label;
  return { perSecond: ops / elapsed, unitsPerSecond: units / elapsed };
}

const wrapped = publicEncrypt({ key: bob.certificate.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, randomBytes(32));
const rsa = measure('rsa', 3, () => {
  privateDecrypt({ key: bob.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, wrapped);
  return 1;
});

const block = randomBytes(8 * 1024 * 1024);
const key = randomBytes(32);
const gcm = measure('gcm', 3, () => {
  const c = createCipheriv('aes-256-gcm', key, randomBytes(12));
  c.update(block);
  c.final();
  return block.length;
});

const small = readFileSync(join(vectors, 'cases/b-accept-delivery/request.bin'));
const smallRun = measure('small', 5, () => {
  const m = openMessage(small, { keys: [bob] });
  if (!m.content.ok) throw m.content.error;
  return 1;
});

const large = readFileSync(join(vectors, 'cases/c-accept-5mb-attachment/request.bin'));
const largeRun = measure('large', 5, () => {
  const m = openMessage(large, { keys: [bob] });
  if (!m.content.ok) throw m.content.error;
  return large.length;
});

const mb = (bytesPerSecond: number) => (bytesPerSecond / 1e6).toFixed(1);
const rows = [
  ['RSA-4096 private operations (OAEP-SHA256)', `${rsa.perSecond.toFixed(1)} ops/s`, 'machine baseline'],
  ['AES-256-GCM encryption, 8 MiB blocks', `${mb(gcm.unitsPerSecond)} MB/s`, 'machine baseline'],
  ['open b-accept-delivery (33 KB, 2 RSA-4096 private ops)', `${smallRun.perSecond.toFixed(1)} msg/s`, `bound by RSA: ${(rsa.perSecond / 2).toFixed(1)} msg/s`],
  ['open c-accept-5mb-attachment (5.3 MB)', `${mb(largeRun.unitsPerSecond)} MB/s`, `${largeRun.perSecond.toFixed(1)} msg/s`],
];
process.stdout.write(`osci bench (one core, Node ${process.version})\n`);
for (const [what, value, note] of rows) process.stdout.write(`  ${what!.padEnd(58)} ${value!.padStart(14)}   ${note}\n`);
process.stdout.write(`  resident memory after run: ${(process.memoryUsage().rss / 1048576).toFixed(0)} MiB\n`);
