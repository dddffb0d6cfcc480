import { readFile, rm } from 'node:fs/promises';
import type { Request, Response } from 'express';
import {
  buildResponseToAcceptDelivery,
  buildResponseToProcessDelivery,
  buildSoapFault,
  envelopeOf,
  FEEDBACK_CODES,
  isFeedbackCode,
  openMessage,
  OsciError,
  type FeedbackCode,
  type OpenedMessage,
  type OsciEnvelope,
} from '@efa-gateway/osci';
import type { Tenant } from '../config/load.js';
import type { Logger } from '../ops/logger.js';
import type { GatewayMetrics } from '../ops/metrics.js';
import type { Queues } from '../pipeline/queues.js';
import type { ContentBundle } from '../spool/content-store.js';
import type { MessageRecord } from '../spool/record.js';
import { BodyTooLargeError, type Spool } from '../spool/spool.js';
import { messageMetadata, verificationReport } from './report.js';

export interface IntakeDeps {
  readonly spool: Spool;
  readonly queues: Queues | undefined;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  readonly maxMessageBytes: number;
  readonly allowLegacyAlgorithms: boolean;
  readonly allowUnencryptedTransport: boolean;
}

const ACCEPTED_ORDERS = new Set(['acceptDelivery', 'processDelivery']);

