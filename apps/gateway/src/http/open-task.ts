import { readFile } from 'node:fs/promises';
import {
  buildResponseToAcceptDelivery,
  buildResponseToAcceptDeliveryAsync,
  buildResponseToProcessDelivery,
  buildResponseToProcessDeliveryAsync,
  buildSoapFault,
  envelopeOf,
  FEEDBACK_CODES,
  identityFromPem,
  isFeedbackCode,
  openMessage,
  openMessageFile,
  OsciError,
  TrustStore,
  type FeedbackCode,
  type OpenedMessage,
  type OsciEnvelope,
  type OsciLimits,
} from '@efa-gateway/osci';
import { X509Certificate } from 'node:crypto';
import type { Tenant } from '../config/load.js';
import { ContentBundleWriter, sealContentToFile, type ContentBundle } from '../spool/content-store.js';
import type { MessageRecord } from '../spool/record.js';
import { messageMetadata, verificationReport } from './report.js';

/**
 * The CPU-bound part of receiving a message — opening and verifying it (two RSA private operations), sealing its
 * content for the spool and building the signed, encrypted answer (a third) — as one task that runs in a worker
 * thread (see OpenPool) or inline. Input and output are plain data: ids, paths and bytes, never a DOM.
 */
export interface OpenTask {
  /** Spool id of the received body. */
  readonly id: string;
  readonly tenant: string;
  /** The received body (fsync'd in `incoming/`). */
  readonly path: string;
  /** Its size in bytes. */
  readonly size: number;
  /**
   * The body itself, when the intake kept it in memory while it arrived (a small message, opened while its file is
   * flushed): opened from here instead of `path`. The task's own copy (it is decrypted in place).
   */
  readonly bytes?: Uint8Array;
  /** Where the sealed content goes (encrypted with the spool key, fsync'd) when the message opens. */
  readonly sealTo: string;
}

export type ErrorSummary = NonNullable<MessageRecord['error']>;

export type OpenOutcome =
  /** Transport, envelope or order signature failed. `answer` is a response with the code where the protocol has one, else a SOAP fault. */
  | {
      readonly kind: 'rejected';
      readonly error: ErrorSummary;
      readonly messageId?: string;
      readonly orderType?: string;
      readonly answer: Uint8Array;
      readonly answerKind: 'response' | 'fault';
    }
  /** Opened, but not an order a passive recipient takes (answered with fault 9300 by the caller). */
  | { readonly kind: 'unsupported'; readonly orderType: string }
  /** An acceptDelivery/processDelivery without MessageId: answered with 9800. */
  | { readonly kind: 'no-message-id'; readonly orderType: string; readonly answer: Uint8Array }
  | {
      readonly kind: 'opened';
      readonly orderType: string;
      readonly messageId: string;
      readonly subject?: string;
      readonly verification: MessageRecord['verification'];
      readonly metadata: Record<string, string>;
      /** Content-layer failure: the message is acknowledged and quarantined. Without one, the content is sealed at `sealTo`. */
      readonly contentError?: ErrorSummary;
      /** One line per signature for the Laufzettel. */
      readonly signatures: string;
      /** The positive answer (0800), also sent again for a repeated MessageId. */
      readonly answer: Uint8Array;
    };

export interface OpenContext {
  readonly tenants: ReadonlyMap<string, Tenant>;
  readonly spoolKey: Buffer;
  readonly allowLegacyAlgorithms: boolean;
  readonly allowUnencryptedTransport: boolean;
  /** The configured body limit (`limits.maxMessageBytes`), also the opener's. */
  readonly maxMessageBytes: number;
  /** The configured bounds of the message's XML documents (`limits.xml`). */
  readonly xmlLimits: Pick<OsciLimits, 'maxXmlBytes' | 'maxXmlDepth' | 'maxXmlNamespaceDeclarations'>;
}

const ACCEPTED_ORDERS = new Set(['acceptDelivery', 'processDelivery']);

/**
 * Messages from this size on are opened while they are read from the spool, in 64 KiB slices, with their attachments
 * sealed as they are decrypted: memory stays bounded whatever their size. Smaller ones are read whole (fewer steps).
 */
export const STREAM_OPEN_FROM_BYTES = 1024 * 1024;

/** Memory an open task holds for a message of `size` bytes (what the intake reserves in the memory budget). */
export function openTaskMemory(size: number): number {
  return size >= STREAM_OPEN_FROM_BYTES ? 4 * 1024 * 1024 : 2 * size;
}

/** The osci names of the configured XML bounds (`limits.xml`). */
export function xmlLimitsOf(xml: {
  readonly maxBytes: number;
  readonly maxDepth: number;
  readonly maxNamespaceDeclarations: number;
}): OpenContext['xmlLimits'] {
  return { maxXmlBytes: xml.maxBytes, maxXmlDepth: xml.maxDepth, maxXmlNamespaceDeclarations: xml.maxNamespaceDeclarations };
}

