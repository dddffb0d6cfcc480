import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import type { RuntimeConfig } from '../config/load.js';
import { portableTenant, runOpenTask, xmlLimitsOf, type OpenContext, type OpenOutcome, type OpenTask } from './open-task.js';
import type { OpenWorkerData } from './open-worker.js';
import { OPEN_WORKER_SOURCE_ENTRY } from './worker-bundle.js';

/**
 * Runs the CPU-bound part of the intake (open, verify, seal, sign the answer — three RSA-4096 private operations per
 * message) on worker threads, one per core by default, so that the event loop stays free for HTTP, the spool and
 * Redis, and every core does RSA. `threads: 0` runs the tasks inline on the event loop.
 */
export class OpenPool {
  readonly #pool: Piscina | undefined;
  readonly #inline: OpenContext | undefined;
  /** What opening needs in this thread (the intake opens large messages while they arrive, see EarlyOpener). */
  readonly context: OpenContext;

  /**
   * `workerFile`: the threads' entry — the bundle from `openWorkerBundle` (plain JavaScript), or by default the
   * TypeScript sources (each thread then registers a TypeScript loader).
   */
  constructor(runtime: RuntimeConfig, spoolKey: Buffer, threads: number | 'auto', workerFile: string = OPEN_WORKER_SOURCE_ENTRY) {
    // `auto`: the cores shared among the configured cluster processes (each runs its own pool).
    const wanted = runtime.config.http.processes;
    const processes = wanted === 'auto' ? availableParallelism() : wanted;
    const count = threads === 'auto' ? Math.max(1, Math.round(availableParallelism() / processes)) : threads;
    const security = runtime.config.security;
    this.context = {
      tenants: runtime.tenants,
      spoolKey,
      allowLegacyAlgorithms: security.allowLegacyAlgorithms,
      allowUnencryptedTransport: security.allowUnencryptedTransport,
      maxMessageBytes: runtime.config.limits.maxMessageBytes,
      xmlLimits: xmlLimitsOf(runtime.config.limits.xml),
    };
    if (count === 0) {
      this.#inline = this.context;
      return;
    }
    // The same context, with the tenants' keys as plain data a thread can receive.
    const workerData: OpenWorkerData = { ...this.context, tenants: [...runtime.tenants.values()].map(portableTenant) };
    this.#pool = new Piscina({
      filename: pathToFileURL(workerFile).href,
      minThreads: count,
      maxThreads: count,
      // Tasks queue up to a bounded depth; beyond it the intake answers 9000 (busy) instead of piling up memory.
      maxQueue: count * 64,
      idleTimeout: 60_000,
      // A small young generation: an open task's garbage is short-lived, and the default (up to 3 × 16 MiB touched per
      // thread) only costs resident memory — measured ≈ 25 MiB less per thread, no loss of speed.
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
      // Not the parent's flags (a test runner's loader, --cpu-prof …): the bundle needs none, the sources register their own.
      execArgv: [],
      workerData,
    });
  }

  async open(task: OpenTask): Promise<OpenOutcome> {
    if (this.#inline) return runOpenTask(task, this.#inline);
    return (await this.#pool!.run(task)) as OpenOutcome;
  }

  /** Tasks waiting for a thread, and the share of time the threads were busy (0 inline). */
  get load(): { waiting: number; utilization: number } {
    return { waiting: this.#pool?.queueSize ?? 0, utilization: this.#pool?.utilization ?? 0 };
  }

  get threads(): number {
    return this.#pool?.threads.length ?? 0;
  }

  async close(): Promise<void> {
    await this.#pool?.destroy();
  }
}
