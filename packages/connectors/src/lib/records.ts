import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeliveredReceipt } from '../contract/delivery.js';
import { writeSmallFileAtomically } from './fs-atomic.js';

/** File name of the record kept for an idempotency key (its SHA-256, so keys never shape paths). */
export function recordFileName(idempotencyKey: string): string {
  return `${createHash('sha256').update(idempotencyKey).digest('hex')}.json`;
}

export function serializeReceipt(receipt: DeliveredReceipt): string {
  return JSON.stringify({ ...receipt, at: receipt.at.toISOString() });
}

export function parseReceipt(text: string): DeliveredReceipt {
  const raw = JSON.parse(text) as DeliveredReceipt & { at: string };
  return { ...raw, at: new Date(raw.at) };
}

/**
 * Local records of delivered idempotency keys, for targets that cannot tell us whether they already hold a delivery.
 * Written atomically and durably after the target confirmed.
 */
export class LocalDeliveryRecords {
  constructor(private readonly dir: string) {}

  async get(idempotencyKey: string): Promise<DeliveredReceipt | undefined> {
    try {
      return parseReceipt(await readFile(join(this.dir, recordFileName(idempotencyKey)), 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  put(idempotencyKey: string, receipt: DeliveredReceipt): Promise<void> {
    return writeSmallFileAtomically(join(this.dir, recordFileName(idempotencyKey)), serializeReceipt(receipt));
  }
}
