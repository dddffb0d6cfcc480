import { DEFAULT_LIMITS, loadPkcs12, openMessage } from '@efa-gateway/osci';
import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OpenPool } from '../src/http/open-pool.js';
import { OPEN_WORKER_SOURCE_ENTRY, openWorkerBundle } from '../src/http/worker-bundle.js';
import { concludeOpen, EarlyAnswer, openOptionsFor, STREAM_OPEN_FROM_BYTES } from '../src/http/open-task.js';
import { openContent } from '../src/spool/content-store.js';
import { bobRuntime, PKI, VECTORS } from './support.js';

const runtime = bobRuntime();
const key = Buffer.alloc(32, 7);
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const pools: OpenPool[] = [];
const cacheDir = await mkdtemp(join(tmpdir(), 'efa-bundle-'));
const bundle = () => openWorkerBundle(cacheDir);
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
  await rm(cacheDir, { recursive: true, force: true });
});

describe('OpenPool (the intake CPU work on worker threads)', () => {
  it('divides the cores among the configured processes when its thread count is auto', async () => {
    const { availableParallelism } = await import('node:os');
    const config = (processes: number) => bobRuntime({ http: { processes } });
    for (const processes of [1, 2 * availableParallelism()]) {
      const pool = new OpenPool(config(processes), key, 'auto');
      pools.push(pool);
      expect(pool.threads).toBe(Math.max(1, Math.round(availableParallelism() / processes)));
    }
  });

  const cases = [
    { vector: 'b-accept-delivery', how: 'read whole' },
    { vector: 'c-accept-5mb-attachment', how: 'opened while read, attachments sealed as they are decrypted' },
  ];
  const modes = [
    { threads: 2, entry: 'bundle', label: 'on worker threads running the bundle' },
    { threads: 2, entry: 'sources', label: 'on worker threads loading the TypeScript sources' },
    { threads: 0, entry: 'sources', label: 'inline' },
  ] as const;
  for (const { threads, entry, label } of modes)
    for (const { vector, how } of cases)
      it(`opens, seals and answers ${vector} (${how}) ${label}, and rejects a broken one with its code`, async () => {
        const pool = new OpenPool(runtime, key, threads, entry === 'bundle' ? await bundle() : OPEN_WORKER_SOURCE_ENTRY);
        pools.push(pool);
        expect(pool.threads).toBe(threads);
        const dir = await mkdtemp(join(tmpdir(), 'efa-open-'));
        try {
          const path = join(dir, 'in.bin');
          await copyFile(join(VECTORS, `cases/${vector}/request.bin`), path);
          const meta = JSON.parse(await readFile(join(VECTORS, `cases/${vector}/meta.json`), 'utf8')) as {
            message_id: string;
            content_layer: { attachments: Array<{ ref_id: string; plaintext_sha256: string }>; contents_plaintext: string[] };
          };
          const size = (await stat(path)).size;
          expect(size >= STREAM_OPEN_FROM_BYTES).toBe(vector !== 'b-accept-delivery');
          const outcome = await pool.open({ id: 'spool-1', tenant: 'bob', path, size, sealTo: join(dir, 'sealed') });
          expect(outcome.kind).toBe('opened');
          if (outcome.kind !== 'opened') return;
          expect(outcome.messageId).toBe(meta.message_id);
          expect(outcome.contentError).toBeUndefined();
          expect(outcome.answer.byteLength).toBeGreaterThan(1000);
          expect(outcome.signatures).toMatch(/^order: valid, .*; content: valid/);
          // The sealed content opens with the spool key and the spool id, and with nothing else.
          const sealed = await readFile(join(dir, 'sealed'));
          const bundle = openContent(key, 'spool-1', Buffer.from(sealed));
          expect(bundle.contents.map((c) => c.data.toString('utf8'))).toEqual(meta.content_layer.contents_plaintext);
          expect(bundle.attachments.map((a) => [a.refId, sha256(a.data)])).toEqual(meta.content_layer.attachments.map((a) => [a.ref_id, a.plaintext_sha256]));
          expect(() => openContent(key, 'spool-2', Buffer.from(sealed))).toThrow();

          const broken = await readFile(path);
          broken[broken.length - 200] = broken[broken.length - 200]! ^ 0xff; // inside the transport ciphertext: authentication fails
          const brokenPath = join(dir, 'broken.bin');
          await writeFile(brokenPath, broken);
          const rejected = await pool.open({ id: 'spool-3', tenant: 'bob', path: brokenPath, size, sealTo: join(dir, 'sealed-3') });
          expect(rejected.kind).toBe('rejected');
          if (rejected.kind === 'rejected') expect(rejected.error.code).toMatch(/^9/);
          await expect(stat(join(dir, 'sealed-3'))).rejects.toThrow();
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      });

  it('opens a legacy message (AES-CBC, rsa-1_5 — node-forge, loaded on first use) on threads running the bundle when legacy algorithms are allowed', async () => {
    const legacy = bobRuntime({ security: { allowLegacyAlgorithms: true } });
    const pool = new OpenPool(legacy, key, 1, await bundle());
    pools.push(pool);
    const dir = await mkdtemp(join(tmpdir(), 'efa-open-'));
    try {
      const path = join(VECTORS, 'cases/c-accept-legacy-cbc-rsa15/request.bin');
      const meta = JSON.parse(await readFile(join(VECTORS, 'cases/c-accept-legacy-cbc-rsa15/meta.json'), 'utf8')) as { message_id: string };
      const outcome = await pool.open({ id: 'spool-legacy', tenant: 'bob', path, size: (await stat(path)).size, sealTo: join(dir, 'sealed') });
      expect(outcome).toMatchObject({ kind: 'opened', messageId: meta.message_id });
      expect(outcome.kind === 'opened' && outcome.contentError).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps one bundle per content in the cache directory (0600) and builds it once per process', async () => {
    const first = await bundle();
    expect(await bundle()).toBe(first);
    expect(first.startsWith(cacheDir)).toBe(true);
    expect((await stat(first)).mode & 0o777).toBe(0o600);
    const { readdir } = await import('node:fs/promises');
    expect((await readdir(cacheDir)).filter((n) => n.endsWith('.mjs'))).toEqual([first.slice(cacheDir.length + 1)]);
  });

  it('fails without a verdict when the content cannot be sealed (a local failure: the sender is asked to try again)', async () => {
    const pool = new OpenPool(runtime, key, 0);
    pools.push(pool);
    const path = join(VECTORS, 'cases/c-accept-5mb-attachment/request.bin');
    const task = { id: 'spool-4', tenant: 'bob', path, size: (await stat(path)).size, sealTo: join(tmpdir(), 'no-such-dir-efa', 'sealed') };
    await expect(pool.open(task)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('applies the configured XML bounds in the open threads (limits.xml; by default the library defaults)', async () => {
    expect(runtime.config.limits.xml).toEqual({
      maxBytes: DEFAULT_LIMITS.maxXmlBytes,
      maxDepth: DEFAULT_LIMITS.maxXmlDepth,
      maxNamespaceDeclarations: DEFAULT_LIMITS.maxXmlNamespaceDeclarations,
    });
    // The vector's envelope declares 48 namespaces (every signed block repeats its declarations).
    const strict = bobRuntime({ limits: { xml: { maxNamespaceDeclarations: 40 } } });
    const pool = new OpenPool(strict, key, 1, await bundle());
    pools.push(pool);
    const path = join(VECTORS, 'cases/b-accept-delivery/request.bin');
    const dir = await mkdtemp(join(tmpdir(), 'efa-open-'));
    try {
      const outcome = await pool.open({ id: 'spool-6', tenant: 'bob', path, size: (await stat(path)).size, sealTo: join(dir, 'sealed') });
      expect(outcome).toMatchObject({ kind: 'rejected', error: { code: '9100', reason: 'INPUT_TOO_LARGE' } });
      expect(() => bobRuntime({ limits: { xml: { maxDepth: 2 } } })).toThrow(/maxDepth/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('applies the configured body limit when opening (not the library default)', async () => {
    const small = bobRuntime({ limits: { maxMessageBytes: 1024 * 1024 } });
    const pool = new OpenPool(small, key, 0);
    pools.push(pool);
    const path = join(VECTORS, 'cases/c-accept-5mb-attachment/request.bin');
    const dir = await mkdtemp(join(tmpdir(), 'efa-open-'));
    try {
      const outcome = await pool.open({ id: 'spool-5', tenant: 'bob', path, size: (await stat(path)).size, sealTo: join(dir, 'sealed') });
      expect(outcome).toMatchObject({ kind: 'rejected', error: { reason: 'INPUT_TOO_LARGE' } });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('signs the answer as soon as the order is verified (EarlyAnswer) and answers with what was signed there', async () => {
    const bob = runtime.tenants.get('bob')!;
    const ctx = new OpenPool(runtime, key, 0).context;
    const intermediary = loadPkcs12(await readFile(join(PKI, 'osci_manager_cipher_4096.p12')), '123456');
    const dir = await mkdtemp(join(tmpdir(), 'efa-open-'));
    try {
      for (const vector of ['b-accept-delivery', 'b-process-delivery']) {
        const answer = new EarlyAnswer(bob);
        let signingWhileContentOpened = false;
        const opened = openMessage(await readFile(join(VECTORS, `cases/${vector}/request.bin`)), {
          ...openOptionsFor(bob, ctx),
          onOrderVerified: answer.start,
          onAttachmentData: () => (signingWhileContentOpened ||= answer.pending !== undefined),
        });
        expect(signingWhileContentOpened).toBe(true);
        const signed = await answer.pending!;
        const outcome = await concludeOpen(opened, bob, { path: join(dir, `${vector}.sealed`), key, id: 'spool-7' }, answer.pending);
        expect(outcome.kind === 'opened' && Buffer.from(outcome.answer).equals(signed)).toBe(true);
        // A valid answer: the intermediary decrypts it, Bob's signature holds, the feedback is 0800.
        const reply = openMessage(signed, { keys: [intermediary] });
        expect(reply.messageType).toBe(vector === 'b-accept-delivery' ? 'responseToAcceptDelivery' : 'responseToProcessDelivery');
        expect(reply.signatures).toMatchObject([{ scope: 'order', valid: true, signer: expect.stringContaining('Bob') }]);
        expect(reply.envelope.order.feedback?.map((f) => f.code)).toEqual(['0800']);
      }
      // Not an order a passive recipient answers: nothing is signed.
      const store = new EarlyAnswer(bob);
      const storeDelivery = openMessage(await readFile(join(VECTORS, 'cases/a-store-delivery/request.bin')), { keys: [intermediary] });
      expect(storeDelivery.messageType).toBe('storeDelivery');
      store.start(storeDelivery.envelope);
      expect(store.pending).toBeUndefined();
      // A signing failure reaches the outcome (the intake answers 9000), not the process.
      const failing = Promise.reject(new Error('signing failed'));
      failing.catch(() => {});
      const opened = openMessage(await readFile(join(VECTORS, 'cases/b-accept-delivery/request.bin')), openOptionsFor(bob, ctx));
      await expect(concludeOpen(opened, bob, { path: join(dir, 'failing.sealed'), key, id: 'spool-8' }, failing)).rejects.toThrow('signing failed');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
