import { Readable } from 'node:stream';
import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { isConnectorError, type Delivery, type DeliveryDocument } from '@efa-gateway/connectors';
import { MappingError, type InputAttachment, type MappingInput, type MappingProcedure, type ProcedureRegistry } from '@efa-gateway/xoev-mapping';
import type { RuntimeConfig } from '../config/load.js';
import type { RouteConfig } from '../config/schema.js';
import type { Logger } from '../ops/logger.js';
import type { GatewayMetrics } from '../ops/metrics.js';
import type { Spool, StoredAttachment, StoredContent } from '../spool/spool.js';
import { MemoryBudget } from '../ops/memory-budget.js';
import type { MessageRecord } from '../spool/record.js';
import { DELIVER_QUEUE, PROCESS_QUEUE, type DeliverJob, type ProcessJob, type Queues } from './queues.js';
import { selectRoute } from './routing.js';

/** Memory of a stream from the sealed content (about two read batches). */
const STREAMING_BYTES = 2 * 1024 * 1024;

/** Mapped output up to this size is kept sealed in the spool between the stages. */
export const KEEP_MAPPED_MAX_BYTES = 16 * 1024 * 1024;

/** Output that was not validated is kept only for messages from this size on (smaller ones are mapped again). */
export const KEEP_UNVALIDATED_FROM_BYTES = 1024 * 1024;

export function deliverJobId(id: string, connector: string, replay = 0): string {
  return replay ? `${id}--${connector}--r${replay}` : `${id}--${connector}`;
}

export function idempotencyKey(record: MessageRecord, connector: string): string {
  return `${record.tenant}/${record.messageId ?? record.id}/${connector}`;
}

/**
 * The pipeline stages as BullMQ workers. `process`: route → validate/map → keep the mapped documents (sealed) → one
 * `deliver` job per connector. `deliver`: hand the kept documents to the connector, record the receipt.
 * Retryable connector errors are retried with exponential backoff (Retry-After honoured); permanent ones and
 * exhausted retries end in the dead-letter state, from which `replay` brings them back.
 */
export class PipelineWorkers {
  readonly #workers: Worker[] = [];

  constructor(
    private readonly runtime: RuntimeConfig,
    private readonly spool: Spool,
    private readonly queues: Queues,
    private readonly logger: Logger,
    private readonly metrics: GatewayMetrics,
    private readonly procedures: ProcedureRegistry,
    private readonly memory: MemoryBudget = new MemoryBudget(Number.MAX_SAFE_INTEGER),
  ) {}

