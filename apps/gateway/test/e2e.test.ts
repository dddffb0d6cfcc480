import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPkcs12, openMessage, parseMimeEntity, DEFAULT_LIMITS } from '@efa-gateway/osci';
import { snapshotDirectory } from '@efa-gateway/connectors/testing';
import { validateOsci } from '../../../packages/osci/test/support/osci-xsd.js';
import { PKI, post, startTestGateway, until, vector, type TestGateway } from './support.js';

const intermediaryKey = loadPkcs12(await readFile(join(PKI, 'osci_manager_cipher_4096.p12')), '123456');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Opens the gateway's answer as the intermediary would; validates it against the OSCI XSDs. */
async function answerOf(raw: Buffer) {
  const opened = openMessage(raw, { keys: [intermediaryKey], allowUnencrypted: true, requireOrderSignature: false });
  if (opened.messageType !== 'soapFault') {
    const inner = parseMimeEntity(raw, DEFAULT_LIMITS);
    expect((await validateOsci(inner.parts[0]!.body.toString('utf8'), 'soapMessageEncrypted.xsd')).valid).toBe(true);
  }
  return {
    type: opened.messageType,
    codes: opened.envelope.fault ? [opened.envelope.fault.code] : opened.envelope.order.feedback.map((f) => f.code),
    signed: opened.orderSignature?.valid,
  };
}

