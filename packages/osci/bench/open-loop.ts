/**
 * A worker thread of `pnpm bench`: opens the 5 MB vector one message after another (attachment streamed to a sink)
 * from `startAt` (epoch ms, shared by all workers so that they run at the same time) for `seconds`, and posts the
 * bytes/s it opened.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { loadPkcs12 } from '../src/pki/keystore.js';
import { openMessage } from '../src/open-message.js';

const { vectors, startAt, seconds } = workerData as { vectors: string; startAt: number; seconds: number };
const bob = loadPkcs12(readFileSync(join(vectors, 'pki/bob_cipher_4096.p12')), '123456');
const large = readFileSync(join(vectors, 'cases/c-accept-5mb-attachment/request.bin'));
const openOnce = () => {
  let n = 0;
  const m = openMessage(large, { keys: [bob], retainAttachments: false, onAttachmentData: (_id, chunk) => (n += chunk.length) });
  if (!m.content.ok || n === 0) throw new Error('nothing streamed');
};
for (let i = 0; i < 3; i++) openOnce();
while (Date.now() < startAt); // both workers start together
let opened = 0;
const start = performance.now();
while (performance.now() - start < seconds * 1000) {
  openOnce();
  opened += large.length;
}
parentPort!.postMessage(opened / ((performance.now() - start) / 1000));
