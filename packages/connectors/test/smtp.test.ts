import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smtp } from '../src/smtp/index.js';
import { createConnector } from '../src/contract/options.js';
import type { ConnectorError } from '../src/contract/errors.js';
import { defineConnectorContract, bufferDocument, generatedDocument, testDelivery } from '../src/testing/index.js';
import { createTestTls } from './support/tls.js';
import { SmtpPeer } from './support/smtp-peer.js';

const tls = createTestTls();

async function setup(extra: object = {}) {
  const peer = await new SmtpPeer(tls).start();
  const stateDir = await mkdtemp(join(tmpdir(), 'efa-smtp-state-'));
  const connector = createConnector(smtp, 'poststelle', {
    host: '127.0.0.1',
    port: peer.port,
    auth: { user: peer.user, pass: peer.pass },
    tls: { ca: tls.caPem, servername: 'localhost' },
    from: 'efa-gateway@musterstadt.de',
    to: ['poststelle@musterstadt.de'],
    stateDir,
    maxMessageBytes: 200 * 1024 * 1024,
    ...extra,
  });
  return { peer, stateDir, connector };
}

defineConnectorContract('smtp (STARTTLS, AUTH)', async () => {
  const { peer, stateDir, connector } = await setup();
  return {
    connector,
    peer: {
      snapshot: () => peer.snapshot(),
      breakTemporarily: () => peer.pause(),
      breakPermanently: async () => void (peer.rejecting = true),
      restore: async () => {
        if (peer.rejecting) peer.rejecting = false;
        else await peer.resume();
      },
    },
    cleanup: async () => {
      await peer.stop();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
});

describe('smtp specifics', () => {
  let env: Awaited<ReturnType<typeof setup>>;
  const ctx = () => ({ signal: new AbortController().signal, attempt: 1 });
  beforeAll(async () => {
    env = await setup({ subject: 'EfA: {subject} ({messageId})' });
  });
  afterAll(async () => {
    await env.peer.stop();
    await rm(env.stateDir, { recursive: true, force: true });
  });

  it('sends one mail with the documents attached, a deterministic Message-ID and the configured subject', async () => {
    const doc = bufferDocument('gewerbeanmeldung.pdf', Buffer.from('%PDF-1.7 …'), 'application/pdf');
    const delivery = testDelivery([doc], { subject: 'Gewerbeanmeldung Müller' });
    const receipt = await env.connector.deliver(delivery, ctx());
    const mail = env.peer.messages.at(-1)!;
    expect(mail.subject).toBe(`EfA: Gewerbeanmeldung Müller (${delivery.messageId})`);
    expect(mail.to).toEqual(['poststelle@musterstadt.de']);
    expect(mail.messageId).toBe(receipt.reference.smtpMessageId);
    expect(String(receipt.reference.smtpResponse)).toMatch(/^250/);
    expect(mail.headers.get('x-efa-message-id')).toBe(delivery.messageId);
    expect((await env.peer.snapshot()).filter((i) => i.sha256 === doc.sha256)).toHaveLength(1);
  });

  it('refuses deliveries larger than maxMessageBytes permanently', async () => {
    const small = createConnector(smtp, 'p', { host: '127.0.0.1', port: env.peer.port, from: 'a@b.de', to: ['c@d.de'], stateDir: env.stateDir, maxMessageBytes: 1024 * 1024 });
    const error = (await small.deliver(testDelivery([generatedDocument('gross.bin', 2 * 1024 * 1024)]), ctx()).catch((e: unknown) => e)) as ConnectorError;
    expect(error).toMatchObject({ code: 'CONTENT_INVALID', retryable: false });
  });

  it('fails permanently on wrong credentials and on an untrusted server certificate', async () => {
    const wrongPass = createConnector(smtp, 'p', { host: '127.0.0.1', port: env.peer.port, auth: { user: 'efa', pass: 'nope' }, tls: { ca: tls.caPem, servername: 'localhost' }, from: 'a@b.de', to: ['c@d.de'], stateDir: env.stateDir });
    expect(await wrongPass.deliver(testDelivery([bufferDocument('a', Buffer.from('a'))]), ctx()).catch((e: unknown) => e)).toMatchObject({ code: 'AUTH_FAILED', retryable: false });
    const untrusted = createConnector(smtp, 'p', { host: '127.0.0.1', port: env.peer.port, auth: { user: 'efa', pass: 'secret-password' }, from: 'a@b.de', to: ['c@d.de'], stateDir: env.stateDir });
    expect(await untrusted.deliver(testDelivery([bufferDocument('a', Buffer.from('a'))]), ctx()).catch((e: unknown) => e)).toMatchObject({ code: 'AUTH_FAILED', retryable: false });
  });

  it('rejects bad configuration with one line per field', () => {
    let lines: string[] = [];
    try {
      createConnector(smtp, 'p', { host: 'mail', security: 'ssl', from: 'nobody', to: [], stateDir: 'state' });
    } catch (error) {
      lines = (error as Error).message.split('\n').slice(1).map((l) => l.trim());
    }
    expect(lines).toEqual([
      expect.stringMatching(/^connectors\.p\.security: /),
      'connectors.p.from: must be an e-mail address',
      'connectors.p.to: needs at least one recipient',
      'connectors.p.stateDir: must be an absolute path',
    ]);
  });
});