describe('gateway end to end: OSCI passive recipient → spool → pipeline → hotfolder', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => {
    await gw.gateway.stop();
    await rm(gw.dataDir, { recursive: true, force: true });
  });

  it('accepts the reference AcceptDelivery, answers 0800 signed and encrypted for the intermediary, and delivers it', async () => {
    const answer = await answerOf(await post(gw.url, await vector('b-accept-delivery')));
    expect(answer).toEqual({ type: 'responseToAcceptDelivery', codes: ['0800'], signed: true });
    const id = await gw.gateway.spool.findByMessageId('bob', 'vec-S-accept-0001');
    expect(id).toBeDefined();
    const record = await until('delivery', async () => {
      const r = await gw.gateway.spool.get(id!);
      return r?.state === 'delivered' ? r : undefined;
    });
    expect(record.deliveries.outbox?.receipt?.reference.path).toMatch(/^bob\/passthrough\//);
    const files = await snapshotDirectory(gw.outbox);
    const inhalt = files.find((f) => f.name.endsWith('/inhalt-1.xml'))!;
    const expectedText = JSON.parse(await readFile(join(import.meta.dirname, '../../../../shared/osci-vectors/cases/b-accept-delivery/meta.json'), 'utf8'))
      .content_layer.contents_plaintext[0];
    expect(inhalt.sha256).toBe(sha256(Buffer.from(expectedText)));
    expect(files.find((f) => f.name.endsWith('/anlage1.bin'))?.sha256).toBe('51d58d77fc76889d34e0a02aa5cc2168aa3425aff508a9e3472f7627513cbfc2');
    const laufzettelFile = files.find((f) => f.name.endsWith('/laufzettel.json'))!;
    expect(JSON.parse(await readFile(join(gw.outbox, laufzettelFile.name), 'utf8'))).toMatchObject({
      messageId: 'vec-S-accept-0001',
      orderType: 'acceptDelivery',
    });
    // Passthrough output is not validated and the message is small: nothing kept between the stages, the deliver stage
    // mapped it again from the sealed content.
    expect(await gw.gateway.spool.mapped(id!)).toBeUndefined();
  });

  it('answers ProcessDelivery with a ResponseToProcessDelivery and delivers it', async () => {
    const answer = await answerOf(await post(gw.url, await vector('b-process-delivery')));
    expect(answer).toEqual({ type: 'responseToProcessDelivery', codes: ['0800'], signed: true });
    const id = (await gw.gateway.spool.findByMessageId('bob', 'vec-S-process-0001'))!;
    await until('delivery', async () => (await gw.gateway.spool.get(id))?.state === 'delivered');
  });

  it('answers a repeated MessageId positively again and delivers it only once', async () => {
    const before = (await snapshotDirectory(gw.outbox)).length;
    const answer = await answerOf(await post(gw.url, await vector('b-accept-delivery')));
    expect(answer.codes).toEqual(['0800']);
    await new Promise((r) => setTimeout(r, 500));
    expect((await snapshotDirectory(gw.outbox)).length).toBe(before);
    expect((await gw.gateway.spool.list()).length).toBe(2);
  });

  const negatives: Array<[string, string]> = [
    ['d-accept-flip-transport-ciphertext', '9202'],
    ['d-accept-flip-encrypted-key', '9202'],
    ['d-accept-missing-osci-enc-part', '9202'],
    ['d-accept-truncated-mime', '9100'],
    ['d-accept-truncated-closing-boundary', '9100'],
    ['d-accept-wrong-recipient-cert', '9200'],
    ['d-accept-tampered-signature-value', '9601'],
    ['d-accept-tampered-signed-header', '9601'],
    ['d-accept-flip-attachment-ciphertext', '9601'],
    ['d-accept-flip-content-ciphertext', '9601'],
    ['d-accept-missing-attachment-part', '9601'],
    ['d-process-tampered-signed-header', '9601'],
    ['d-process-flip-transport-ciphertext', '9202'],
  ];
  for (const [name, code] of negatives) {
    it(`rejects ${name} with ${code} and keeps it in quarantine`, async () => {
      const answer = await answerOf(await post(gw.url, await vector(name)));
      expect(answer.codes).toEqual([code]);
      if (code.startsWith('96'))
        expect(answer.signed).toBe(true); // order-level: signed response with Feedback
      else expect(answer.type).toBe('soapFault');
      const quarantined = await Promise.all((await gw.gateway.spool.listQuarantine()).map((id) => gw.gateway.spool.get(id)));
      expect(quarantined.some((r) => r?.answer?.code === code && r.size > 0)).toBe(true);
    });
  }

  it('acknowledges content encrypted for another reader at transport level and quarantines it', async () => {
    const answer = await answerOf(await post(gw.url, await vector('d-accept-content-for-other-reader')));
    expect(answer.codes).toEqual(['0800']);
    const quarantined = await Promise.all((await gw.gateway.spool.listQuarantine()).map((id) => gw.gateway.spool.get(id)));
    expect(quarantined.find((r) => r?.messageId === 'vec-S-otherreader-0001')).toMatchObject({ state: 'quarantined', error: { reason: 'CONTENT_NO_KEY' } });
  });

  it('serves the Laufzettel by MessageId, health, readiness and metrics', async () => {
    const base = gw.url.replace('/osci/bob', '');
    const card = (await (await fetch(`${base}/api/messages?tenant=bob&messageId=vec-S-accept-0001`)).json()) as {
      state: string;
      events: Array<{ event: string }>;
      verification: { signatures: Array<{ valid: boolean }> };
    };
    expect(card.state).toBe('delivered');
    expect(card.events.map((e) => e.event)).toEqual(expect.arrayContaining(['received', 'verified', 'routed', 'mapped', 'delivered', 'duplicate-received']));
    expect(card.verification.signatures.every((s) => s.valid)).toBe(true);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${base}/readyz`)).json()).toEqual({ ok: true, redis: true, spool: true, keys: true });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/efa_messages_received_total\{tenant="bob",outcome="accepted"\} 2/);
    expect(metrics).toMatch(/efa_messages_rejected_total\{tenant="bob",code="9601"\} 6/);
    expect(metrics).toMatch(/efa_open_tasks_waiting 0/);
    expect(metrics).toMatch(/efa_memory_budget_reserved_bytes 0/);
    expect(metrics).toMatch(/efa_open_threads_utilization 0\.\d+|efa_open_threads_utilization [01]\b/);
  });

  it('never logs personal data of the demo application', async () => {
    const all = gw.logs.join('\n');
    expect(all).toContain('message accepted');
    for (const secret of ['Erika', 'Mustermann', 'Köln', 'Weiterleitung EfA', '123456']) expect(all).not.toContain(secret);
  });
});

describe("osci send (the integrators' sender)", () => {
  it('builds an AcceptDelivery with MessageMetaData, posts it and verifies the answer', async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const gw = await startTestGateway();
    try {
      const dir = gw.dataDir;
      const { writeFile } = await import('node:fs/promises');
      await writeFile(join(dir, 'antrag.xml'), '<antrag>send</antrag>');
      await writeFile(join(dir, 'nachweis.pdf'), '%PDF-1.4 nachweis');
      const cli = join(import.meta.dirname, '../../../packages/osci/src/cli/main.ts');
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          '--import',
          'tsx',
          cli,
          'send',
          gw.url,
          '--payload',
          join(dir, 'antrag.xml'),
          '--attachment',
          join(dir, 'nachweis.pdf'),
          '--intermediary-cipher',
          join(PKI, 'osci_manager_cipher_4096.p12'),
          '--intermediary-signature',
          join(PKI, 'osci_manager_signature_4096.p12'),
          '--originator-signature',
          join(PKI, 'alice_signature_4096.p12'),
          '--recipient',
          join(PKI, 'bob_cipher_4096.cer'),
          '--message-id',
          'sent-1',
          '--service',
          'urn:efa:test-service',
          '--trust',
          join(PKI, 'bob_signature_4096.cer'),
        ],
        { env: { ...process.env, OSCI_PIN: '123456' }, cwd: join(import.meta.dirname, '../../..') },
      );
      expect(JSON.parse(stdout)).toMatchObject({
        ok: true,
        messageId: 'sent-1',
        answer: 'responseToAcceptDelivery',
        codes: ['0800'],
        challengeEchoed: true,
        signature: { valid: true, trusted: true },
        encrypted: true,
      });
      const id = (await gw.gateway.spool.findByMessageId('bob', 'sent-1'))!;
      const record = await until('delivered', async () => {
        const r = await gw.gateway.spool.get(id);
        return r?.state === 'delivered' ? r : undefined;
      });
      expect(record.metadata).toEqual({ service: 'urn:efa:test-service' });
    } finally {
      await gw.gateway.stop();
      await rm(gw.dataDir, { recursive: true, force: true });
    }
  });
});

describe('spool open index', () => {
  it('lists exactly the messages without a final state, so reconciliation does not scan the whole spool', async () => {
    const gw = await startTestGateway();
    try {
      const { acceptDelivery } = await import('./messages.js');
      for (let i = 0; i < 3; i++) await post(gw.url, acceptDelivery(`open-${i}`));
      await until('all delivered', async () => {
        const records = await Promise.all((await gw.gateway.spool.list()).map((id) => gw.gateway.spool.get(id)));
        return records.length === 3 && records.every((r) => r?.state === 'delivered');
      });
      expect(await gw.gateway.spool.listOpen()).toEqual([]);
      const [id] = await gw.gateway.spool.list();
      await gw.gateway.spool.update(id!, (r) => void (r.state = 'processing'));
      expect(await gw.gateway.spool.listOpen()).toEqual([id]);
    } finally {
      await gw.gateway.stop();
      await rm(gw.dataDir, { recursive: true, force: true });
    }
  });
});

describe('intake edge cases', () => {
  it('keeps nothing of a large upload aborted while it was being opened, and releases its memory', async () => {
    const gw = await startTestGateway();
    try {
      const { acceptDelivery } = await import('./messages.js');
      const body = acceptDelivery('aborted-large', Buffer.alloc(3 * 1024 * 1024, 7));
      const { request } = await import('node:http');
      const url = new URL(gw.url);
      let reserved = 0;
      await new Promise<void>((resolve) => {
        const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-length': String(body.length) } });
        req.on('error', () => resolve());
        // Past the transport envelope: the message is being decrypted and its attachment sealed when the client goes.
        req.write(body.subarray(0, 2 * 1024 * 1024));
        setTimeout(() => {
          reserved = gw.gateway.memory.reservedBytes;
          req.destroy();
          resolve();
        }, 300);
      });
      expect(reserved).toBeGreaterThan(0); // opening while receiving had reserved its memory
      await until('cleaned up', async () =>
        readdirSync(join(gw.dataDir, 'spool', 'incoming')).length === 0 && gw.gateway.memory.reservedBytes === 0 ? true : undefined,
      );
      expect(await gw.gateway.spool.list()).toEqual([]);
    } finally {
      await gw.gateway.stop();
      await rm(gw.dataDir, { recursive: true, force: true });
    }
  });

  it('answers 9000 and keeps nothing when the body cannot be made durable after it was opened while arriving; the retry is accepted', async () => {
    const gw = await startTestGateway();
    const spool = gw.gateway.spool;
    const receive = spool.receive.bind(spool);
    try {
      const { acceptDelivery } = await import('./messages.js');
      const body = acceptDelivery('fsync-fails-large', Buffer.alloc(3 * 1024 * 1024, 3));
      let failed = 0;
      // Every byte arrives (the opener concludes: verifies, seals, signs), then flushing the body fails — as Spool.receive
      // fails on a disk error: the partial body is removed and the error thrown.
      spool.receive = async (...args: Parameters<typeof receive>) => {
        const received = await receive(...args);
        await new Promise((r) => setTimeout(r, 500)); // let the conclusion finish first
        await rm(received.path, { force: true });
        failed++;
        throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO', syscall: 'fsync' });
      };
      expect(await answerOf(await post(gw.url, body))).toMatchObject({ type: 'soapFault', codes: ['9000'] });
      expect(failed).toBe(1);
      await until('cleaned up', async () =>
        readdirSync(join(gw.dataDir, 'spool', 'incoming')).length === 0 && gw.gateway.memory.reservedBytes === 0 ? true : undefined,
      );
      expect(await spool.list()).toEqual([]);
      expect(await spool.listQuarantine()).toEqual([]);
      expect(await spool.findByMessageId('bob', 'fsync-fails-large')).toBeUndefined();

      // Nothing was acknowledged; the intermediary's retry is accepted and delivered as a first delivery.
      spool.receive = receive;
      expect(await answerOf(await post(gw.url, body))).toMatchObject({ codes: ['0800'], signed: true });
      const id = await spool.findByMessageId('bob', 'fsync-fails-large');
      await until('delivered', async () => ((await spool.get(id!))?.state === 'delivered' ? true : undefined));
    } finally {
      spool.receive = receive;
      await gw.gateway.stop();
      await rm(gw.dataDir, { recursive: true, force: true });
    }
  });

  it('runs its open threads from the TypeScript sources, with a warning, when the worker bundle cannot be written', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dataDir = await mkdtemp(join(tmpdir(), 'efa-gw-nocache-'));
    await writeFile(join(dataDir, 'cache'), 'not a directory');
    const gw = await startTestGateway({ dataDir, http: { host: '127.0.0.1', port: 0, openThreads: 1 } });
    try {
      expect(gw.logs.some((l) => l.includes('could not bundle the open worker'))).toBe(true);
      expect(await answerOf(await post(gw.url, await vector('b-accept-delivery')))).toMatchObject({ codes: ['0800'], signed: true });
    } finally {
      await gw.gateway.stop();
      await rm(dataDir, { recursive: true, force: true });
      await rm(join(gw.outbox, '..'), { recursive: true, force: true }); // the directory the helper made for the outbox
    }
  });

  it('keeps nothing of an upload the client aborts, and answers 9100 to a body over the size limit', async () => {
    const gw = await startTestGateway({ limits: { maxMessageBytes: 64 * 1024 } });
    try {
      const { request } = await import('node:http');
      const url = new URL(gw.url);
      await new Promise<void>((resolve) => {
        const req = request({
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: { 'content-type': 'text/xml', 'content-length': '100000' },
        });
        req.on('error', () => resolve());
        req.write(Buffer.alloc(10_000, 1));
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 200);
      });
      await new Promise((r) => setTimeout(r, 300));
      const { readdir } = await import('node:fs/promises');
      expect(await readdir(join(gw.dataDir, 'spool', 'incoming'))).toEqual([]);
      expect(await gw.gateway.spool.list()).toEqual([]);

      const answer = await answerOf(await post(gw.url, Buffer.alloc(100 * 1024, 0x41)));
      expect(answer).toMatchObject({ type: 'soapFault', codes: ['9100'] });
      expect(await readdir(join(gw.dataDir, 'spool', 'incoming'))).toEqual([]);
    } finally {
      await gw.gateway.stop();
      await rm(gw.dataDir, { recursive: true, force: true });
    }
  });
});

describe('a MessageId claimed by a process that died before storing', () => {
  it('is taken over by the repeated delivery, which is stored and delivered instead of answered as a duplicate', async () => {
    const gw = await startTestGateway();
    try {
      // What a crash between claiming the MessageId and storing the message leaves behind (nothing was answered).
      const { mkdir, writeFile } = await import('node:fs/promises');
      const indexDir = join(gw.dataDir, 'spool', 'index', 'bob');
      await mkdir(indexDir, { recursive: true });
      const stale = 'lost0000-0123456789abcdef';
      await writeFile(join(indexDir, createHash('sha256').update('vec-S-accept-0001').digest('hex')), stale);

      expect((await answerOf(await post(gw.url, await vector('b-accept-delivery')))).codes).toEqual(['0800']);
      const id = await gw.gateway.spool.findByMessageId('bob', 'vec-S-accept-0001');
      expect(id).toBeDefined();
      expect(id).not.toBe(stale);
      await until('delivery', async () => (await gw.gateway.spool.get(id!))?.state === 'delivered');
      // From now on the MessageId is taken: a further repetition is a duplicate.
      expect((await answerOf(await post(gw.url, await vector('b-accept-delivery')))).codes).toEqual(['0800']);
      expect(await gw.gateway.spool.list()).toEqual([id]);
    } finally {
      await gw.gateway.stop();
      await rm(gw.dataDir, { recursive: true, force: true });
    }
  });
});

describe('memory budget for large messages', () => {
  it('carries several large messages through intake and pipeline within the budget and releases all of it', async () => {
    const { acceptDelivery } = await import('./messages.js');
    const { randomBytes } = await import('node:crypto');
    const gw = await startTestGateway({ limits: { maxMessageBytes: 64 * 1024 * 1024, memoryBudgetBytes: 16 * 1024 * 1024 } } as never);
    try {
      // Opening a message of 1 MiB or more reserves 4 MiB (it streams): five at once exceed the 16 MiB budget, so some
      // wait; all must still get through. (Passthrough forwards the attachments: mapping and delivering hold little.)
      const attachments = [0, 1, 2, 3, 4].map(() => randomBytes(3 * 1024 * 1024));
      const bodies = attachments.map((a, i) => acceptDelivery(`budget-${i}`, a));
      let maxWaiting = 0;
      const sampler = setInterval(() => (maxWaiting = Math.max(maxWaiting, gw.gateway.memory.waiting)), 1);
      const answers = await Promise.all(bodies.map(async (b) => answerOf(await post(gw.url, b))));
      expect(answers.map((a) => a.codes)).toEqual(attachments.map(() => ['0800']));
      await until('all delivered', async () => {
        const records = await Promise.all((await gw.gateway.spool.list()).map((id) => gw.gateway.spool.get(id)));
        return records.length === attachments.length && records.every((r) => r?.state === 'delivered');
      });
      clearInterval(sampler);
      expect(maxWaiting).toBeGreaterThan(0); // the budget did hold stages back
      // Opened while read (≥ 1 MiB), the attachment sealed as it was decrypted, forwarded by passthrough and streamed
      // from the sealed content to the hotfolder: what arrives is what was sent, and the kept mapped output holds a
      // reference to it, not its bytes.
      const files = await snapshotDirectory(gw.outbox);
      const sent = new Map(bodies.map((_, i) => [`budget-${i}`, attachments[i]!]));
      for (const [messageId, attachment] of sent) {
        const id = (await gw.gateway.spool.findByMessageId('bob', messageId))!;
        const record = (await gw.gateway.spool.get(id))!;
        const dir = String(record.deliveries.outbox?.receipt?.reference.path);
        expect(files.find((f) => f.name === `${dir}/anlage.bin`)?.sha256, messageId).toBe(sha256(attachment));
        const kept = (await gw.gateway.spool.mapped(id))!;
        const forwarded = kept.find((d) => d.name === 'anlage.bin');
        expect(forwarded).toMatchObject({ attachment: 'anlage.bin', size: attachment.length });
        expect(forwarded?.data).toBeUndefined();
        expect((await stat(join(gw.gateway.spool.dir, 'messages', id, 'mapped.bin'))).size).toBeLessThan(64 * 1024);
      }
      // Nothing is left behind in incoming/ (bodies and sealed content moved into the message directories).
      expect(readdirSync(join(gw.gateway.spool.dir, 'incoming'))).toEqual([]);
      // The last stage releases its reservation right after it recorded the delivery.
      await until('budget released', async () => gw.gateway.memory.reservedBytes === 0 && gw.gateway.memory.waiting === 0);
    } finally {
      await gw.gateway.stop();
      await rm(gw.dataDir, { recursive: true, force: true });
    }
  });
});

describe('retention', () => {
  it('removes delivered messages past the retention and still answers their MessageId as a duplicate', async () => {
    const gw = await startTestGateway({ retention: { deliveredDays: 1, failedDays: 90, quarantineDays: 2 } });
    try {
      const { acceptDelivery } = await import('./messages.js');
      await post(gw.url, acceptDelivery('old-1'));
      await post(gw.url, await vector('d-accept-flip-transport-ciphertext'));
      await until('delivered', async () => (await gw.gateway.spool.get((await gw.gateway.spool.findByMessageId('bob', 'old-1'))!))?.state === 'delivered');
      expect(await gw.gateway.sweep(Date.now())).toBe(0);
      expect(await gw.gateway.sweep(Date.now() + 1.5 * 86_400_000)).toBe(1); // the delivered one, not yet the quarantined one
      expect(await gw.gateway.spool.list()).toEqual([]);
      expect((await gw.gateway.spool.listQuarantine()).length).toBe(1);
      expect(await gw.gateway.sweep(Date.now() + 3 * 86_400_000)).toBe(1);
      const again = await answerOf(await post(gw.url, acceptDelivery('old-1')));
      expect(again.codes).toEqual(['0800']);
      expect(await gw.gateway.spool.list()).toEqual([]);
    } finally {
      await gw.gateway.stop();
      await rm(gw.dataDir, { recursive: true, force: true });
    }
  });
});