/** The osci options for opening a message of `tenant`. */
export function openOptionsFor(tenant: Tenant, ctx: OpenContext) {
  return {
    keys: [tenant.cipher],
    trust: tenant.trust,
    allowLegacyAlgorithms: ctx.allowLegacyAlgorithms,
    allowUnencrypted: ctx.allowUnencryptedTransport,
    limits: { maxMessageBytes: ctx.maxMessageBytes, ...ctx.xmlLimits },
    requireTrustedContentSigners: tenant.requireTrustedAuthors,
  };
}

export function tenantOf(ctx: OpenContext, id: string): Tenant {
  const tenant = ctx.tenants.get(id);
  if (!tenant) throw new Error(`unknown tenant ${id}`);
  return tenant;
}

export async function runOpenTask(task: OpenTask, ctx: OpenContext): Promise<OpenOutcome> {
  const tenant = tenantOf(ctx, task.tenant);
  const answer = new EarlyAnswer(tenant);
  const options = { ...openOptionsFor(tenant, ctx), onOrderVerified: answer.start };
  let opened: OpenedMessage;
  let streamed: ContentBundleWriter | undefined;
  try {
    if (task.size >= STREAM_OPEN_FROM_BYTES) {
      const writer = (streamed = new ContentBundleWriter(task.sealTo, ctx.spoolKey, task.id));
      opened = await openMessageFile(task.path, { ...options, onAttachmentData: (refId, chunk) => writer.attachmentData(refId, chunk) });
    } else {
      // `raw` is ours alone: decrypt into it instead of into fresh memory.
      const raw = task.bytes ? Buffer.from(task.bytes.buffer, task.bytes.byteOffset, task.bytes.byteLength) : await readFile(task.path);
      opened = openMessage(raw, { ...options, consumeInput: true });
    }
  } catch (error) {
    streamed?.abort();
    return rejectedOutcome(error, tenant);
  }
  return concludeOpen(opened, tenant, streamed ?? { path: task.sealTo, key: ctx.spoolKey, id: task.id }, answer.pending);
}

/**
 * The positive answer, signed while the content layer is decrypted: as soon as the order is verified (osci's
 * `onOrderVerified`) the answer does not depend on the rest — a content-layer failure is acknowledged with 0800 too and
 * quarantined — so its private-key operation starts on libuv's thread pool, and the answer waits for two RSA
 * operations in a row instead of three.
 */
export class EarlyAnswer {
  #pending: Promise<Buffer> | undefined;

  constructor(private readonly tenant: Tenant) {}

  /** For OpenOptions.onOrderVerified. */
  readonly start = (envelope: OsciEnvelope): void => {
    if (!ACCEPTED_ORDERS.has(envelope.messageType) || envelope.order.messageId === undefined) return;
    const pending = respondAsync(envelope, this.tenant, '0800');
    pending.catch(noop); // awaited by concludeOpen; an opening that fails after this point never asks for it
    this.#pending = pending;
  };

  /** The answer being signed, if the order was verified. */
  get pending(): Promise<Buffer> | undefined {
    return this.#pending;
  }
}

/**
 * The outcome for a message that did not open. A local failure (reading the spool, sealing to a full disk) is not a
 * verdict on the message and is thrown: the caller answers 9000 and the sender tries again. Anything else
 * unexpected is kept for inspection as rejected (INTERNAL).
 */
export function rejectedOutcome(error: unknown, tenant: Tenant): OpenOutcome {
  if ((error as NodeJS.ErrnoException | undefined)?.syscall !== undefined) throw error;
  const e = error instanceof OsciError ? error : new OsciError('INTERNAL', 'opening failed', { cause: error });
  const envelope = envelopeOf(e);
  const response =
    envelope && FEEDBACK_CODES[e.code].level === 'order' && ACCEPTED_ORDERS.has(envelope.messageType) ? respond(envelope, tenant, e.code) : undefined;
  return {
    kind: 'rejected',
    error: summary(e),
    ...(envelope?.order.messageId ? { messageId: envelope.order.messageId } : {}),
    ...(envelope ? { orderType: envelope.messageType } : {}),
    answer: response ?? buildSoapFault(isFeedbackCode(e.code) && FEEDBACK_CODES[e.code].level === 'message' ? e.code : '9000'),
    answerKind: response ? 'response' : 'fault',
  };
}

/**
 * The outcome for an opened message: its content sealed (finishing a writer that took the attachments while they
 * were decrypted, or writing the whole bundle to `path`) and flushed while the answer is signed.
 */
