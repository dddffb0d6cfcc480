import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Connector } from '../contract/connector.js';
import type { Delivery, DeliveryContext, DeliveredReceipt, HealthResult } from '../contract/delivery.js';
import { ConnectorError, fromSystemError } from '../contract/errors.js';
import { tempName, writeFileDurably } from '../lib/fs-atomic.js';
import { keyTag, safeSegment } from '../lib/naming.js';
import { LocalDeliveryRecords } from '../lib/records.js';
import { throwIfAborted } from '../lib/streams.js';
import type { __Name__Options } from './options.js';

/**
 * Step 2: the connector. This template writes each delivery as a folder into `directory`; replace the body of
 * `deliver` with your target's API and keep the four rules the contract suite checks:
 *  1. idempotent: the same `idempotencyKey` must never produce a second copy at the target;
 *  2. atomic: the target never shows half of a delivery (upload under a temporary name, then commit);
 *  3. classified errors: throw ConnectorError with a code (retryable or permanent), never a bare Error;
 *  4. cancellable: stop when `context.signal` aborts, clean up, throw CANCELLED.
 */
export class __Name__Connector implements Connector {
  readonly type = '__name__';
  readonly #records: LocalDeliveryRecords;

  constructor(
    readonly name: string,
    private readonly options: __Name__Options,
  ) {
    this.#records = new LocalDeliveryRecords(join(options.directory, '.records'));
  }

  async deliver(delivery: Delivery, context: DeliveryContext): Promise<DeliveredReceipt> {
    const what = `__name__ ${this.name}`;
    throwIfAborted(context.signal, what);
    try {
      const previous = await this.#records.get(delivery.idempotencyKey);
      if (previous) return { ...previous, duplicate: true };
      if (!(await stat(this.options.directory)).isDirectory()) throw new ConnectorError('TARGET_NOT_WRITABLE', `${what}: not a directory`);
      const final = join(this.options.directory, `${safeSegment(delivery.messageId, 'messageId')}_${keyTag(delivery.idempotencyKey)}`);
      const tmp = tempName(final);
      await mkdir(tmp);
      try {
        for (const doc of delivery.documents) await writeFileDurably(join(tmp, safeSegment(doc.name, 'document name')), doc.open(), 0o640, context.signal);
        throwIfAborted(context.signal, what);
        await rename(tmp, final);
      } catch (error) {
        await rm(tmp, { recursive: true, force: true });
        throw error;
      }
      const receipt: DeliveredReceipt = { status: 'delivered', target: `__name__:${this.name}`, at: new Date(), reference: { path: final }, duplicate: false };
      await this.#records.put(delivery.idempotencyKey, receipt);
      return receipt;
    } catch (error) {
      throw fromSystemError(error, what);
    }
  }

  async check(): Promise<HealthResult> {
    try {
      return (await stat(this.options.directory)).isDirectory() ? { ok: true, detail: 'reachable' } : { ok: false, detail: 'not a directory' };
    } catch (error) {
      return { ok: false, detail: (error as Error).message };
    }
  }

  async close(): Promise<void> {}
}
