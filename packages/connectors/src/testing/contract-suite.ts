import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../contract/connector.js';
import { ConnectorError } from '../contract/errors.js';
import { bufferDocument, generatedDocument, testDelivery } from './documents.js';

/** What a connector's real peer shows: the items a reader at the target can see right now. */
export interface PeerItem {
  /** Name under which the document is visible (contains the document's name). */
  readonly name: string;
  readonly size: number;
  readonly sha256: string;
}

export interface ContractPeer {
  /** Every item a reader of the target can see now, complete or not. */
  snapshot(): Promise<PeerItem[]>;
  /** The target becomes unavailable or unwritable (a retryable condition) until `restore`. */
  breakTemporarily(): Promise<void>;
  restore(): Promise<void>;
  /** The target starts rejecting deliveries permanently (e.g. HTTP 422, SMTP 550), if it can; until `restore`. */
  breakPermanently?(): Promise<void>;
}

export interface ContractSetup {
  readonly connector: Connector;
  readonly peer: ContractPeer;
  cleanup(): Promise<void>;
}

export interface ContractOptions {
  /** Size of the large streamed attachment. @defaultValue 100 MiB */
  readonly largeBytes?: number;
  /** Allowed growth of heap + array buffers while the large attachment passes. @defaultValue 64 MiB */
  readonly memoryBudgetBytes?: number;
}

const context = () => ({ signal: new AbortController().signal, attempt: 1 });

async function deliveredCount(peer: ContractPeer, name: string, sha256: string): Promise<number> {
  return (await peer.snapshot()).filter((i) => i.name.includes(name) && i.sha256 === sha256).length;
}

/**
 * The contract every connector must pass, run against its real peer. Call it from a connector's test file:
 * `defineConnectorContract('hotfolder', async () => ({ connector, peer, cleanup }))`.
 */