/**
 * POST handler of one tenant: body streamed to the spool, message opened and verified, stored durably (fsync'd)
 * and only then answered — with a signed, encrypted response, or an OSCI SOAP fault. Always HTTP 200, as reference
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

    let incoming: { path: string; size: number; sha256: string };
    try {
      incoming = await deps.spool.receive(id, req, deps.maxMessageBytes);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        log.warn({ code: '9100' }, 'body exceeds the size limit');
        return fault('9100');
      }
      log.error({ err: errorSummary(error) }, 'spool write failed');
      return fault('9000');
    }

    const base: MessageRecord = { id, channel: 'osci', tenant: tenant.id, receivedAt: new Date().toISOString(), size: incoming.size, sha256: incoming.sha256, state: 'accepted', metadata: {}, deliveries: {} };
    let opened: OpenedMessage;
    try {
      const raw = await readFile(incoming.path);
      opened = openMessage(raw, {
        keys: [tenant.cipher],
        trust: tenant.trust,
        allowLegacyAlgorithms: deps.allowLegacyAlgorithms,
        allowUnencrypted: deps.allowUnencryptedTransport,
        requireTrustedContentSigners: tenant.requireTrustedAuthors,
      });
    } catch (error) {
      const e = error instanceof OsciError ? error : new OsciError('INTERNAL', 'opening failed', { cause: error });
      const envelope = envelopeOf(e);
      const record: MessageRecord = {
        ...base,
        state: 'rejected',
        error: { code: e.code, reason: e.reason, layer: e.layer, message: e.message },
        ...(envelope?.order.messageId ? { messageId: envelope.order.messageId } : {}),
        ...(envelope ? { orderType: envelope.messageType } : {}),
      };
      log.warn({ code: e.code, reason: e.reason, messageId: record.messageId }, 'message rejected');
      const answer = envelope && FEEDBACK_CODES[e.code].level === 'order' && ACCEPTED_ORDERS.has(envelope.messageType) ? respond(envelope, tenant, e.code) : undefined;
      record.answer = answer ? { kind: 'response', code: e.code } : { kind: 'fault', code: e.code };
      await keep(deps.spool, incoming.path, record, log);
      deps.metrics.rejected.inc({ tenant: tenant.id, code: e.code });
      deps.metrics.received.inc({ tenant: tenant.id, outcome: 'rejected' });
      return send(answer ?? buildSoapFault(isFeedbackCode(e.code) && FEEDBACK_CODES[e.code].level === 'message' ? e.code : '9000'));
    }

    const envelope = opened.envelope;
    if (!ACCEPTED_ORDERS.has(opened.messageType)) {
      await keep(deps.spool, incoming.path, { ...base, state: 'rejected', orderType: opened.messageType, answer: { kind: 'fault', code: '9300' } }, log);
      return fault('9300');
    }
    const messageId = opened.messageId;
    if (!messageId) {
      await keep(deps.spool, incoming.path, { ...base, state: 'rejected', orderType: opened.messageType, answer: { kind: 'response', code: '9800' } }, log);
      deps.metrics.rejected.inc({ tenant: tenant.id, code: '9800' });
      return send(respond(envelope, tenant, '9800'));
    }

    // Idempotency: a repeated MessageId gets the same positive answer and creates nothing new. The claim is
    // exclusive, so two processes receiving the same MessageId at once store it once.
    const owner = await deps.spool.claim(tenant.id, messageId, id).catch(() => undefined);
    if (owner === undefined) {
      log.error({ messageId }, 'could not claim the MessageId');
      return fault('9000');
    }
    const existing = owner === id ? undefined : owner;
    if (existing) {
      await rm(incoming.path, { force: true });
      await deps.spool.event(existing, { stage: 'receive', event: 'duplicate-received', detail: `answered again, spool id ${id} discarded` }).catch(() => {});
      log.info({ messageId, existing }, 'duplicate delivery answered again');
      deps.metrics.received.inc({ tenant: tenant.id, outcome: 'duplicate' });
      return send(respond(envelope, tenant, '0800'));
    }

    const record: MessageRecord = {
      ...base,
      messageId,
      orderType: opened.messageType,
      ...(opened.subject !== undefined ? { subject: opened.subject } : {}),
      verification: verificationReport(opened),
      metadata: messageMetadata(envelope),
    };
    try {
      if (!opened.content.ok) {
        // Transport and order signature are fine: acknowledge (the intermediary did its job) and quarantine.
        record.state = 'quarantined';
        record.error = { code: opened.content.error.code, reason: opened.content.error.reason, layer: opened.content.error.layer, message: opened.content.error.message };
        record.answer = { kind: 'response', code: '0800' };
        await deps.spool.quarantine(incoming.path, record);
        await deps.spool.event(id, { stage: 'verify', event: 'quarantined', code: opened.content.error.code, detail: opened.content.error.reason }, 'quarantine');
        log.warn({ messageId, code: opened.content.error.code, reason: opened.content.error.reason }, 'content layer failed: quarantined');
        deps.metrics.received.inc({ tenant: tenant.id, outcome: 'quarantined' });
        return send(respond(envelope, tenant, '0800'));
      }
      record.answer = { kind: 'response', code: '0800' };
      await deps.spool.accept(incoming.path, record, bundleOf(opened));
      await deps.spool.event(id, [
        { stage: 'receive', event: 'received', detail: `${opened.messageType}, ${incoming.size} bytes` },
        { stage: 'verify', event: 'verified', detail: signaturesSummary(opened) },
      ]);
    } catch (error) {
      log.error({ err: errorSummary(error), messageId }, 'could not store the message durably');
      await deps.spool.release(tenant.id, messageId, id).catch(() => {});
      return fault('9000');
    }
    try {
      // State stays `accepted` until the process stage picks it up; the reconciler re-enqueues it if this fails.
      if (deps.queues) await deps.queues.enqueue(id);
    } catch (error) {
      log.warn({ messageId, err: errorSummary(error) }, 'queue unavailable: stored, the reconciler enqueues it later');
    }
    log.info({ messageId, orderType: opened.messageType, size: incoming.size }, 'message accepted');
    deps.metrics.received.inc({ tenant: tenant.id, outcome: 'accepted' });
    send(respond(envelope, tenant, '0800'));
  };
}

function respond(envelope: OsciEnvelope, tenant: Tenant, code: FeedbackCode): Buffer {
  const identity = { signature: tenant.signature, cipherCertificate: tenant.cipher.certificate };
  const message =
    envelope.messageType === 'processDelivery'
      ? buildResponseToProcessDelivery({ request: envelope, identity, feedback: [code] })
      : buildResponseToAcceptDelivery({ request: envelope, identity, feedback: [code] });
  return Buffer.concat(message.chunks);
}

async function keep(spool: Spool, incoming: string, record: MessageRecord, log: Logger): Promise<void> {
  try {
    await spool.quarantine(incoming, record);
    await spool.event(record.id, { stage: 'verify', event: 'rejected', code: record.answer?.code ?? record.error?.code ?? '', detail: record.error?.reason ?? '' }, 'quarantine');
  } catch (error) {
    log.error({ err: errorSummary(error) }, 'could not keep the rejected message');
  }
}

function bundleOf(opened: OpenedMessage): ContentBundle {
  const layer = opened.content.ok ? opened.content.layer : { containers: [], attachments: [] };
  const contents: ContentBundle['contents'] = [];
  const walk = (containers: typeof layer.containers) => {
    for (const c of containers)
      for (const x of c.contents) {
        if (x.container) walk([x.container]);
        else if ((x.kind === 'base64' || x.kind === 'xml') && x.data) contents.push({ id: x.id, kind: x.kind, data: x.data });
      }
  };
  walk(layer.containers);
  return { contents, attachments: layer.attachments.map((a) => ({ refId: a.refId, contentType: a.contentType, data: a.data ?? Buffer.alloc(0) })) };
}

function signaturesSummary(opened: OpenedMessage): string {
  return opened.signatures.map((s) => `${s.scope}: ${s.valid ? 'valid' : 'invalid'}, ${s.signer ?? '?'}${s.certificate ? (s.certificate.trusted ? ', trusted' : ', not trusted') : ''}`).join('; ');
}

export function errorSummary(error: unknown): { name: string; message: string; code?: string } {
  const e = error as { name?: string; message?: string; code?: string };
  return { name: e?.name ?? 'Error', message: e?.message ?? String(error), ...(e?.code ? { code: String(e.code) } : {}) };
}
