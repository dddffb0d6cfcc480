import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http } from '../src/http/index.js';
import { createConnector } from '../src/contract/options.js';
import { ConnectorError } from '../src/contract/errors.js';
import { defineConnectorContract, bufferDocument, generatedDocument, testDelivery } from '../src/testing/index.js';
import { createTestTls } from './support/tls.js';
import { HttpPeer } from './support/http-peer.js';

const tls = createTestTls();
const secret = 'x'.repeat(40);

defineConnectorContract('http (multipart, mTLS, HMAC)', async () => {
  const peer = await new HttpPeer(tls, secret).start();
  const connector = createConnector(http, 'fachverfahren', { url: peer.url, tls: { ca: tls.caPem, cert: tls.client.cert, key: tls.client.key }, hmac: { secret }, timeoutMs: 20_000 });
  return {
    connector,
    peer: {
      snapshot: () => peer.snapshot(),
      breakTemporarily: async () => void (peer.mode = 'unavailable'),
      breakPermanently: async () => void (peer.mode = 'rejecting'),
      restore: async () => void (peer.mode = 'ok'),
    },
    cleanup: () => peer.stop(),
  };
});

describe('http specifics', () => {
  let peer: HttpPeer;
  const ctx = () => ({ signal: new AbortController().signal, attempt: 1 });
  beforeAll(async () => {
    peer = await new HttpPeer(tls).start();
  });
  afterAll(() => peer.stop());
  const connector = (extra: object = {}) => createConnector(http, 'fv', { url: peer.url, tls: { ca: tls.caPem, cert: tls.client.cert, key: tls.client.key }, ...extra });

  it('sends JSON with base64 documents and the delivery identifiers', async () => {
    peer.mode = 'ok';
    const doc = bufferDocument('antrag.xml', Buffer.from('<a>ä</a>'), 'application/xml');
    const delivery = testDelivery([doc, generatedDocument('b.bin', 100_001)], { metadata: { service: 'urn:xoev-de:xdomea' } });
    const receipt = await connector({ format: 'json' }).deliver(delivery, ctx());
    expect(receipt.reference).toMatchObject({ httpStatus: 201, remoteId: expect.stringMatching(/^r\d+$/) });
    const sent = peer.received.at(-1)!;
    expect(sent.headers['idempotency-key']).toBe(delivery.idempotencyKey);
    expect(sent.json).toMatchObject({ messageId: delivery.messageId, tenant: 'musterstadt', metadata: { service: 'urn:xoev-de:xdomea' }, documents: [{ name: 'antrag.xml', contentType: 'application/xml' }, { name: 'b.bin', size: 100_001 }] });
    expect((await peer.snapshot()).filter((i) => i.name.endsWith('/antrag.xml')).map((i) => i.sha256)).toContain(doc.sha256);
  });

  it('reports 429 as RATE_LIMITED with the Retry-After delay', async () => {
    peer.mode = 'rate-limited';
    const error = (await connector().deliver(testDelivery([bufferDocument('x', Buffer.from('x'))]), ctx()).catch((e: unknown) => e)) as ConnectorError;
    peer.mode = 'ok';
    expect(error).toMatchObject({ code: 'RATE_LIMITED', retryable: true, retryAfterMs: 2000 });
  });

  it('times out on a target that never answers (retryable TIMEOUT)', async () => {
    peer.mode = 'silent';
    const error = (await connector({ timeoutMs: 300 }).deliver(testDelivery([bufferDocument('x', Buffer.from('x'))]), ctx()).catch((e: unknown) => e)) as ConnectorError;
    peer.mode = 'ok';
    expect(error).toMatchObject({ code: 'TIMEOUT', retryable: true });
  });

  it('delivers nothing without a client certificate the target trusts, and check() says so', async () => {
    // With TLS 1.3 the server refuses a client certificate after the handshake: the client only sees the connection
    // close, which cannot be told from a restarting server. It is retried (and dead-lettered after the retry cap).
    for (const client of [undefined, tls.otherClient]) {
      const c = createConnector(http, 'fv', { url: peer.url, tls: { ca: tls.caPem, ...(client ? { cert: client.cert, key: client.key } : {}) } });
      const before = (await peer.snapshot()).length;
      const error = (await c.deliver(testDelivery([bufferDocument('x', Buffer.from('x'))]), ctx()).catch((e: unknown) => e)) as ConnectorError;
      expect(error).toBeInstanceOf(ConnectorError);
      expect(['AUTH_FAILED', 'TARGET_UNAVAILABLE']).toContain(error.code);
      expect((await peer.snapshot()).length).toBe(before);
      expect((await c.check()).ok).toBe(false);
      await c.close();
    }
  });

  it('refuses a server certificate it does not trust', async () => {
    const c = createConnector(http, 'fv', { url: peer.url, tls: { cert: tls.client.cert, key: tls.client.key } });
    const error = (await c.deliver(testDelivery([bufferDocument('x', Buffer.from('x'))]), ctx()).catch((e: unknown) => e)) as ConnectorError;
    expect(error).toMatchObject({ code: 'AUTH_FAILED', retryable: false });
  });

  it('is refused by a target checking HMAC signatures when the secret is wrong', async () => {
    const strict = await new HttpPeer(tls, secret).start();
    const c = createConnector(http, 'fv', { url: strict.url, tls: { ca: tls.caPem, cert: tls.client.cert, key: tls.client.key }, hmac: { secret: 'y'.repeat(40) } });
    const error = (await c.deliver(testDelivery([bufferDocument('x', Buffer.from('x'))]), ctx()).catch((e: unknown) => e)) as ConnectorError;
    expect(error).toMatchObject({ code: 'AUTH_FAILED', retryable: false });
    await strict.stop();
  });

  it('rejects bad configuration with one line per field', () => {
    let lines: string[] = [];
    try {
      createConnector(http, 'fv', { url: 'ftp://x', format: 'xml', timeoutMs: -1, tls: { cert: 'c.pem' }, hmac: { secret: 'short' } });
    } catch (error) {
      lines = (error as Error).message.split('\n').slice(1).map((l) => l.trim());
    }
    expect(lines).toEqual([
      expect.stringMatching(/^connectors\.fv\.url: /),
      expect.stringMatching(/^connectors\.fv\.format: /),
      expect.stringMatching(/^connectors\.fv\.timeoutMs: /),
      'connectors.fv.tls: cert and key must be given together',
      'connectors.fv.hmac.secret: must have at least 32 characters',
    ]);
  });
});