export function defineConnectorContract(label: string, setup: () => Promise<ContractSetup>, options: ContractOptions = {}): void {
  describe(`connector contract: ${label}`, () => {
    let s: ContractSetup;
    beforeAll(async () => {
      s = await setup();
    }, 120_000);
    afterAll(async () => {
      await s?.connector.close();
      await s?.cleanup();
    }, 60_000);

    it('reports readiness with check()', async () => {
      expect((await s.connector.check()).ok).toBe(true);
    });

    it('delivers every document byte for byte and returns a receipt of what the target confirmed', async () => {
      const primary = bufferDocument('antrag.xml', Buffer.from('<antrag>Köln</antrag>'), 'application/xml');
      const attachment = generatedDocument('anlage.pdf', 300_000, { contentType: 'application/pdf', role: 'attachment' });
      const delivery = testDelivery([primary, attachment]);
      const receipt = await s.connector.deliver(delivery, context());
      expect(receipt.status === 'delivered' || receipt.status === 'awaiting-pickup').toBe(true);
      expect(receipt.duplicate).toBe(false);
      expect(receipt.target).toBe(`${s.connector.type}:${s.connector.name}`);
      expect(Object.keys(receipt.reference).length).toBeGreaterThan(0);
      expect(await deliveredCount(s.peer, 'antrag.xml', primary.sha256)).toBe(1);
      expect(await deliveredCount(s.peer, 'anlage.pdf', attachment.sha256)).toBe(1);
    });

    it('is idempotent: redelivery with the same key leaves exactly one copy at the target', async () => {
      const doc = generatedDocument('bescheid.pdf', 50_000);
      const delivery = testDelivery([doc]);
      const first = await s.connector.deliver(delivery, context());
      const second = await s.connector.deliver({ ...delivery, id: `${delivery.id}-retry` }, { ...context(), attempt: 2 });
      expect(second.duplicate).toBe(true);
      expect(second.reference).toEqual(first.reference);
      expect(await deliveredCount(s.peer, 'bescheid.pdf', doc.sha256)).toBe(1);
    });

    it('never shows a half-written document at the target', async () => {
      const doc = generatedDocument('langsam.bin', 2 * 1024 * 1024, { delayMs: 5 });
      const delivery = testDelivery([doc]);
      let done = false;
      const running = s.connector.deliver(delivery, context()).finally(() => (done = true));
      const seen: string[] = [];
      while (!done) {
        for (const item of await s.peer.snapshot()) if (item.name.includes('langsam.bin') && item.sha256 !== doc.sha256) seen.push(`${item.name} (${item.size} bytes)`);
        await new Promise((r) => setTimeout(r, 15));
      }
      await running;
      expect(seen, 'partial items visible during the delivery').toEqual([]);
      expect(await deliveredCount(s.peer, 'langsam.bin', doc.sha256)).toBe(1);
    });

    it('classifies an unavailable target as retryable and delivers once it is back', async () => {
      const doc = bufferDocument('retry.txt', Buffer.from('retry me'));
      const delivery = testDelivery([doc]);
      await s.peer.breakTemporarily();
      try {
        const error = await s.connector.deliver(delivery, context()).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(ConnectorError);
        expect((error as ConnectorError).retryable).toBe(true);
        expect((await s.connector.check()).ok).toBe(false);
      } finally {
        await s.peer.restore();
      }
      await s.connector.deliver(delivery, { ...context(), attempt: 2 });
      expect(await deliveredCount(s.peer, 'retry.txt', doc.sha256)).toBe(1);
    });

    it('classifies a rejecting target as permanent', async (ctx) => {
      if (!s.peer.breakPermanently) return ctx.skip();
      await s.peer.breakPermanently();
      try {
        const error = await s.connector.deliver(testDelivery([bufferDocument('reject.txt', Buffer.from('no'))]), context()).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(ConnectorError);
        expect((error as ConnectorError).retryable).toBe(false);
      } finally {
        await s.peer.restore();
      }
    });

    it('stops on cancellation with a retryable CANCELLED error, leaves nothing visible, and redelivers cleanly', async () => {
      const doc = generatedDocument('abbruch.bin', 4 * 1024 * 1024, { delayMs: 10 });
      const delivery = testDelivery([doc]);
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('shutdown')), 150);
      const error = await s.connector.deliver(delivery, { signal: controller.signal, attempt: 1 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConnectorError);
      expect((error as ConnectorError).code).toBe('CANCELLED');
      expect((error as ConnectorError).retryable).toBe(true);
      await new Promise((r) => setTimeout(r, 100));
      expect((await s.peer.snapshot()).filter((i) => i.name.includes('abbruch.bin'))).toEqual([]);
      const fast = { ...doc, open: generatedDocument('abbruch.bin', 4 * 1024 * 1024).open };
      await s.connector.deliver({ ...delivery, documents: [fast] }, { ...context(), attempt: 2 });
      expect(await deliveredCount(s.peer, 'abbruch.bin', doc.sha256)).toBe(1);
    });

    it('honours a job timeout given as an AbortSignal', async () => {
      const doc = generatedDocument('zeitlimit.bin', 4 * 1024 * 1024, { delayMs: 10 });
      const error = await s.connector.deliver(testDelivery([doc]), { signal: AbortSignal.timeout(150), attempt: 1 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((error as ConnectorError).code).toBe('CANCELLED');
    });

    it(
      'streams a large attachment with bounded memory',
      async () => {
        const size = options.largeBytes ?? 100 * 1024 * 1024;
        const budget = options.memoryBudgetBytes ?? 64 * 1024 * 1024;
        const doc = generatedDocument('gross.bin', size);
        const usage = () => {
          const m = process.memoryUsage();
          return m.heapUsed + m.arrayBuffers;
        };
        global.gc?.();
        const before = usage();
        let peak = before;
        const sampler = setInterval(() => (peak = Math.max(peak, usage())), 10);
        try {
          await s.connector.deliver(testDelivery([doc]), context());
        } finally {
          clearInterval(sampler);
        }
        expect(peak - before, `memory grew by ${((peak - before) / 1048576).toFixed(1)} MiB`).toBeLessThan(budget);
        expect(await deliveredCount(s.peer, 'gross.bin', doc.sha256)).toBe(1);
      },
      300_000,
    );
  });
}
