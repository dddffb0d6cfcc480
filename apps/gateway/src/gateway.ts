import type { Server } from 'node:http';
import { Redis } from 'ioredis';
import type { RuntimeConfig } from './config/load.js';
import { createApp } from './http/app.js';
import { createLogger, type Logger } from './ops/logger.js';
import { GatewayMetrics } from './ops/metrics.js';
import { Queues, redisConnection } from './pipeline/queues.js';
import { Reconciler } from './pipeline/reconciler.js';
import { PipelineWorkers } from './pipeline/workers.js';
import { loadRegistry } from './mapping/registry.js';
import { Spool } from './spool/spool.js';
import { OpenPool } from './http/open-pool.js';
import { OPEN_WORKER_SOURCE_ENTRY, openWorkerBundle } from './http/worker-bundle.js';
import { errorSummary } from './http/osci-intake.js';
import { MemoryBudget } from './ops/memory-budget.js';
import { applyPickup, expirePickups } from './pipeline/pickup.js';
import type { PickupUpdate } from '@efa-gateway/connectors';
import { join } from 'node:path';

export interface GatewayOptions {
  readonly logger?: Logger;
  /** Run HTTP intake. @defaultValue true */
  readonly http?: boolean;
  /** Run pipeline workers in this process. @defaultValue config.pipeline.inProcessWorkers */
  readonly workers?: boolean;
  /** Reconciler period. @defaultValue 10000 */
  readonly reconcileMs?: number;
}

/** One gateway process: HTTP intake, and (by default) the pipeline workers and the reconciler. */
export class Gateway {
  readonly logger: Logger;
  readonly metrics = new GatewayMetrics();
  /** Shared by intake and pipeline stages of this process: bounds how much large-message data is in memory at once. */
  readonly memory: MemoryBudget;
  readonly spool: Spool;
  readonly queues: Queues;
  #server: Server | undefined;
  #workers: PipelineWorkers | undefined;
  #reconciler: Reconciler;
  #probe: Redis;
  #sweeper: NodeJS.Timeout | undefined;
  #opener: OpenPool | undefined;

  constructor(
    readonly runtime: RuntimeConfig,
    private readonly options: GatewayOptions = {},
  ) {
    this.logger = options.logger ?? createLogger();
    this.spool = new Spool(join(runtime.dataDir, 'spool'));
    this.memory = new MemoryBudget(runtime.config.limits.memoryBudgetBytes);
    this.queues = new Queues(redisConnection(runtime.redisUrl, 'producer'), runtime.config.pipeline.prefix);
    this.#reconciler = new Reconciler(this.spool, this.queues, this.logger, runtime.config.pipeline.attempts);
    this.#probe = new Redis(runtime.redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => 1000 });
    this.#probe.on('error', () => {});
  }

  /** Starts listening; resolves with the bound port. */
  async start(): Promise<number> {
    await this.spool.init();
    const swept = await this.spool.sweepIncoming();
    if (swept) this.logger.info({ swept }, 'removed bodies whose reception never finished (never acknowledged)');
    await this.#probe.connect().catch(() => {});
    if (this.options.workers ?? this.runtime.config.pipeline.inProcessWorkers) {
      const procedures = await loadRegistry(this.runtime.mapping);
      this.#workers = new PipelineWorkers(this.runtime, this.spool, this.queues, this.logger, this.metrics, procedures, this.memory);
      this.#workers.start(redisConnection(this.runtime.redisUrl, 'worker'));
    }
    this.#reconciler.start(this.options.reconcileMs ?? 10_000);
    this.#sweeper = setInterval(() => void this.sweep(), 3_600_000);
    this.#sweeper.unref();
    void this.sweep();
    let port = 0;
    if (this.options.http ?? true) {
      this.#opener = new OpenPool(this.runtime, this.spool.contentKey, this.runtime.config.http.openThreads, await this.#openWorkerFile());
      const opener = this.#opener;
      const app = createApp({
        runtime: this.runtime,
        spool: this.spool,
        queues: this.queues,
        logger: this.logger,
        metrics: this.metrics,
        redisReady: () => this.redisReady(),
        opener,
        memory: this.memory,
      });
      const { host, port: wanted } = this.runtime.config.http;
      this.#server = await new Promise<Server>((resolve, reject) => {
        const s = app.listen(wanted, host, (error?: Error) => (error ? reject(error) : resolve(s)));
      });
      port = (this.#server.address() as { port: number }).port;
      this.logger.info({ host, port, tenants: [...this.runtime.tenants.values()].map((t) => t.path) }, 'listening');
    }
    return port;
  }

  async redisReady(): Promise<boolean> {
    try {
      return (await this.#probe.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  /** A pull-style target confirmed pickup of (or gave up on) a delivery. */
  pickup(update: PickupUpdate): Promise<boolean> {
    return applyPickup(this.spool, update);
  }

  /** Applies the retention to the spool and expires overdue pickups; never throws. */
  async sweep(now?: number): Promise<number> {
    try {
      await expirePickups(this.spool, now === undefined ? new Date() : new Date(now));
      const removed = await this.spool.sweep(this.runtime.config.retention, now);
      if (removed) this.logger.info({ removed }, 'retention: removed messages past their retention');
      return removed;
    } catch (error) {
      this.logger.warn({ err: { message: (error as Error).message } }, 'retention sweep failed');
      return 0;
    }
  }

  reconcile(): Promise<number> {
    return this.#reconciler.run();
  }

  /** The bundled entry of the open threads, or the TypeScript sources if it cannot be built (then each thread needs ≈ 30 MiB more). */
  async #openWorkerFile(): Promise<string> {
    if (this.runtime.config.http.openThreads === 0) return OPEN_WORKER_SOURCE_ENTRY; // opened inline: no threads
    try {
      return await openWorkerBundle(join(this.runtime.dataDir, 'cache'));
    } catch (error) {
      this.logger.warn({ err: errorSummary(error) }, 'could not bundle the open worker: its threads load the TypeScript sources');
      return OPEN_WORKER_SOURCE_ENTRY;
    }
  }

  async stop(): Promise<void> {
    this.#reconciler.stop();
    if (this.#sweeper) clearInterval(this.#sweeper);
    if (this.#server) {
      this.#server.closeAllConnections();
      await new Promise((r) => this.#server!.close(r));
    }
    await this.#opener?.close();
    await this.#workers?.close();
    await this.queues.close();
    this.#probe.disconnect();
    for (const c of this.runtime.connectors.values()) await c.close();
  }
}
