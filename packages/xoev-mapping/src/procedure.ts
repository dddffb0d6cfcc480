/**
 * The procedure interface the gateway pipeline uses. A procedure turns the opened content of one message into the
 * documents a target receives. Pure: the same input gives the same documents (so a message whose mapped output was
 * lost can be mapped again with the same result).
 */
export interface MappingInput {
  readonly messageId: string;
  readonly tenant: string;
  readonly subject: string | undefined;
  readonly receivedAt: Date;
  /** Inline contents (Base64Content or inline XML), in order. */
  readonly contents: ReadonlyArray<{ readonly id: string | undefined; readonly kind: 'base64' | 'xml'; readonly data: Buffer }>;
  readonly attachments: ReadonlyArray<InputAttachment>;
  /** The verification report (Laufzettel) of the message, as JSON-ready data. */
  readonly report: unknown;
  /** Routing metadata such as the XTA service. */
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * An attachment of the message. The gateway reads `data` from its spool when a procedure first uses it: a procedure
 * that only forwards an attachment (a {@link ForwardedAttachment} document) never holds it in memory.
 */
export interface InputAttachment {
  readonly refId: string;
  readonly contentType: string;
  /** Size in bytes (without reading `data`); absent where the caller did not give it. */
  readonly size?: number;
  readonly data: Buffer;
}

/** A document a procedure produced. */
export type MappedDocument = MappedBytes | ForwardedAttachment;

export interface MappedBytes {
  readonly name: string;
  readonly contentType: string;
  readonly role: 'primary' | 'attachment' | 'package';
  readonly data: Buffer;
  readonly attachment?: undefined;
}

/**
 * An input attachment delivered unchanged under `name`. The pipeline streams it from where the message is kept
 * instead of holding it in memory; use it whenever a procedure passes an attachment on as is.
 */
export interface ForwardedAttachment {
  readonly name: string;
  readonly contentType: string;
  readonly role: 'attachment';
  /** `refId` of the input attachment. */
  readonly attachment: string;
  readonly size: number;
  readonly data?: undefined;
}

/** A forwarded input attachment as a document (its size without reading it). */
export function forwardAttachment(attachment: InputAttachment, name = attachment.refId): ForwardedAttachment {
  return { name, contentType: attachment.contentType, role: 'attachment', attachment: attachment.refId, size: attachment.size ?? attachment.data.length };
}

/** The bytes of a document: its own, or those of the input attachment it forwards. */
export function documentBytes(document: MappedDocument, input: Pick<MappingInput, 'attachments'>): Buffer {
  if (document.data) return document.data;
  const attachment = input.attachments.find((a) => a.refId === document.attachment);
  if (!attachment)
    throw new MappingError('MAPPING_FAILED', `document ${document.name} forwards attachment ${document.attachment}, which the input does not have`);
  return attachment.data;
}

/** How a procedure recognises its input. */
export type Recognition =
  | { readonly kind: 'xml'; readonly rootElement: string; readonly namespace: string }
  | { readonly kind: 'json'; readonly schemaIds: readonly string[] }
  | { readonly kind: 'any' };

export interface MappingProcedure {
  readonly id: string;
  readonly version: string;
  readonly title: string;
  /** What the procedure takes; used to pick a procedure when a route names none. */
  readonly recognises?: Recognition;
  /** Target standard, e.g. `{ standard: 'xdomea', version: '3.0.0', messageType: 'Abgabe.Abgabe.0401' }`. */
  readonly target?: { readonly standard: string; readonly version: string; readonly messageType: string };
  /**
   * True when the procedure never reads attachment bytes (it forwards them with {@link forwardAttachment}): the
   * gateway then does not count the attachments against its memory budget while mapping. @defaultValue false
   */
  readonly forwardsAttachments?: boolean;
  map(input: MappingInput): Promise<MappingResult>;
}

/** What a mapping produced and how it was checked (recorded in the Laufzettel). */
export interface MappingResult {
  readonly documents: MappedDocument[];
  readonly validation: {
    readonly input: 'valid' | 'not-checked';
    readonly output: { readonly status: 'valid' } | { readonly status: 'skipped'; readonly reason: string } | { readonly status: 'not-applicable' };
  };
}

/** One broken rule: `path` is a JSON pointer into the input or an XPath into the output. */
export interface ValidationIssue {
  readonly side: 'input' | 'output';
  readonly path: string;
  /** A label a person understands (the field's title), when one is known. */
  readonly label?: string;
  readonly rule: string;
  readonly message: string;
}

/** Every MappingError code with its meaning; docs/errors.md has one row per code (a test checks it). */
export const MAPPING_ERROR_CODES = {
  INPUT_UNRECOGNISED: 'The message has no content in the format the procedure reads.',
  INPUT_MALFORMED: 'The application is not well-formed JSON/XML, or XML with a DOCTYPE/entities.',
  INPUT_INVALID: 'The application breaks the input schema or a rule of the procedure; one issue per field.',
  OUTPUT_INVALID: 'The procedure produced a message that fails the official XSD (a mapping bug); XPath and XSD message given.',
  SCHEMA_UNAVAILABLE: 'A required XSD or code list is not installed in the schema directory.',
  CODELIST_NO_ENTRY: 'The installed code list has no code for a value (e.g. a file format).',
  PROCEDURE_FAILED: 'The procedure threw an unexpected error.',
} as const;

/** A permanent mapping failure: the pipeline dead-letters it without retrying (codes: MAPPING_ERROR_CODES). */
export class MappingError extends Error {
  override readonly name = 'MappingError';
  constructor(
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly issues: readonly ValidationIssue[] = [],
  ) {
    super(message);
  }
}
