import type { z } from 'zod';
import type { Delivery, DeliveryContext, HealthResult, Receipt } from './delivery.js';

/**
 * The one interface a connector implements. Keep it stateless between calls apart from connections/pools;
 * the pipeline may call `deliver` concurrently and retries with the same idempotency key.
 */
export interface Connector {
  /** Connector type, e.g. `hotfolder`. */
  readonly type: string;
  /** The configured target name (routes refer to it). */
  readonly name: string;
  /** Delivers or throws a {@link ConnectorError}; never leaves a partial result visible at the target. */
  deliver(delivery: Delivery, context: DeliveryContext): Promise<Receipt>;
  /** Readiness: can the target be reached and written to right now? */
  check(signal?: AbortSignal): Promise<HealthResult>;
  /** Releases connections and pools. */
  close(): Promise<void>;
}

/** A connector type: its options schema (validated once at start-up) and how to create one. */
export interface ConnectorFactory<Schema extends z.ZodType = z.ZodType> {
  readonly type: string;
  readonly description: string;
  readonly options: Schema;
  create(name: string, options: z.output<Schema>): Connector;
}
