import type { Spool } from '../spool/spool.js';
import { deliverJobId } from './workers.js';
import type { Queues } from './queues.js';

/** Brings failed deliveries of a message back: state pending, a fresh job per failed connector. */
export async function replay(spool: Spool, queues: Queues, id: string, attempts: number): Promise<string[]> {
  const record = await spool.get(id);
  if (!record) throw new Error(`no message ${id} in the spool`);
  if (!record.route) {
    await spool.update(
      id,
      (r) => {
        r.state = 'queued';
        delete r.error;
      },
      [{ stage: 'replay', event: 'replayed', detail: 'process stage' }],
    );
    await queues.process.remove(id).catch(() => {});
    await queues.enqueue(id);
    return ['process'];
  }
  const failed = Object.entries(record.deliveries)
    .filter(([, d]) => d.state === 'failed')
    .map(([c]) => c);
  if (failed.length === 0) return [];
  const updated = await spool.update(
    id,
    (r) => {
      for (const c of failed) {
        const d = r.deliveries[c]!;
        d.state = 'pending';
        d.replay = (d.replay ?? 0) + 1;
        delete d.error;
      }
      r.state = 'processing';
    },
    [{ stage: 'replay', event: 'replayed', detail: failed.join(', ') }],
  );
  for (const c of failed) {
    await queues.deliver.add(
      'deliver',
      { id, connector: c },
      {
        jobId: deliverJobId(id, c, updated.deliveries[c]!.replay),
        attempts,
        backoff: { type: 'custom' },
        removeOnComplete: { age: 86_400 },
        removeOnFail: false,
      },
    );
  }
  return failed;
}
