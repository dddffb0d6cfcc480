import type { PickupUpdate } from '@efa-gateway/connectors';
import type { Spool } from '../spool/spool.js';

/** Splits the pipeline's idempotency key `tenant/MessageId/connector` (the MessageId may itself contain slashes). */
export function parseIdempotencyKey(key: string): { tenant: string; messageId: string; connector: string } | undefined {
  const first = key.indexOf('/');
  const last = key.lastIndexOf('/');
  if (first <= 0 || last <= first) return undefined;
  return { tenant: key.slice(0, first), messageId: key.slice(first + 1, last), connector: key.slice(last + 1) };
}

/**
 * Completes (picked-up) or dead-letters (expired) a delivery that a pull-style target reported as
 * `awaiting-pickup`. Returns false when no such delivery is waiting.
 */
export async function applyPickup(spool: Spool, update: PickupUpdate): Promise<boolean> {
  const key = parseIdempotencyKey(update.idempotencyKey);
  if (!key) return false;
  const id = await spool.findByMessageId(key.tenant, key.messageId);
  const record = id ? await spool.get(id) : undefined;
  if (!id || record?.deliveries[key.connector]?.state !== 'awaiting-pickup') return false;
  await spool.update(
    id,
    (r) => {
      const d = r.deliveries[key.connector]!;
      if (update.status === 'picked-up') {
        d.state = 'delivered';
        if (d.receipt) d.receipt.reference = { ...d.receipt.reference, ...(update.reference ?? {}), pickedUpAt: update.at.toISOString() };
        delete d.expiresAt;
      } else {
        d.state = 'failed';
        d.error = { code: 'PICKUP_EXPIRED', message: `not picked up by ${update.at.toISOString()}`, retryable: false };
      }
      const states = Object.values(r.deliveries).map((x) => x.state);
      if (states.every((s) => s === 'delivered')) r.state = 'delivered';
      else if (states.includes('failed') && !states.some((s) => s === 'pending' || s === 'awaiting-pickup')) r.state = 'failed';
    },
    [
      {
        stage: 'deliver',
        event: update.status === 'picked-up' ? 'picked-up' : 'dead-letter',
        target: key.connector,
        ...(update.status === 'expired' ? { code: 'PICKUP_EXPIRED' } : {}),
        detail: JSON.stringify(update.reference ?? {}),
      },
    ],
  );
  return true;
}

/** Marks every overdue `awaiting-pickup` delivery as expired. Returns how many. */
export async function expirePickups(spool: Spool, now = new Date()): Promise<number> {
  let expired = 0;
  for (const id of await spool.listOpen()) {
    const record = await spool.get(id);
    if (!record?.messageId) continue;
    for (const [connector, d] of Object.entries(record.deliveries)) {
      if (d.state !== 'awaiting-pickup' || !d.expiresAt || new Date(d.expiresAt) > now) continue;
      if (await applyPickup(spool, { idempotencyKey: `${record.tenant}/${record.messageId}/${connector}`, status: 'expired', at: now })) expired++;
    }
  }
  return expired;
}
