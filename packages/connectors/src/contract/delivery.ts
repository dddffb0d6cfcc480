import type { Readable } from 'node:stream';

/** One file of a delivery: the mapped document, an attachment, or a whole package (e.g. an xdomea zip). */
export interface DeliveryDocument {
  /** File name as the target should see it (no path separators). */
  readonly name: string;
  readonly contentType: string;
  readonly role: 'primary' | 'attachment' | 'package';
  /** Size in bytes when known (lets connectors set Content-Length and check completeness). */
  readonly size?: number;
  /**
   * Opens the content as a fresh stream. May be called more than once (retries, HMAC pre-pass), so it must not
   * consume a one-shot source. Content never passes through strings.
   */
  open(): Readable;
}

/** What the pipeline hands a connector: documents plus the identifiers the target may need. */
export interface Delivery {
  /** Gateway-wide id of this delivery (one message × one connector target). */
  readonly id: string;
  /**
   * Stable across retries and redeliveries of the same message to the same target. Connectors use it so that the
   * target never holds a second copy (file name, marker, `Idempotency-Key`, Message-ID).
   */
  readonly idempotencyKey: string;
  /** OSCI MessageId (or the id of the intake channel). */
  readonly messageId: string;
  readonly tenant: string;
  /** Mapping procedure id, e.g. `xdomea-akte`. */
  readonly procedure?: string;
  readonly subject?: string;
  readonly receivedAt: Date;
  readonly documents: readonly DeliveryDocument[];
  /** Further routing data (e.g. XTA service, business scenario), passed through to targets that want it. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** Per-call context from the pipeline. */
export interface DeliveryContext {
  /** Aborted on shutdown or job timeout; connectors stop, clean up temporary state and throw CANCELLED. */
  readonly signal: AbortSignal;
  /** 1 for the first try. */
  readonly attempt: number;
}

/**
 * What the target confirmed. `delivered` completes the delivery. `awaiting-pickup` is for pull-style targets (an XTA 2
 * mailbox from which the Fachverfahren fetches with getStatusList/getMessage/close): the message is stored, and the
 * delivery completes only when the pipeline later receives a {@link PickupUpdate} for this receipt.
 */
export type Receipt = DeliveredReceipt | AwaitingPickupReceipt;

interface ReceiptBase {
  /** Connector type and name, e.g. `hotfolder:dms-import`. */
  readonly target: string;
  readonly at: Date;
  /**
   * What the target confirmed, for the Laufzettel: `path`, `httpStatus`, `remoteId`, `smtpMessageId`, `smtpResponse` …
   */
  readonly reference: Readonly<Record<string, string | number>>;
  /** True when the target already had this idempotency key and nothing was sent again. */
  readonly duplicate: boolean;
}

export interface DeliveredReceipt extends ReceiptBase {
  readonly status: 'delivered';
}

export interface AwaitingPickupReceipt extends ReceiptBase {
  readonly status: 'awaiting-pickup';
  /** After this the pipeline treats the delivery as expired (dead letter with code PICKUP_EXPIRED). */
  readonly expiresAt?: Date;
}

/** A later event for an `awaiting-pickup` receipt, reported by the connector (or its pull endpoint) to the pipeline. */
export interface PickupUpdate {
  readonly idempotencyKey: string;
  readonly status: 'picked-up' | 'expired';
  readonly at: Date;
  /** E.g. the reader's identity from XTA `close`. */
  readonly reference?: Readonly<Record<string, string | number>>;
}

export interface HealthResult {
  readonly ok: boolean;
  readonly detail: string;
}