export async function concludeOpen(
  opened: OpenedMessage,
  tenant: Tenant,
  seal: ContentBundleWriter | { readonly path: string; readonly key: Buffer; readonly id: string },
  pendingAnswer?: Promise<Buffer>,
): Promise<OpenOutcome> {
  const envelope = opened.envelope;
  const streamed = seal instanceof ContentBundleWriter ? seal : undefined;
  const positive = ACCEPTED_ORDERS.has(opened.messageType) && opened.messageId !== undefined;
  if (streamed && !(positive && opened.content.ok)) streamed.abort();
  if (!ACCEPTED_ORDERS.has(opened.messageType)) return { kind: 'unsupported', orderType: opened.messageType };
  if (!opened.messageId) return { kind: 'no-message-id', orderType: opened.messageType, answer: respond(envelope, tenant, '9800') };
  // The sealed content is finished at once and flushed to disk while the answer is signed (the RSA work, begun
  // already when the order was verified: see EarlyAnswer).
  const sealing = !opened.content.ok
    ? undefined
    : seal instanceof ContentBundleWriter
      ? finishStreamed(seal, opened)
      : sealContentToFile(seal.path, seal.key, seal.id, bundleOf(opened), { synchronousWrites: true });
  let answer: Buffer;
  try {
    answer = pendingAnswer ? await pendingAnswer : respond(envelope, tenant, '0800');
  } finally {
    await sealing;
  }
  return {
    kind: 'opened',
    orderType: opened.messageType,
    messageId: opened.messageId,
    ...(opened.subject !== undefined ? { subject: opened.subject } : {}),
    verification: verificationReport(opened),
    metadata: messageMetadata(envelope),
    ...(opened.content.ok ? {} : { contentError: summary(opened.content.error) }),
    signatures: signaturesSummary(opened),
    answer,
  };
}

/** The inline contents and the manifest of a message whose attachments were sealed while it was opened. */
function finishStreamed(writer: ContentBundleWriter, opened: OpenedMessage): Promise<void> {
  try {
    const layer = opened.content.ok ? opened.content.layer : { attachments: [] };
    return writer.finish(bundleOf(opened).contents, layer.attachments);
  } catch (error) {
    writer.abort();
    return Promise.reject(error as Error);
  }
}

function respond(envelope: OsciEnvelope, tenant: Tenant, code: FeedbackCode): Buffer {
  const options = responseOptions(envelope, tenant, code);
  const message = envelope.messageType === 'processDelivery' ? buildResponseToProcessDelivery(options) : buildResponseToAcceptDelivery(options);
  return Buffer.concat(message.chunks);
}

/** `respond` with the signature computed on libuv's thread pool. */
async function respondAsync(envelope: OsciEnvelope, tenant: Tenant, code: FeedbackCode): Promise<Buffer> {
  const options = responseOptions(envelope, tenant, code);
  const message = await (envelope.messageType === 'processDelivery'
    ? buildResponseToProcessDeliveryAsync(options)
    : buildResponseToAcceptDeliveryAsync(options));
  return Buffer.concat(message.chunks);
}

function responseOptions(envelope: OsciEnvelope, tenant: Tenant, code: FeedbackCode) {
  return { request: envelope, identity: { signature: tenant.signature, cipherCertificate: tenant.cipher.certificate }, feedback: [code] };
}

function noop(): void {}

function summary(e: OsciError): ErrorSummary {
  return { code: e.code, reason: e.reason, layer: e.layer, message: e.message };
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
  return opened.signatures
    .map(
      (s) => `${s.scope}: ${s.valid ? 'valid' : 'invalid'}, ${s.signer ?? '?'}${s.certificate ? (s.certificate.trusted ? ', trusted' : ', not trusted') : ''}`,
    )
    .join('; ');
}

/** Tenants as plain data for a worker thread: key material stays in this process's memory, it is never written out. */
export interface PortableTenant {
  readonly id: string;
  readonly path: string;
  readonly cipher: { readonly certificateDer: Uint8Array; readonly privateKeyPem: string };
  readonly signature: { readonly certificateDer: Uint8Array; readonly privateKeyPem: string };
  readonly trust: { readonly anchors: Uint8Array[]; readonly intermediates: Uint8Array[] };
  readonly requireTrustedAuthors: boolean;
}

export function portableTenant(t: Tenant): PortableTenant {
  const identity = (k: Tenant['cipher']) => ({
    certificateDer: k.certificateDer,
    privateKeyPem: k.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  });
  return {
    id: t.id,
    path: t.path,
    cipher: identity(t.cipher),
    signature: identity(t.signature),
    trust: { anchors: t.trust.anchors.map((c) => c.raw), intermediates: t.trust.intermediates.map((c) => c.raw) },
    requireTrustedAuthors: t.requireTrustedAuthors,
  };
}

export function tenantFromPortable(p: PortableTenant): Tenant {
  const identity = (k: PortableTenant['cipher']) => identityFromPem(Buffer.from(k.certificateDer), k.privateKeyPem);
  const cert = (der: Uint8Array) => new X509Certificate(Buffer.from(der));
  return {
    id: p.id,
    path: p.path,
    cipher: identity(p.cipher),
    signature: identity(p.signature),
    trust: new TrustStore(p.trust.anchors.map(cert), p.trust.intermediates.map(cert)),
    requireTrustedAuthors: p.requireTrustedAuthors,
  };
}
