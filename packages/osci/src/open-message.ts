import { OsciError, passSinkFailure, unwrapSinkFailure } from './lib/errors.js';
import { resolveLimits, type OsciLimits } from './lib/limits.js';
import type { KeyIdentity } from './pki/keystore.js';
import { TrustStore, type CertificateCheck } from './pki/trust.js';
import { openContentLayer, type AttachmentResolver, type OpenedContentLayer } from './content/open-content.js';
import { parseEnvelope, type OsciEnvelope } from './soap/envelope.js';
import { CONTENT_ORDERS, type MessageType } from './soap/message-types.js';
import { findPart } from './mime/parse.js';
import { OSCI_MESSAGE_CID, openTransport, type OpenedTransport, type TransportInfo } from './transport/open-transport.js';
import { verifySignature, type SignatureVerification } from './xmldsig/verify.js';
import { digest } from './xmldsig/algorithms.js';
import { ScratchBuffer } from './lib/scratch.js';

export interface OpenOptions {
  /** Our cipher keys (transport and content layer); the matching one is picked by certificate. */
  readonly keys: readonly KeyIdentity[];
  /** Trust anchors for signer certificates. Without one, certificates are reported as untrusted but not rejected. */
  readonly trust?: TrustStore;
  /** Decrypt AES-CBC, 3DES and RSA PKCS#1 v1.5 (deprecated; never produced). @defaultValue false */
  readonly allowLegacyAlgorithms?: boolean;
  /** Accept a message without transport encryption (test/intranet peers). @defaultValue false */
  readonly allowUnencrypted?: boolean;
  /** Reject orders without an order signature with 9600. @defaultValue true */
  readonly requireOrderSignature?: boolean;
  /** Reject content signatures whose signer does not chain to `trust`. @defaultValue false (reported only) */
  readonly requireTrustedContentSigners?: boolean;
  /** Keep attachment plaintext in memory. @defaultValue true */
  readonly retainAttachments?: boolean;
  /** Receives attachment plaintext slices during the one decryption pass (see ContentOptions.onAttachmentData). */
  readonly onAttachmentData?: (refId: string, chunk: Buffer) => void;
  /**
   * The caller gives up `raw`: the transport plaintext and the attachment plaintext are decrypted into its memory
   * (its contents are undefined afterwards; returned attachment data are views into it). For large messages this
   * saves two fresh copies of the payload. @defaultValue false
   */
  readonly consumeInput?: boolean;
  /**
   * Called once the order is verified (order signature valid and, with `trust`, its signer accepted; or unsigned where
   * allowed), before the content layer is opened: the order's answer no longer depends on the rest. A recipient can
   * start signing its answer here (e.g. `buildResponseToAcceptDeliveryAsync`) while the content layer is decrypted.
   * An exception thrown here fails the opening.
   */
  readonly onOrderVerified?: (envelope: OsciEnvelope) => void;
  /** Clock for certificate validity checks. */
  readonly now?: Date;
  readonly limits?: Partial<OsciLimits>;
}

/** One line of the verification report, shaped like an OSCI `Inspection` of the Laufzettel. */
export interface SignatureReport {
  readonly scope: 'order' | 'content';
  /** Id of the ContentContainer for content signatures. */
  readonly containerId?: string;
  readonly valid: boolean;
  readonly algorithm: string;
  readonly signer: string | undefined;
  readonly mathResult: 'ok' | 'corrupted';
  readonly certificate: CertificateCheck | undefined;
  readonly problems: readonly string[];
}

export type ContentOutcome = { readonly ok: true; readonly layer: OpenedContentLayer } | { readonly ok: false; readonly error: OsciError };

export interface OpenedMessage {
  readonly messageType: MessageType;
  readonly messageId: string | undefined;
  readonly subject: string | undefined;
  readonly transport: TransportInfo;
  readonly envelope: OsciEnvelope;
  readonly orderSignature: SignatureVerification | undefined;
  readonly signatures: readonly SignatureReport[];
  /**
   * The content layer. A content problem (e.g. encrypted only for another reader) does not invalidate the
   * transport/order layer: a passive recipient acknowledges such a message and quarantines it.
   */
  readonly content: ContentOutcome;
}

/**
 * Opens an OSCI message: transport decryption, envelope parsing, order-signature verification (before anything
 * else of the message is trusted), then the content layer. Throws OsciError for transport, envelope and order
 * signature failures; content-layer failures are returned in `content`.
 */
