import { FEEDBACK_CODES, type FeedbackCode } from './feedback-codes.js';

/**
 * Every error the OSCI package raises. `code` is the OSCI feedback code the protocol answers with;
 * `reason` is a stable, more specific machine-readable cause (documented in docs/errors.md).
 */
export class OsciError extends Error {
  override readonly name = 'OsciError';
  readonly code: FeedbackCode;
  readonly reason: OsciErrorReason;
  /** The standard German feedback text for `code` (what goes into `osci:Entry`/fault strings). */
  readonly germanText: string;
  /** Which protocol layer failed; lets a recipient tell transport rejections from content problems. */
  readonly layer: OsciLayer;
  /**
   * The parsed order envelope, when the failure came after it was decrypted and parsed (e.g. an invalid signature):
   * a passive recipient needs it to answer with a signed response carrying the error code. Typed by `envelopeOf`.
   */
  envelope?: unknown;

  constructor(reason: OsciErrorReason, detail: string, options: { cause?: unknown } = {}) {
    const spec = OSCI_ERROR_REASONS[reason];
    super(`${FEEDBACK_CODES[spec.code].en}: ${detail}`, options.cause === undefined ? {} : { cause: options.cause });
    this.code = spec.code;
    this.reason = reason;
    this.layer = spec.layer;
    this.germanText = FEEDBACK_CODES[spec.code].de;
  }
}

export type OsciLayer = 'input' | 'mime' | 'transport' | 'envelope' | 'signature' | 'content' | 'certificate' | 'dialog' | 'build';

interface ReasonSpec {
  readonly code: FeedbackCode;
  readonly layer: OsciLayer;
  /** What it means and what an operator does about it (rendered into docs/errors.md). */
  readonly doc: string;
}