  start(connection: ConnectionOptions): void {
    const { prefix, concurrency, backoffMs, lockDurationMs } = this.runtime.config.pipeline;
    const locking = { lockDuration: lockDurationMs, stalledInterval: Math.max(1000, Math.floor(lockDurationMs / 2)), maxStalledCount: 10 };
    const settings = {
      backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) => {
        const hinted = isConnectorError(err) ? err.retryAfterMs : undefined;
        return Math.max(hinted ?? 0, Math.min(backoffMs * 2 ** Math.max(0, attemptsMade - 1), 3_600_000));
      },
    };
    // The process stage reserves memory once it knows the procedure (see #process). Delivering hands over the kept
    // mapped bytes and streams forwarded attachments: it counts twice the kept output (or the message, if it is
    // mapped again).
    const deliverMemory = async (record: MessageRecord | undefined) => {
      const kept = record ? await this.spool.mappedSize(record.id) : undefined;
      return kept === undefined ? 2 * (record?.size ?? 0) : 2 * kept + STREAMING_BYTES;
    };
    const processWorker = new Worker<ProcessJob>(PROCESS_QUEUE, async (job) => this.#process(job, await this.spool.get(job.data.id)), {
      connection,
      prefix,
      concurrency,
      ...locking,
    });
    const deliverWorker = new Worker<DeliverJob>(DELIVER_QUEUE, (job) => this.#withMemory(job.data.id, deliverMemory, (record) => this.#deliver(job, record)), {
      connection,
      prefix,
      concurrency,
      settings,
      ...locking,
    });
    deliverWorker.on('failed', (job, error) =>
      this.#onDeliverFailed(job, error).catch((e: unknown) =>
        this.logger.error({ id: job?.data.id, err: { message: (e as Error).message } }, 'could not record the dead letter'),
      ),
    );
    for (const w of [processWorker, deliverWorker])
      w.on('error', (error) => this.logger.warn({ err: { message: error.message } }, 'worker connection problem'));
    this.#workers.push(processWorker, deliverWorker);
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.#workers.map((w) => w.close()));
  }

  /**
   * Runs a stage of a message with its record, within the memory budget (`estimate`: what the stage holds of it). A
   * message that had to wait for the budget is read again, as its record may have changed meanwhile.
   */
  async #withMemory<T>(
    id: string,
    estimate: (record: MessageRecord | undefined) => Promise<number>,
    stage: (record: MessageRecord | undefined) => Promise<T>,
  ): Promise<T> {
    const record = await this.spool.get(id);
    const bytes = await estimate(record);
    if (bytes < this.memory.smallBytes) return stage(record);
    const release = await this.memory.reserve(bytes);
    try {
      return await stage(await this.spool.get(id));
    } finally {
      release();
    }
  }

  async #process(job: Job<ProcessJob>, record: MessageRecord | undefined): Promise<void> {
    const started = performance.now();
    const { id } = job.data;
    if (!record || record.state === 'delivered' || record.state === 'failed') return;
    const log = this.logger.child({ id, tenant: record.tenant, messageId: record.messageId, stage: 'route' });
    const bundle = await this.spool.storedContent(id);
    const route = record.route ? this.runtime.routes.find((r) => r.name === record.route!.name) : selectRoute(this.runtime.routes, record, bundle);
    if (!route) {
      await this.#fail(record, 'NO_ROUTE', 'no route matches this message (tenant, service, root element)');
      throw new UnrecoverableError('no route');
    }
    let current = record;
    if (!record.route) {
      const input = this.#mappingInput(record, bundle);
      const procedure = this.#procedureFor(route.procedure, input);
      if (!procedure) {
        await this.#fail(record, 'NO_PROCEDURE', `route ${route.name}: no procedure recognises this message's content`);
        throw new UnrecoverableError('NO_PROCEDURE');
      }
      // Within the memory budget: twice the inline contents, plus twice the attachments if the procedure may read them.
      const contentBytes = bundle.contents.reduce((n, c) => n + c.data.length, 0);
      const attachmentBytes = procedure.forwardsAttachments ? 0 : bundle.attachments.reduce((n, a) => n + a.size, 0);
      const release = await this.memory.reserve(2 * (contentBytes + attachmentBytes));
      try {
        current = await this.#mapAndKeep(record, route, procedure, input);
      } finally {
        release();
      }
    }
    for (const connector of route.connectors) {
      if (current.deliveries[connector]?.state !== 'pending') continue;
      await this.queues.deliver.add(
        'deliver',
        { id, connector },
        this.#deliverOptions(deliverJobId(id, connector, current.deliveries[connector]?.replay ?? 0)),
      );
    }
    log.info({ route: route.name, procedure: current.route?.procedure }, 'routed');
    this.metrics.stageDuration.observe({ stage: 'process' }, (performance.now() - started) / 1000);
  }

  /** Maps, keeps the mapped output (sealed) and records the route: the record as it is then. */
  async #mapAndKeep(record: MessageRecord, route: RouteConfig, procedure: MappingProcedure, input: MappingInput): Promise<MessageRecord> {
    const { id } = record;
    let mapped;
    const mapStarted = performance.now();
    try {
      mapped = await procedure.map(input);
    } catch (error) {
      const code = error instanceof MappingError ? error.code : 'MAPPING_FAILED';
      await this.#fail(record, code, (error as Error).message);
      throw new UnrecoverableError(code);
    }
    this.metrics.stageDuration.observe({ stage: 'map' }, (performance.now() - mapStarted) / 1000);
    const { validation } = mapped;
    // Kept (sealed) before the record says "routed": a crash in between only makes this stage run again. Forwarded
    // attachments are kept as references to the content. Not kept — the deliver stage maps again (procedures are pure
    // and deterministic) — are very large mapped bytes (not written a second time), and the output of a small message
    // that was not validated (mapping it again costs less than writing and reading a sealed file; validated output is
    // kept, so that exactly what was validated is delivered).
    const mappedBytes = mapped.documents.reduce((n, d) => n + (d.data?.length ?? 0), 0);
    const validated = validation.output.status === 'valid';
    if (mappedBytes <= KEEP_MAPPED_MAX_BYTES && (validated || record.size >= KEEP_UNVALIDATED_FROM_BYTES)) await this.spool.storeMapped(id, mapped.documents);
    const output = validation.output.status === 'skipped' ? `output not validated: ${validation.output.reason}` : `output ${validation.output.status}`;
    return this.spool.update(
      id,
      (r) => {
        r.route = { name: route.name, procedure: procedure.id, procedureVersion: procedure.version, connectors: route.connectors, validation };
        r.state = 'processing';
        for (const c of route.connectors) r.deliveries[c] ??= { state: 'pending', attempts: 0 };
      },
      [
        { stage: 'route', event: 'routed', detail: `route ${route.name} → ${route.connectors.join(', ')}` },
        { stage: 'map', event: 'mapped', detail: `${procedure.id} ${procedure.version}; input ${validation.input}; ${output}` },
      ],
    );
  }

  #deliverOptions(jobId: string) {
    const { attempts } = this.runtime.config.pipeline;
    return { jobId, attempts, backoff: { type: 'custom' }, removeOnComplete: { age: 86_400 }, removeOnFail: false };
  }

  async #deliver(job: Job<DeliverJob>, record: MessageRecord | undefined): Promise<void> {
    const started = performance.now();
    const { id, connector: name } = job.data;
    if (!record) {
      this.logger.warn({ id, stage: 'deliver' }, 'job for a message that is not in this spool: dropped');
      return;
    }
    if (!record.route) throw new UnrecoverableError(`message ${id} is not routed`);
    if (record.deliveries[name]?.state === 'delivered') return;
    const connector = this.runtime.connectors.get(name);
    if (!connector) throw new UnrecoverableError(`connector ${name} is not configured`);
    const log = this.logger.child({ id, tenant: record.tenant, messageId: record.messageId, stage: 'deliver', connector: name });
    // The documents the process stage mapped and kept; output not kept (see #mapAndKeep) is mapped again here.
    let mappedDocuments = await this.spool.mapped(id);
    // The content is opened only when needed: to map again, or to stream forwarded attachments.
    const stored = !mappedDocuments || mappedDocuments.some((d) => d.attachment !== undefined) ? await this.spool.storedContent(id) : undefined;
    if (!mappedDocuments) {
      const procedure = this.procedures.get(record.route.procedure);
      if (!procedure) throw new UnrecoverableError(`procedure ${record.route.procedure} is not available`);
      mappedDocuments = (await procedure.map(this.#mappingInput(record, stored!))).documents;
    }
    const documents: DeliveryDocument[] = mappedDocuments.map((d) => {
      if (d.data) {
        const data = d.data;
        return { name: d.name, contentType: d.contentType, role: d.role, size: data.length, open: () => Readable.from([data]) };
      }
      // A forwarded attachment streams from the sealed content: never held whole, checked segment by segment.
      const attachment = stored?.attachments.find((a) => a.refId === d.attachment);
      if (!attachment) throw new UnrecoverableError(`document ${d.name} forwards attachment ${d.attachment}, which message ${id} does not have`);
      return { name: d.name, contentType: d.contentType, role: d.role, size: attachment.size, open: () => attachment.open() };
    });
    const delivery: Delivery = {
      id: `${id}/${name}`,
      idempotencyKey: idempotencyKey(record, name),
      messageId: record.messageId ?? id,
      tenant: record.tenant,
      procedure: record.route.procedure,
      ...(record.subject !== undefined ? { subject: record.subject } : {}),
      receivedAt: new Date(record.receivedAt),
      documents,
      metadata: record.metadata,
    };
    const abort = new AbortController();
    const attempt = job.attemptsMade + 1;
    try {
      const receipt = await connector.deliver(delivery, { signal: abort.signal, attempt });
      const done = await this.spool.update(
        id,
        (r) => {
          r.deliveries[name] = {
            ...r.deliveries[name],
            error: undefined,
            state: receipt.status === 'delivered' ? 'delivered' : 'awaiting-pickup',
            attempts: attempt,
            receipt: { target: receipt.target, at: receipt.at.toISOString(), reference: { ...receipt.reference }, duplicate: receipt.duplicate },
            ...(receipt.status === 'awaiting-pickup' && receipt.expiresAt ? { expiresAt: receipt.expiresAt.toISOString() } : {}),
          };
          if (Object.values(r.deliveries).every((d) => d.state === 'delivered')) r.state = 'delivered';
        },
        [{ stage: 'deliver', event: receipt.status, target: name, detail: JSON.stringify(receipt.reference) }],
      );
      log.info({ attempt, duplicate: receipt.duplicate, state: done.state }, 'delivered');
      this.metrics.stageDuration.observe({ stage: 'deliver' }, (performance.now() - started) / 1000);
    } catch (error) {
      const code = isConnectorError(error) ? error.code : 'INTERNAL';
      await this.spool.update(
        id,
        (r) => {
          r.deliveries[name] = {
            ...(r.deliveries[name] ?? { state: 'pending', attempts: 0 }),
            attempts: attempt,
            error: { code, message: (error as Error).message, retryable: isConnectorError(error) ? error.retryable : true },
          };
        },
        [{ stage: 'deliver', event: 'attempt-failed', target: name, code, detail: `attempt ${attempt}: ${(error as Error).message}` }],
      );
      log.warn({ attempt, code }, 'delivery attempt failed');
      if (isConnectorError(error) && !error.retryable) throw new UnrecoverableError(`${code}: ${error.message}`);
      throw error;
    }
  }

  async #onDeliverFailed(job: Job<DeliverJob> | undefined, error: Error): Promise<void> {
    if (!job || !(await this.spool.get(job.data.id))) return;
    const final = error instanceof UnrecoverableError || error.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
    if (!final) return;
    const { id, connector } = job.data;
    const code = (await this.spool.get(id))?.deliveries[connector]?.error?.code ?? 'INTERNAL';
    await this.spool.update(
      id,
      (r) => {
        const d = r.deliveries[connector];
        if (d) d.state = 'failed';
        r.state = 'failed';
      },
      [{ stage: 'deliver', event: 'dead-letter', target: connector, code, detail: error.message }],
    );
    this.metrics.deadLetters.inc({ connector, code });
    this.logger.error({ id, connector, code, stage: 'deliver' }, 'delivery moved to the dead-letter state');
  }

  async #fail(record: MessageRecord, code: string, message: string): Promise<void> {
    await this.spool.update(
      record.id,
      (r) => {
        r.state = 'failed';
        r.error = { code, reason: code, layer: 'pipeline', message };
      },
      [{ stage: 'route', event: 'dead-letter', code, detail: message }],
    );
    this.metrics.deadLetters.inc({ connector: '-', code });
  }

  #procedureFor(name: string, input: MappingInput): MappingProcedure | undefined {
    return name === 'auto' ? this.procedures.recognise(input) : this.procedures.get(name);
  }

  /** The mapping input; an attachment's bytes are read from the spool only if the procedure uses them. */
  #mappingInput(record: MessageRecord, content: StoredContent): MappingInput {
    return {
      messageId: record.messageId ?? record.id,
      tenant: record.tenant,
      subject: record.subject,
      receivedAt: new Date(record.receivedAt),
      contents: content.contents,
      attachments: content.attachments.map(lazyAttachment),
      report: { messageId: record.messageId, receivedAt: record.receivedAt, orderType: record.orderType, verification: record.verification },
      metadata: record.metadata,
    };
  }
}

function lazyAttachment(stored: StoredAttachment): InputAttachment {
  let data: Buffer | undefined;
  return {
    refId: stored.refId,
    contentType: stored.contentType,
    size: stored.size,
    get data() {
      return (data ??= stored.read());
    },
  };
}