export function openMessage(raw: Buffer, options: OpenOptions): OpenedMessage {
  try {
    return openWithScratch(raw, options);
  } catch (error) {
    throw unwrapSinkFailure(error);
  }
}

function openWithScratch(raw: Buffer, options: OpenOptions): OpenedMessage {
  // The transport plaintext lives only during this synchronous call: it goes into a reused scratch buffer. Nothing
  // returned refers to it (attachments are copied out while they are decrypted).
  if (options.consumeInput) return open(raw, options, Buffer.allocUnsafeSlow);
  let lease: { release(): void } | undefined;
  try {
    return open(raw, options, (bytes) => {
      const l = SCRATCH.acquire(bytes);
      lease = l;
      return l.buffer;
    });
  } finally {
    lease?.release();
  }
}

const SCRATCH = new ScratchBuffer();

function open(raw: Buffer, options: OpenOptions, allocate: (bytes: number) => Buffer): OpenedMessage {
  const limits = resolveLimits(options.limits);
  const allowLegacyAlgorithms = options.allowLegacyAlgorithms ?? false;
  const inPlace = options.consumeInput ?? false;
  const transport = openTransport(raw, {
    keys: options.keys,
    allowLegacyAlgorithms,
    allowUnencrypted: options.allowUnencrypted ?? false,
    limits,
    allocate,
    inPlace,
  });
  const envelopePart = findPart(transport.inner, OSCI_MESSAGE_CID);
  if (!envelopePart) throw new OsciError('MIME_MISSING_PART', 'the inner entity has no <osci@message> part');
  const envelope = parseEnvelope(envelopePart.body, limits);
  return completeOpen(envelope, transport, options, {});
}

/** How a streaming opener supplies what it computed while the message arrived. */
export interface StreamedParts {
  /** Digest of a `cid:` part's bytes for the order signature. */
  readonly orderDigest?: (contentId: string, digestMethod: string) => Buffer | undefined;
  readonly resolveAttachment?: AttachmentResolver;
  readonly keyMemo?: Map<string, Buffer>;
}

/** Everything after the envelope was parsed: order signature, then the content layer. */
export function completeOpen(
  envelope: OsciEnvelope,
  transport: Pick<OpenedTransport, 'info' | 'inner'>,
  options: OpenOptions,
  streamed: StreamedParts,
): OpenedMessage {
  const limits = resolveLimits(options.limits);
  try {
    return verifyAndOpenContent(envelope, transport, options, limits, options.allowLegacyAlgorithms ?? false, options.now ?? new Date(), streamed);
  } catch (error) {
    if (error instanceof OsciError) error.envelope = envelope;
    throw error;
  }
}

/** The envelope an OsciError carries when the failure came after the envelope was parsed. */
export function envelopeOf(error: unknown): OsciEnvelope | undefined {
  return error instanceof OsciError ? (error.envelope as OsciEnvelope | undefined) : undefined;
}

