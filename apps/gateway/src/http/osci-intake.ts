import { rm } from 'node:fs/promises';
import type { Request, Response } from 'express';
import { buildSoapFault, type FeedbackCode } from '@efa-gateway/osci';
import type { Tenant } from '../config/load.js';
import type { Logger } from '../ops/logger.js';
import type { GatewayMetrics } from '../ops/metrics.js';
import type { Queues } from '../pipeline/queues.js';
import type { MessageRecord } from '../spool/record.js';
import { BodyTooLargeError, type Spool } from '../spool/spool.js';
import type { OpenPool } from './open-pool.js';
import { EarlyOpener } from './early-open.js';
import { openTaskMemory, STREAM_OPEN_FROM_BYTES, type OpenOutcome } from './open-task.js';
import type { MemoryBudget } from '../ops/memory-budget.js';

export interface IntakeDeps {
  readonly spool: Spool;
  readonly queues: Queues | undefined;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  readonly maxMessageBytes: number;
  /** Opens, verifies and answers (worker threads); its context opens large messages while they arrive. */
  readonly opener: Pick<OpenPool, 'open'> & Partial<Pick<OpenPool, 'context'>>;
  readonly memory: MemoryBudget;
}

/**
 * POST handler of one tenant: body streamed to the spool, message opened and verified (on a worker thread), stored
 * durably (fsync'd) and only then answered — with a signed, encrypted response, or an OSCI SOAP fault. Always HTTP 200, as reference
 * clients expect.
 */
