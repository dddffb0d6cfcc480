import type { Logger } from '../ops/logger.js';
import type { Spool } from '../spool/spool.js';
import { deliverJobId } from './workers.js';
import type { Queues } from './queues.js';

/**
 * The spool is the source of truth, Redis only schedules. The reconciler brings Redis back in line: messages
 * stored while Redis was down are enqueued; after a Redis restart without persistence, jobs of unfinished messages
 * are recreated (job ids make every step idempotent; connectors make a repeated delivery a no-op).
 */
export class Reconciler {
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  constructor(
    private readonly spool: Spool,
    private readonly queues: Queues,
    private readonly logger: Logger,
    private readonly attempts: number,
  ) {}

  start(intervalMs: number): void {
    void this.run();
    this.#timer = setInterval(() => void this.run(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  /** One pass; returns how many jobs were (re)created. Never throws (Redis may be down). */
  async run(): Promise<number> {
    if (this.#running) return 0;
    this.#running = true;
    let created = 0;
    try {
      for (const id of await this.spool.listOpen()) {
        const record = await this.spool.get(id);
        if (!record || record.state === 'delivered' || record.state === 'failed') continue;
        if (!record.route) {
          // Not routed yet: make sure its process job exists (accepted while Redis was down, or lost with Redis).
          if (!(await this.queues.process.getJob(id))) {
            await this.queues.enqueue(id);
            created++;
          }
          continue;
        }
        for (const [connector, d] of Object.entries(record.deliveries)) {
          if (d.state !== 'pending') continue;
          const jobId = deliverJobId(id, connector, d.replay ?? 0);
          if (await this.queues.deliver.getJob(jobId)) continue;
          await this.queues.deliver.add('deliver', { id, connector }, { jobId, attempts: this.attempts, backoff: { type: 'custom' }, removeOnComplete: { age: 86_400 }, removeOnFail: false });
          created++;
        }
      }
      if (created > 0) this.logger.info({ stage: 'reconcile', created }, 'jobs recreated from the spool');
    } catch (error) {
      this.logger.warn({ stage: 'reconcile', err: { message: (error as Error).message } }, 'reconciliation deferred (queue unavailable)');
    } finally {
      this.#running = false;
    }
    return created;
  }
}