/** The one registry of error reasons. docs/errors.md has one row per entry (a test enforces it). */
export const OSCI_ERROR_REASONS = {
  INPUT_TOO_LARGE: {
    code: '9100',
    layer: 'input',
    doc: 'The message or one of its parts exceeds a configured size limit. Raise the limit only if the sender is trusted to send such sizes.',
  },
  XML_FORBIDDEN_CONSTRUCT: {
    code: '9100',
    layer: 'input',
    doc: 'The XML contains a DOCTYPE, an entity declaration or a processing instruction other than the XML declaration. Never accepted (XXE/entity expansion).',
  },
  XML_MALFORMED: { code: '9100', layer: 'input', doc: 'An XML part is not well-formed. The sender produced a broken message.' },
  MIME_MALFORMED: { code: '9100', layer: 'mime', doc: 'The MIME multipart framing is broken (missing boundary, headers, closing delimiter).' },
  MIME_MISSING_PART: { code: '9100', layer: 'mime', doc: 'A MIME part that the envelope requires (e.g. <osci@message>) is missing.' },
  MIME_UNSUPPORTED_ENCODING: { code: '9100', layer: 'mime', doc: 'A part uses a charset or Content-Transfer-Encoding OSCI does not allow.' },
  ENVELOPE_INVALID: { code: '9100', layer: 'envelope', doc: 'The SOAP envelope does not have the structure its message type requires.' },
  ENVELOPE_UNKNOWN_TYPE: { code: '9100', layer: 'envelope', doc: 'The SOAP envelope carries no order or response element this implementation knows.' },
  ENVELOPE_DUPLICATE_ID: { code: '9100', layer: 'envelope', doc: 'Two elements share one Id attribute (a signature-wrapping pattern). Always rejected.' },
  TRANSPORT_NO_KEY: {
    code: '9200',
    layer: 'transport',
    doc: "The message is transport-encrypted for a certificate whose private key is not configured. Check that the sender uses the tenant's current cipher certificate.",
  },
  TRANSPORT_DECRYPT_FAILED: {
    code: '9202',
    layer: 'transport',
    doc: 'The transport layer could not be decrypted (bad key transport, GCM tag mismatch, truncated cipher part).',
  },
  TRANSPORT_CIPHER_PART_MISSING: {
    code: '9202',
    layer: 'transport',
    doc: 'The EncryptedData references a MIME part (cid:osci_enc) that is not in the message.',
  },
  ALGORITHM_UNSUPPORTED: { code: '9202', layer: 'transport', doc: 'An encryption algorithm the implementation does not support was used.' },
  ALGORITHM_LEGACY_REFUSED: {
    code: '9202',
    layer: 'transport',
    doc: 'A deprecated algorithm (AES-CBC, 3DES, RSA PKCS#1 v1.5) was used and legacy decryption is not enabled (`allowLegacyAlgorithms`).',
  },
  CONTENT_NO_KEY: {
    code: '9202',
    layer: 'content',
    doc: 'Content is encrypted only for readers whose keys are not configured. Transport was accepted; the message is quarantined.',
  },
  CONTENT_DECRYPT_FAILED: { code: '9202', layer: 'content', doc: 'A content-layer EncryptedData or attachment could not be decrypted.' },
  CONTENT_INVALID: { code: '9100', layer: 'content', doc: 'A decrypted ContentContainer or Content element has an invalid structure.' },
  CONTENT_ATTACHMENT_MISSING: { code: '9601', layer: 'content', doc: 'A Content or EncryptedData refers to a cid: attachment that has no MIME part.' },
  SIGNATURE_MISSING: { code: '9600', layer: 'signature', doc: "A signature required by the recipient's policy is absent." },
  SIGNATURE_INVALID: {
    code: '9601',
    layer: 'signature',
    doc: 'A SignatureValue or reference digest does not verify: the signed data was altered or signed with another key.',
  },
  SIGNATURE_INCOMPLETE: { code: '9602', layer: 'signature', doc: 'Not every element that must be signed is covered by a reference.' },
  SIGNATURE_STRUCTURE: {
    code: '9601',
    layer: 'signature',
    doc: 'A signature is malformed or ambiguous (several SignedInfo, references resolving to zero or several nodes, unsupported transforms).',
  },
  SIGNATURE_ALGORITHM_UNSUPPORTED: {
    code: '9601',
    layer: 'signature',
    doc: 'A signature, digest or canonicalization algorithm outside the OSCI 1.2 set was used.',
  },
  CERTIFICATE_UNTRUSTED: { code: '3707', layer: 'certificate', doc: 'A certificate does not chain to a configured trust anchor.' },
  CERTIFICATE_EXPIRED: { code: '3700', layer: 'certificate', doc: 'A certificate was outside its validity period at verification time.' },
  CERTIFICATE_INVALID: { code: '9700', layer: 'certificate', doc: 'A certificate could not be parsed or its issuer signature is wrong.' },
  CONTROLBLOCK_INVALID: { code: '9400', layer: 'dialog', doc: 'ConversationId, SequenceNumber, Challenge or Response do not match the dialog.' },
  MESSAGE_ID_MISSING: { code: '9800', layer: 'envelope', doc: 'A delivery arrived without MessageId.' },
  BUILD_INVALID_INPUT: { code: '9000', layer: 'build', doc: 'A message could not be built from the given parameters (programming or configuration error).' },
  KEYSTORE_INVALID: { code: '9000', layer: 'build', doc: 'A PKCS#12 file could not be read (wrong passphrase, unsupported format, no key or certificate).' },
  INTERNAL: { code: '9000', layer: 'build', doc: 'An unexpected internal error. Report it with the message id.' },
} as const satisfies Record<string, ReasonSpec>;

export type OsciErrorReason = keyof typeof OSCI_ERROR_REASONS;

export function isOsciError(value: unknown): value is OsciError {
  return value instanceof OsciError;
}

/**
 * A failure of the caller's attachment sink (`onAttachmentData`, e.g. a full disk): not a verdict on the message.
 * Openers pass it through every layer unchanged and rethrow the sink's own error to their caller.
 */
export class AttachmentSinkFailure extends Error {
  override readonly name = 'AttachmentSinkFailure';
}

/** Calls the sink; its errors become AttachmentSinkFailure so no layer mistakes them for the message's. */
export function callSink(sink: ((refId: string, chunk: Buffer) => void) | undefined, refId: string, chunk: Buffer): void {
  if (!sink) return;
  try {
    sink(refId, chunk);
  } catch (error) {
    throw new AttachmentSinkFailure('the attachment sink failed', { cause: error });
  }
}

/** Rethrows an AttachmentSinkFailure (inside a catch that would otherwise record the error as the message's). */
export function passSinkFailure(error: unknown): void {
  if (error instanceof AttachmentSinkFailure) throw error;
}

/** At an opener's boundary: the sink's own error instead of the wrapper. */
export function unwrapSinkFailure(error: unknown): unknown {
  return error instanceof AttachmentSinkFailure ? error.cause : error;
}