function verifyAndOpenContent(
  envelope: OsciEnvelope,
  transport: Pick<OpenedTransport, 'info' | 'inner'>,
  options: OpenOptions,
  limits: OsciLimits,
  allowLegacyAlgorithms: boolean,
  now: Date,
  streamed: StreamedParts,
): OpenedMessage {
  const signatures: SignatureReport[] = [];
  let orderSignature: SignatureVerification | undefined;
  if (envelope.signatureBlock) {
    orderSignature = verifySignature(envelope.signatureBlock.signature, {
      ids: envelope.ids,
      digestCid:
        streamed.orderDigest ??
        ((cid, method) => {
          const part = findPart(transport.inner, cid);
          return part ? digest(method, part.body) : undefined;
        }),
      resolveCertificateElement: (id) => envelope.certificates.find((c) => c.id === id && c.role.startsWith('SignatureCertificate'))?.element,
      maxReferences: limits.maxSignatureReferences,
    });
    const report = signatureReport('order', orderSignature, options.trust, now);
    signatures.push(report);
    if (!orderSignature.valid) throw new OsciError('SIGNATURE_INVALID', `order signature: ${orderSignature.problems.join('; ')}`);
    assertOrderFullySigned(
      envelope,
      orderSignature,
      transport.inner.parts.map((p) => p.contentId),
    );
    if (options.trust && report.certificate) assertCertificateAccepted(report.certificate, 'order signer');
  } else if ((options.requireOrderSignature ?? true) && envelope.messageType !== 'soapFault') {
    throw new OsciError('SIGNATURE_MISSING', `${envelope.messageType} is not signed`);
  }

  options.onOrderVerified?.(envelope);

  let content: ContentOutcome;
  if (CONTENT_ORDERS.has(envelope.messageType) && envelope.contentPackage) {
    try {
      const layer = openContentLayer(envelope, transport.inner, {
        keys: options.keys,
        allowLegacyAlgorithms,
        limits,
        ...(options.retainAttachments !== undefined ? { retainAttachments: options.retainAttachments } : {}),
        ...(options.onAttachmentData ? { onAttachmentData: options.onAttachmentData } : {}),
        // Attachments lie in memory that is ours (the consumed input), or in the scratch buffer (copied out).
        attachmentsInPlace: (options.consumeInput ?? false) && transport.info.encrypted,
        ...(streamed.resolveAttachment ? { resolveAttachment: streamed.resolveAttachment } : {}),
        ...(streamed.keyMemo ? { keyMemo: streamed.keyMemo } : {}),
      });
      for (const container of walkContainers(layer.containers)) {
        for (const sig of container.signatures) {
          const report = signatureReport('content', sig, options.trust, now, container.id);
          signatures.push(report);
          if (!sig.valid) throw new OsciError('SIGNATURE_INVALID', `content signature of ${container.id ?? 'container'}: ${sig.problems.join('; ')}`);
          if (options.requireTrustedContentSigners && options.trust && report.certificate) assertCertificateAccepted(report.certificate, 'content signer');
        }
      }
      content = { ok: true, layer };
    } catch (error) {
      passSinkFailure(error);
      content = { ok: false, error: error instanceof OsciError ? error : new OsciError('INTERNAL', 'content layer failed', { cause: error }) };
    }
  } else content = { ok: true, layer: { containers: [], attachments: [] } };

  return {
    messageType: envelope.messageType,
    messageId: envelope.order.messageId,
    subject: envelope.order.subject,
    transport: transport.info,
    envelope,
    orderSignature,
    signatures,
    content,
  };
}

function* walkContainers(containers: OpenedContentLayer['containers']): Generator<OpenedContentLayer['containers'][number]> {
  for (const c of containers) {
    yield c;
    yield* walkContainers(c.contents.flatMap((x) => (x.container ? [x.container] : [])));
  }
}

/**
 * Signature-wrapping guard: every header block but the signature itself, the Body and every attachment part
 * must be covered by a verified reference that resolves to exactly the element we process.
 */
function assertOrderFullySigned(envelope: OsciEnvelope, sig: SignatureVerification, contentIds: ReadonlyArray<string | undefined>): void {
  const missing: string[] = [];
  const covered = (el: { getAttribute(name: string): string | null }, label: string) => {
    const id = el.getAttribute('Id');
    if (!id || !sig.verifiedIds.has(id) || envelope.ids.get(id) !== el) missing.push(label);
  };
  for (const block of envelope.headerBlocks) {
    if (block === envelope.signatureBlock?.element) continue;
    covered(block, block.tagName);
  }
  covered(envelope.body, 'soap:Body');
  for (const cid of contentIds) if (cid && cid !== OSCI_MESSAGE_CID && !sig.verifiedCids.has(cid)) missing.push(`cid:${cid}`);
  if (missing.length > 0) throw new OsciError('SIGNATURE_INCOMPLETE', `not signed: ${missing.join(', ')}`);
}

function signatureReport(
  scope: 'order' | 'content',
  sig: SignatureVerification,
  trust: TrustStore | undefined,
  now: Date,
  containerId?: string,
): SignatureReport {
  const certificate = sig.signer ? (trust ?? EMPTY_TRUST).check(sig.signer, now) : undefined;
  return {
    scope,
    ...(containerId !== undefined ? { containerId } : {}),
    valid: sig.valid,
    algorithm: sig.algorithm,
    signer: sig.signerName,
    mathResult: sig.valid ? 'ok' : 'corrupted',
    certificate,
    problems: sig.problems,
  };
}

function assertCertificateAccepted(check: CertificateCheck, who: string): void {
  if (!check.trusted) throw new OsciError('CERTIFICATE_UNTRUSTED', `${who} ${check.subject} does not chain to a configured trust anchor`);
  if (!check.timeValid) throw new OsciError('CERTIFICATE_EXPIRED', `${who} ${check.subject} is outside its validity period`);
}

const EMPTY_TRUST = new TrustStore([]);