export function osciIntake(tenant: Tenant, deps: IntakeDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const started = performance.now();
    const id = deps.spool.newId();
    const log = deps.logger.child({ id, tenant: tenant.id, stage: 'receive' });
    const send = (body: Buffer) => {
      res.status(200).set('Content-Type', 'Multipart/Related; type=text/xml').send(body);
      deps.metrics.stageDuration.observe({ stage: 'answer' }, (performance.now() - started) / 1000);
    };
    const fault = (code: FeedbackCode) => {
      deps.metrics.rejected.inc({ tenant: tenant.id, code });
      deps.metrics.received.inc({ tenant: tenant.id, outcome: 'rejected' });
      send(buildSoapFault(code));
    };

    // A large message (by its Content-Length) is opened on the event loop while it arrives (EarlyOpener); a smaller
    // one is kept in memory while it arrives and handed to the pool with its last byte. Either way the opening runs
    // while the body is flushed to disk, and the memory it holds is reserved first. A body of unknown length is
    // opened on the pool from the spool once stored.
    const sealed = deps.spool.sealPath(id);
    const declared = Number(req.headers['content-length']);
    const opensEarly = declared > 0 && declared <= deps.maxMessageBytes;
    let early: EarlyOpener | undefined;
    let arriving: Buffer[] | undefined;
    let releaseMemory: (() => void) | undefined;
    if (opensEarly && declared < STREAM_OPEN_FROM_BYTES) {
      // Held as long as the sender takes: only within the memory budget (counted whatever its size), else from disk.
      releaseMemory = deps.memory.tryReserve(openTaskMemory(declared));
      if (releaseMemory) arriving = [];
    } else if (opensEarly && deps.opener.context) {
      releaseMemory = await deps.memory.reserve(openTaskMemory(declared));
      try {
        early = new EarlyOpener(tenant, deps.opener.context, id, sealed);
      } catch (error) {
        log.warn({ err: errorSummary(error) }, 'cannot open while receiving: opening after the body is stored');
      }
    }
    const collect = arriving && ((chunk: Buffer) => void arriving?.push(chunk));

    let incoming: { path: string; size: number; sha256: string };
    let concluding: Promise<OpenOutcome> | undefined;
    try {
      let bodyRead = false;
      let signalRead = () => {};
      const lastByte = new Promise<void>((resolve) => (signalRead = resolve));
      const receiving = deps.spool.receive(id, req, deps.maxMessageBytes, early?.tap ?? collect, () => {
        bodyRead = true;
        signalRead();
      });
      if (early || arriving) {
        // Conclude (verify, seal, sign the answer) as soon as the last byte was seen, while the body is flushed to
        // disk; the answer still waits for both.
        await Promise.race([lastByte, receiving.then(noop, noop)]);
        if (bodyRead && early?.usable) concluding = early.conclude();
        else if (bodyRead && arriving) {
          const bytes = Buffer.concat(arriving);
          arriving = undefined;
          concluding = deps.opener.open({ id, tenant: tenant.id, path: deps.spool.incomingPath(id), size: bytes.length, sealTo: sealed, bytes });
        }
        concluding?.catch(noop); // awaited below; a failed receive discards it
      }
      incoming = await receiving;
    } catch (error) {
      if (concluding) await concluding.then(noop, noop);
      early?.abandon();
      await rm(sealed, { force: true }); // content an opening from memory sealed meanwhile
      releaseMemory?.();
      if (error instanceof BodyTooLargeError) {
        log.warn({ code: '9100' }, 'body exceeds the size limit');
        return fault('9100');
      }
      log.error({ err: errorSummary(error) }, 'spool write failed');
      return fault('9000');
    }

    const base: MessageRecord = {
      id,
      channel: 'osci',
      tenant: tenant.id,
      receivedAt: new Date().toISOString(),
      size: incoming.size,
      sha256: incoming.sha256,
      state: 'accepted',
      metadata: {},
      deliveries: {},
    };
    let sealedMoved = false;
    releaseMemory ??= await deps.memory.reserve(openTaskMemory(incoming.size));
    try {
      let outcome: OpenOutcome;
      try {
        outcome = early?.usable
          ? await (concluding ?? early.conclude())
          : await (concluding ?? deps.opener.open({ id, tenant: tenant.id, path: incoming.path, size: incoming.size, sealTo: sealed }));
      } catch (error) {
        // Not a verdict on the message (e.g. the task queue is full): nothing stored, the sender tries again.
        log.error({ err: errorSummary(error) }, 'opening failed');
        await rm(incoming.path, { force: true });
        return fault('9000');
      }
      await handle(outcome);
    } finally {
      releaseMemory();
      // Moved into the message directory when accepted; otherwise it may lie here (or was never written).
      if (!sealedMoved) await rm(sealed, { force: true });
    }

    async function handle(outcome: OpenOutcome): Promise<void> {
      if (outcome.kind === 'rejected') {
        const record: MessageRecord = {
          ...base,
          state: 'rejected',
          error: outcome.error,
          ...(outcome.messageId ? { messageId: outcome.messageId } : {}),
          ...(outcome.orderType ? { orderType: outcome.orderType } : {}),
          answer: { kind: outcome.answerKind, code: outcome.error.code },
        };
        log.warn({ code: outcome.error.code, reason: outcome.error.reason, messageId: record.messageId }, 'message rejected');
        await keep(deps.spool, incoming.path, record, log);
        deps.metrics.rejected.inc({ tenant: tenant.id, code: outcome.error.code });
        deps.metrics.received.inc({ tenant: tenant.id, outcome: 'rejected' });
        return send(Buffer.from(outcome.answer.buffer, outcome.answer.byteOffset, outcome.answer.byteLength));
      }
      if (outcome.kind === 'unsupported') {
        await keep(deps.spool, incoming.path, { ...base, state: 'rejected', orderType: outcome.orderType, answer: { kind: 'fault', code: '9300' } }, log);
        return fault('9300');
      }
      if (outcome.kind === 'no-message-id') {
        await keep(deps.spool, incoming.path, { ...base, state: 'rejected', orderType: outcome.orderType, answer: { kind: 'response', code: '9800' } }, log);
        deps.metrics.rejected.inc({ tenant: tenant.id, code: '9800' });
        return send(Buffer.from(outcome.answer.buffer, outcome.answer.byteOffset, outcome.answer.byteLength));
      }

      const { messageId } = outcome;
      const answer = Buffer.from(outcome.answer.buffer, outcome.answer.byteOffset, outcome.answer.byteLength);
      // Idempotency: a repeated MessageId gets the same positive answer and creates nothing new. The claim is
      // exclusive, so two processes receiving the same MessageId at once store it once.
      // The claim becomes durable together with the stored message (one fsync round in accept).
      const owner = await deps.spool.claim(tenant.id, messageId, id, { deferSync: true }).catch(() => undefined);
      if (owner === undefined) {
        log.error({ messageId }, 'could not claim the MessageId');
        await rm(incoming.path, { force: true });
        return fault('9000');
      }
      const existing = owner === id ? undefined : owner;
      if (existing) {
        await rm(incoming.path, { force: true });
        await deps.spool.event(existing, { stage: 'receive', event: 'duplicate-received', detail: `answered again, spool id ${id} discarded` }).catch(() => {});
        log.info({ messageId, existing }, 'duplicate delivery answered again');
        deps.metrics.received.inc({ tenant: tenant.id, outcome: 'duplicate' });
        return send(answer);
      }

      const record: MessageRecord = {
        ...base,
        messageId,
        orderType: outcome.orderType,
        ...(outcome.subject !== undefined ? { subject: outcome.subject } : {}),
        verification: outcome.verification,
        metadata: outcome.metadata,
      };
      try {
        if (outcome.contentError) {
          // Transport and order signature are fine: acknowledge (the intermediary did its job) and quarantine.
          const e = outcome.contentError;
          record.state = 'quarantined';
          record.error = e;
          record.answer = { kind: 'response', code: '0800' };
          await deps.spool.quarantine(incoming.path, record, {
            claim: { tenant: tenant.id, messageId },
            events: [{ stage: 'verify', event: 'quarantined', code: e.code, detail: e.reason }],
          });
          log.warn({ messageId, code: e.code, reason: e.reason }, 'content layer failed: quarantined');
          deps.metrics.received.inc({ tenant: tenant.id, outcome: 'quarantined' });
          return send(answer);
        }
        record.answer = { kind: 'response', code: '0800' };
        await deps.spool.accept(
          incoming.path,
          record,
          { sealedFile: sealed },
          {
            claim: { tenant: tenant.id, messageId },
            events: [
              { stage: 'receive', event: 'received', detail: `${outcome.orderType}, ${incoming.size} bytes` },
              { stage: 'verify', event: 'verified', detail: outcome.signatures },
            ],
          },
        );
        sealedMoved = true;
      } catch (error) {
        log.error({ err: errorSummary(error), messageId }, 'could not store the message durably');
        await deps.spool.release(tenant.id, messageId, id).catch(() => {});
        return fault('9000');
      }
      // Stored durably: answered at once. The queue is not the source of truth — the job is added after the answer
      // (a Redis round trip less in the sender's wait); if that fails or the process dies first, the reconciler
      // enqueues the message from the spool (its state stays `accepted` until the process stage picks it up).
      log.info({ messageId, orderType: outcome.orderType, size: incoming.size }, 'message accepted');
      deps.metrics.received.inc({ tenant: tenant.id, outcome: 'accepted' });
      send(answer);
      try {
        if (deps.queues) await deps.queues.enqueue(id);
      } catch (error) {
        log.warn({ messageId, err: errorSummary(error) }, 'queue unavailable: stored, the reconciler enqueues it later');
      }
    }
  };
}

async function keep(spool: Spool, incoming: string, record: MessageRecord, log: Logger): Promise<void> {
  try {
    await spool.quarantine(incoming, record, {
      events: [{ stage: 'verify', event: 'rejected', code: record.answer?.code ?? record.error?.code ?? '', detail: record.error?.reason ?? '' }],
    });
  } catch (error) {
    log.error({ err: errorSummary(error) }, 'could not keep the rejected message');
  }
}

function noop(): void {}

export function errorSummary(error: unknown): { name: string; message: string; code?: string } {
  const e = error as { name?: string; message?: string; code?: string };
  return { name: e?.name ?? 'Error', message: e?.message ?? String(error), ...(e?.code ? { code: String(e.code) } : {}) };
}
