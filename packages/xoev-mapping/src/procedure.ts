/**
 * The minimal procedure interface the gateway pipeline uses. A procedure turns the opened content of one message
 * into the documents a target receives. Pure: the same input gives the same documents (the pipeline may map again
 * on a retry instead of storing mapped output).
 */
export interface MappingInput {
  readonly messageId: string;
  readonly tenant: string;
  readonly subject: string | undefined;
  readonly receivedAt: Date;
  /** Inline contents (Base64Content or inline XML), in order. */
  readonly contents: ReadonlyArray<{ readonly id: string | undefined; readonly kind: 'base64' | 'xml'; readonly data: Buffer }>;
  readonly attachments: ReadonlyArray<{ readonly refId: string; readonly contentType: string; readonly data: Buffer }>;
  /** The verification report (Laufzettel) of the message, as JSON-ready data. */
  readonly report: unknown;
  /** Routing metadata such as the XTA service. */
  readonly metadata: Readonly<Record<string, string>>;
}

export interface MappedDocument {
  readonly name: string;
  readonly contentType: string;
  readonly role: 'primary' | 'attachment' | 'package';
  readonly data: Buffer;
}

export interface MappingProcedure {
  readonly id: string;
  readonly version: string;
  readonly title: string;
  map(input: MappingInput): MappedDocument[];
}

/** A permanent mapping failure (the pipeline dead-letters it without retrying). */
export class MappingError extends Error {
  override readonly name = 'MappingError';
  constructor(
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}
