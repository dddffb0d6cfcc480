import { Queue, type ConnectionOptions } from 'bullmq';

/** Queue names: `process` (route, map, fan out) and `deliver` (one job per message × connector). */
export const PROCESS_QUEUE = 'process';
export const DELIVER_QUEUE = 'deliver';

export interface ProcessJob {
  readonly id: string;
}
export interface DeliverJob {
  readonly id: string;
  readonly connector: string;
}

export function redisConnection(url: string, role: 'producer' | 'worker' = 'producer'): ConnectionOptions {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.pathname.length > 1 ? { db: Number(u.pathname.slice(1)) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
    // Producers fail fast while Redis is down (the spool keeps the message, the reconciler enqueues it later).
    enableOfflineQueue: role === 'worker',
  };
}

export class Queues {
  readonly process: Queue<ProcessJob>;
  readonly deliver: Queue<DeliverJob>;

  constructor(connection: ConnectionOptions, prefix: string) {
    this.process = new Queue<ProcessJob>(PROCESS_QUEUE, { connection, prefix });
    this.deliver = new Queue<DeliverJob>(DELIVER_QUEUE, { connection, prefix });
    // Errors surface on the add() calls; the reconciler retries. Without a listener ioredis would log to stderr.
    this.process.on('error', () => {});
    this.deliver.on('error', () => {});
  }

  /** Enqueues the process stage for a spooled message; the job id makes a repeated call a no-op. */
  async enqueue(id: string): Promise<void> {
    await this.process.add('process', { id }, { jobId: id, removeOnComplete: { age: 86_400 }, removeOnFail: false, attempts: 5, backoff: { type: 'exponential', delay: 1000 } });
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.process.close(), this.deliver.close()]);
  }
}
