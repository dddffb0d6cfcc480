import { rm } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { Connector, Delivery } from '@efa-gateway/connectors';
import { Gateway } from '../src/gateway.js';
import { acceptDelivery } from './messages.js';
import { post, startTestGateway, until } from './support.js';
import pino from 'pino';

/** A pull-style target: stores the delivery and waits for the reader (like an XTA 2 mailbox). */
class MailboxConnector implements Connector {
  readonly type = 'mailbox';
  readonly stored: Delivery[] = [];
  constructor(readonly name: string) {}
  async deliver(delivery: Delivery) {
    this.stored.push(delivery);
    return {
      status: 'awaiting-pickup' as const,
      target: `mailbox:${this.name}`,
      at: new Date(),
      reference: { mailboxId: `mb-${this.stored.length}` },
      duplicate: false,
      expiresAt: new Date(Date.now() + 3_600_000),
    };
  }
  async check() {
    return { ok: true, detail: 'ok' };
  }
  async close() {}
}

describe('pull-style targets: stored, awaiting pickup, completed later', () => {
  it('completes a delivery when the reader confirms pickup and dead-letters one that expires', async () => {
    const base = await startTestGateway({}, { workers: false });
    await base.gateway.stop();
    const mailbox = new MailboxConnector('outbox');
    const runtime = { ...base.gateway.runtime, connectors: new Map<string, Connector>([['outbox', mailbox]]) };
    const gateway = new Gateway(runtime, { logger: pino({ level: 'silent' }), reconcileMs: 500, workers: true });
    const port = await gateway.start();
    try {
      const url = `http://127.0.0.1:${port}/osci/bob`;
      await post(url, acceptDelivery('pull-1'));
      await post(url, acceptDelivery('pull-2'));
      const ids = await Promise.all(['pull-1', 'pull-2'].map(async (m) => (await until('stored', () => gateway.spool.findByMessageId('bob', m)))!));
      for (const id of ids) await until('awaiting pickup', async () => (await gateway.spool.get(id))?.deliveries.outbox?.state === 'awaiting-pickup');
      expect((await gateway.spool.get(ids[0]!))!.state).toBe('processing');

      const confirm = await fetch(`http://127.0.0.1:${port}/api/pickups`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ idempotencyKey: mailbox.stored[0]!.idempotencyKey, status: 'picked-up', reference: { reader: 'fachverfahren-1' } }),
      });
      expect(await confirm.json()).toEqual({ applied: true });
      // Malformed confirmations are refused before anything is looked up or recorded.
      for (const bad of [
        { idempotencyKey: mailbox.stored[1]!.idempotencyKey, status: 'picked-up', at: 'yesterday-ish' },
        { idempotencyKey: mailbox.stored[1]!.idempotencyKey, status: 'picked-up', reference: ['x'] },
        { idempotencyKey: mailbox.stored[1]!.idempotencyKey, status: 'picked-up', reference: { nested: { a: 1 } } },
      ]) {
        const refused = await fetch(`http://127.0.0.1:${port}/api/pickups`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(bad),
        });
        expect(refused.status, JSON.stringify(bad)).toBe(400);
      }
      expect((await gateway.spool.get(ids[1]!))!.deliveries.outbox?.state).toBe('awaiting-pickup');
      const done = (await gateway.spool.get(ids[0]!))!;
      expect(done.state).toBe('delivered');
      expect(done.deliveries.outbox?.receipt?.reference).toMatchObject({ mailboxId: 'mb-1', reader: 'fachverfahren-1' });

      expect(await gateway.sweep(Date.now() + 2 * 3_600_000)).toBe(0); // expiry, no retention removal yet
      const expired = (await gateway.spool.get(ids[1]!))!;
      expect(expired.state).toBe('failed');
      expect(expired.deliveries.outbox?.error?.code).toBe('PICKUP_EXPIRED');
      expect((await gateway.spool.events(ids[1]!)).map((e) => e.event)).toContain('dead-letter');
      expect(await gateway.pickup({ idempotencyKey: 'bob/unknown/outbox', status: 'picked-up', at: new Date() })).toBe(false);
    } finally {
      await gateway.stop();
      await rm(base.dataDir, { recursive: true, force: true });
    }
  });
});
