import { timingSafeEqual } from 'node:crypto';
import express, { type Express } from 'express';
import type { RuntimeConfig } from '../config/load.js';
import type { Logger } from '../ops/logger.js';
import type { GatewayMetrics } from '../ops/metrics.js';
import type { Queues } from '../pipeline/queues.js';
import { replay } from '../pipeline/replay.js';
import { applyPickup } from '../pipeline/pickup.js';
import type { Spool } from '../spool/spool.js';
import { osciIntake } from './osci-intake.js';
import type { OpenPool } from './open-pool.js';
import type { MemoryBudget } from '../ops/memory-budget.js';

export interface AppDeps {
  readonly runtime: RuntimeConfig;
  readonly spool: Spool;
  readonly queues: Queues | undefined;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  /** Is Redis reachable right now? */
  readonly redisReady: () => Promise<boolean>;
  readonly opener: Pick<OpenPool, 'open'> & Partial<Pick<OpenPool, 'load' | 'context'>>;
  readonly memory: MemoryBudget;
}

/** The HTTP surface: one OSCI intake path per tenant, health, readiness, metrics and the operator API. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  for (const tenant of deps.runtime.tenants.values()) {
    app.post(
      tenant.path,
      osciIntake(tenant, {
        spool: deps.spool,
        queues: deps.queues,
        logger: deps.logger,
        metrics: deps.metrics,
        maxMessageBytes: deps.runtime.config.limits.maxMessageBytes,
        opener: deps.opener,
        memory: deps.memory,
      }),
    );
  }

  app.get('/healthz', (_req, res) => void res.json({ ok: true }));
  app.get('/readyz', async (_req, res) => {
    const [redis, spool] = await Promise.all([deps.redisReady(), deps.spool.writable()]);
    const keys = deps.runtime.tenants.size > 0;
    const ok = redis && spool && keys;
    res.status(ok ? 200 : 503).json({ ok, redis, spool, keys });
  });
  app.get('/metrics', async (_req, res) => {
    if (deps.queues) {
      for (const [name, q] of [
        ['process', deps.queues.process],
        ['deliver', deps.queues.deliver],
      ] as const) {
        const counts = await q.getJobCounts('waiting', 'delayed', 'active').catch(() => undefined);
        if (counts) deps.metrics.queueDepth.set({ queue: name }, (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.active ?? 0));
      }
    }
    deps.metrics.memoryReserved.set(deps.memory.reservedBytes);
    deps.metrics.memoryWaiting.set(deps.memory.waiting);
    if (deps.opener.load) {
      deps.metrics.openQueue.set(deps.opener.load.waiting);
      deps.metrics.openUtilization.set(deps.opener.load.utilization);
    }
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  // Operator API: bearer token when configured, otherwise loopback callers only.
  app.use('/api', (req, res, next) => {
    const token = deps.runtime.operatorToken;
    if (token) {
      const given = Buffer.from(String(req.headers.authorization ?? '').replace(/^Bearer /, ''));
      const expected = Buffer.from(token);
      if (given.length === expected.length && timingSafeEqual(given, expected)) return next();
      return void res.status(401).set('WWW-Authenticate', 'Bearer').json({ error: 'operator token required' });
    }
    const remote = req.socket.remoteAddress ?? '';
    if (remote === '127.0.0.1' || remote === '::1' || remote === '::ffff:127.0.0.1') return next();
    res.status(403).json({ error: 'the operator API answers loopback callers only unless http.operatorTokenEnv is set' });
  });
  app.get('/api/messages', async (req, res) => {
    const tenant = typeof req.query.tenant === 'string' ? req.query.tenant : undefined;
    const messageId = typeof req.query.messageId === 'string' ? req.query.messageId : undefined;
    if (tenant && messageId) {
      const id = await deps.spool.findByMessageId(tenant, messageId);
      return void (id ? res.json(await laufzettel(deps.spool, id)) : res.status(404).json({ error: 'unknown MessageId' }));
    }
    const ids = [...(await deps.spool.list()), ...(await deps.spool.listQuarantine())].slice(-200);
    const records = await Promise.all(ids.map((id) => deps.spool.get(id)));
    res.json(
      records
        .filter(Boolean)
        .map((r) => ({ id: r!.id, tenant: r!.tenant, messageId: r!.messageId, state: r!.state, receivedAt: r!.receivedAt, answer: r!.answer })),
    );
  });
  app.get('/api/messages/:id', async (req, res) => {
    const card = await laufzettel(deps.spool, req.params.id);
    res.status(card ? 200 : 404).json(card ?? { error: 'unknown id' });
  });
  // A pull endpoint (e.g. an XTA mailbox run beside the gateway) reports pickup confirmations and expiries here.
  app.post('/api/pickups', express.json({ limit: '16kb' }), async (req, res) => {
    const body = req.body as { idempotencyKey?: unknown; status?: unknown; at?: unknown; reference?: unknown };
    if (typeof body?.idempotencyKey !== 'string' || (body.status !== 'picked-up' && body.status !== 'expired')) {
      return void res.status(400).json({ error: 'needs idempotencyKey and status picked-up|expired' });
    }
    const at = typeof body.at === 'string' ? new Date(body.at) : new Date();
    if (Number.isNaN(at.getTime())) return void res.status(400).json({ error: 'at must be a date and time (ISO 8601)' });
    const reference = isReference(body.reference) ? body.reference : undefined;
    if (body.reference !== undefined && !reference) return void res.status(400).json({ error: 'reference must be an object of strings and numbers' });
    const applied = await applyPickup(deps.spool, { idempotencyKey: body.idempotencyKey, status: body.status, at, ...(reference ? { reference } : {}) });
    res.status(applied ? 200 : 404).json({ applied });
  });
  app.post('/api/messages/:id/replay', async (req, res) => {
    if (!deps.queues) return void res.status(503).json({ error: 'no queue' });
    try {
      res.json({ replayed: await replay(deps.spool, deps.queues, req.params.id, deps.runtime.config.pipeline.attempts) });
    } catch (error) {
      res.status(404).json({ error: (error as Error).message });
    }
  });
  return app;
}

/** A pickup confirmation's reference: a flat object of strings and numbers (it goes into the receipt as is). */
function isReference(value: unknown): value is Record<string, string | number> {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)))
  );
}

/** The Laufzettel of one message: record (without content) and audit trail. */
export async function laufzettel(spool: Spool, id: string) {
  const record = await spool.get(id);
  if (!record) return undefined;
  return { ...record, events: await spool.events(id) };
}
