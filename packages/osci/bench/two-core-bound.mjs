/**
 * The most the 5 MB vector's cryptography allows on two cores of this machine: the protocol's work for one such
 * message, on raw primitives only (no MIME, no XML, no signature checks), scheduled across the main thread and one
 * worker as well as its dependencies permit. Run by bench/run.ts; prints one JSON object with bytes/s for this ideal
 * two-core schedule and for the same work on one core.
 *
 * The dependencies that bound any opener, however it is built:
 * - nothing can start before the transport key's RSA operation: every byte after it is transport ciphertext;
 * - the content key's RSA operation needs the envelope, which is transport ciphertext;
 * - the attachment's AES-GCM decryption needs the content key, and one GCM pass cannot be split (GHASH runs over
 *   the whole ciphertext in order), nor can one SHA-256 pass.
 * Schedule: the main thread unwraps the transport key, decrypts the transport layer into shared memory and hashes the
 * attachment's ciphertext (the order signature's digest) and then its plaintext (the content signature's digest) as
 * the worker produces it; the worker unwraps the content key as soon as the envelope is decrypted and decrypts the
 * attachment as far as the transport plaintext reaches. Progress travels through Atomics on shared counters.
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
} from 'node:crypto';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const SLICE = 64 * 1024;
const ENVELOPE = 32 * 1024; // the part of the transport plaintext before the attachment
const GEN = 0; // message number, set by the main thread to start one
const TRANSPORT = 1; // transport plaintext bytes available in `plain`
const ATTACHMENT = 2; // attachment plaintext bytes available in `attachmentPlain`
const DONE = 3; // message number the worker finished
const OAEP = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' };

function waitUntil(ctl, index, atLeast) {
  for (;;) {
    const now = Atomics.load(ctl, index);
    if (now >= atLeast) return now;
    Atomics.wait(ctl, index, now);
  }
}

if (!isMainThread) {
  const { keyPem, wrappedContentKey, iv, tag, shared, sharedAttachment, shm, attachmentLength } = workerData;
  const key = createPrivateKey(keyPem);
  const ctl = new Int32Array(shm);
  const plain = Buffer.from(shared);
  const attachmentPlain = Buffer.from(sharedAttachment);
  let gen = 0;
  for (;;) {
    Atomics.wait(ctl, GEN, gen);
    gen = Atomics.load(ctl, GEN);
    if (gen < 0) break;
    waitUntil(ctl, TRANSPORT, ENVELOPE);
    const contentKey = privateDecrypt({ key, ...OAEP }, wrappedContentKey);
    const decipher = createDecipheriv('aes-256-gcm', contentKey, iv);
    decipher.setAuthTag(tag);
    let done = 0;
    while (done < attachmentLength) {
      const available = waitUntil(ctl, TRANSPORT, ENVELOPE + done + 1) - ENVELOPE;
      while (done < available) {
        const n = Math.min(SLICE, available - done);
        decipher.update(plain.subarray(ENVELOPE + done, ENVELOPE + done + n)).copy(attachmentPlain, done);
        done += n;
        Atomics.store(ctl, ATTACHMENT, done);
        Atomics.notify(ctl, ATTACHMENT);
      }
    }
    decipher.final();
    Atomics.store(ctl, DONE, gen);
    Atomics.notify(ctl, DONE);
  }
  parentPort.postMessage('stopped');
} else {
  const seconds = Number(process.env.BENCH_SECONDS ?? 4);
  const size = Number(process.env.BENCH_BYTES ?? 5_300_000);
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 4096 });
  const transportKey = randomBytes(32);
  const contentKey = randomBytes(32);
  const iv = randomBytes(12);
  const attachment = randomBytes(size - ENVELOPE);
  const encrypt = (key, data) => {
    const c = createCipheriv('aes-256-gcm', key, iv);
    const out = Buffer.concat([c.update(data), c.final()]);
    return { out, tag: c.getAuthTag() };
  };
  const att = encrypt(contentKey, attachment);
  const transport = encrypt(transportKey, Buffer.concat([randomBytes(ENVELOPE), att.out]));
  const wrappedTransportKey = publicEncrypt({ key: publicKey, ...OAEP }, transportKey);
  const wrappedContentKey = publicEncrypt({ key: publicKey, ...OAEP }, contentKey);
  const expected = createHash('sha256').update(attachment).digest('hex');

  /** One core, in the order a streaming opener meets the work. */
  const serial = () => {
    const tk = privateDecrypt({ key: privateKey, ...OAEP }, wrappedTransportKey);
    const d1 = createDecipheriv('aes-256-gcm', tk, iv).setAuthTag(transport.tag);
    const cipherDigest = createHash('sha256');
    const plainDigest = createHash('sha256');
    let d2;
    for (let at = 0; at < transport.out.length; at += SLICE) {
      const chunk = d1.update(transport.out.subarray(at, at + SLICE));
      if (!d2) {
        const ck = privateDecrypt({ key: privateKey, ...OAEP }, wrappedContentKey);
        d2 = createDecipheriv('aes-256-gcm', ck, iv).setAuthTag(att.tag);
        const rest = chunk.subarray(ENVELOPE);
        cipherDigest.update(rest);
        plainDigest.update(d2.update(rest));
        continue;
      }
      cipherDigest.update(chunk);
      plainDigest.update(d2.update(chunk));
    }
    d1.final();
    d2.final();
    cipherDigest.digest();
    if (plainDigest.digest('hex') !== expected) throw new Error('serial: wrong plaintext');
  };

  const shared = new SharedArrayBuffer(transport.out.length);
  const sharedAttachment = new SharedArrayBuffer(attachment.length);
  const shm = new SharedArrayBuffer(16);
  const ctl = new Int32Array(shm);
  const plain = Buffer.from(shared);
  const attachmentPlain = Buffer.from(sharedAttachment);
  const worker = new Worker(new URL(import.meta.url), {
    workerData: {
      keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }),
      wrappedContentKey,
      iv,
      tag: att.tag,
      shared,
      sharedAttachment,
      shm,
      attachmentLength: attachment.length,
    },
  });
  await new Promise((resolve) => setTimeout(resolve, 200)); // the worker has started and waits
  let gen = 0;
  const twoCores = () => {
    Atomics.store(ctl, TRANSPORT, 0);
    Atomics.store(ctl, ATTACHMENT, 0);
    Atomics.store(ctl, GEN, ++gen);
    Atomics.notify(ctl, GEN);
    const tk = privateDecrypt({ key: privateKey, ...OAEP }, wrappedTransportKey);
    const d1 = createDecipheriv('aes-256-gcm', tk, iv).setAuthTag(transport.tag);
    let written = 0;
    for (let at = 0; at < transport.out.length; at += SLICE) {
      written += d1.update(transport.out.subarray(at, at + SLICE)).copy(plain, written);
      Atomics.store(ctl, TRANSPORT, written);
      Atomics.notify(ctl, TRANSPORT);
    }
    d1.final();
    createHash('sha256').update(plain.subarray(ENVELOPE)).digest();
    const plainDigest = createHash('sha256');
    let hashed = 0;
    while (hashed < attachment.length) {
      const available = waitUntil(ctl, ATTACHMENT, hashed + 1);
      plainDigest.update(attachmentPlain.subarray(hashed, available));
      hashed = available;
    }
    waitUntil(ctl, DONE, gen);
    if (plainDigest.digest('hex') !== expected) throw new Error('two cores: wrong plaintext');
  };

  const rate = (fn) => {
    for (let i = 0; i < 3; i++) fn();
    const samples = [];
    for (let r = 0; r < 5; r++) {
      let n = 0;
      const start = performance.now();
      while (performance.now() - start < (seconds * 1000) / 5) {
        fn();
        n++;
      }
      samples.push((n * size) / ((performance.now() - start) / 1000));
    }
    return samples.sort((a, b) => a - b)[2];
  };
  const one = rate(serial);
  const two = rate(twoCores);
  Atomics.store(ctl, GEN, -1);
  Atomics.notify(ctl, GEN);
  await new Promise((resolve) => worker.once('message', resolve));
  process.stdout.write(JSON.stringify({ oneCore: one, twoCores: two }));
}
