import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { osciIntake } from '../src/http/osci-intake.js';
import { OpenPool } from '../src/http/open-pool.js';
import type { OpenTask } from '../src/http/open-task.js';
import { MemoryBudget } from '../src/ops/memory-budget.js';
import { GatewayMetrics } from '../src/ops/metrics.js';
import { Spool } from '../src/spool/spool.js';
import { bobRuntime, vector } from './support.js';

const runtime = bobRuntime();
const bob = runtime.tenants.get('bob')!;
const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

/** The intake of tenant bob on loopback, with a real spool and the opener inline; `spool` may be wrapped. */
async function intake(wrap: (spool: Spool) => Spool = (s) => s, memory = new MemoryBudget(64 * 1024 * 1024)) {
  const dir = await mkdtemp(join(tmpdir(), 'efa-intake-'));
  dirs.push(dir);
  const spool = await new Spool(dir).init();
  const pool = new OpenPool(runtime, spool.contentKey, 0);
  const tasks: OpenTask[] = [];
  const app = express();
  app.post(
    '/osci',
    osciIntake(bob, {
      spool: wrap(spool),
      queues: undefined,
      logger: pino({ level: 'silent' }),
      metrics: new GatewayMetrics(),
      maxMessageBytes: runtime.config.limits.maxMessageBytes,
      opener: { open: (task) => (tasks.push({ ...task }), pool.open(task)) },
      memory,
    }),
  );
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as AddressInfo).port;
  /** POSTs `body` with a Content-Length, or chunked (no length known in advance). */
  const post = (body: Buffer, chunked = false) =>
    new Promise<Buffer>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/osci', method: 'POST', headers: chunked ? { 'Transfer-Encoding': 'chunked' } : { 'Content-Length': body.length } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(Buffer.concat(chunks)));
        },
      );
      req.on('error', reject);
      if (chunked) for (let at = 0; at < body.length; at += 4096) req.write(body.subarray(at, at + 4096));
      req.end(chunked ? undefined : body);
    });
  return { spool, tasks, memory, post, close: () => new Promise((r) => server.close(r)) };
}

describe('OSCI intake', () => {
  it('opens a small body of known length from memory while its file is flushed, and a chunked one from the spool', async () => {
    const body = await vector('b-accept-delivery');
    const gw = await intake();
    try {
      const answer = await gw.post(body);
      expect(answer.toString('latin1')).not.toContain('soap:Fault');
      expect(gw.tasks).toHaveLength(1);
      expect(gw.tasks[0]!.bytes).toBeDefined();
      expect(gw.tasks[0]!.size).toBe(body.length);
      expect(gw.memory.reservedBytes).toBe(0); // counted while kept and opened, released with the answer
      // The stored original is the body as received (the opener's copy was decrypted in place).
      const [id] = await gw.spool.list();
      expect((await gw.spool.get(id!))?.state).toBe('accepted');
      expect(readFileSync(join(gw.spool.dir, 'messages', id!, 'original.bin')).equals(body)).toBe(true);

      const chunked = await vector('b-process-delivery');
      expect((await gw.post(chunked, true)).toString('latin1')).not.toContain('soap:Fault');
      expect(gw.tasks).toHaveLength(2);
      expect(gw.tasks[1]!.bytes).toBeUndefined();
      expect(await gw.spool.list()).toHaveLength(2);
    } finally {
      await gw.close();
    }
  });

  it('keeps a body in memory only within the memory budget, else opens it from the spool', async () => {
    const body = await vector('b-accept-delivery');
    const memory = new MemoryBudget(body.length); // less than the body and the opener's copy
    const gw = await intake(undefined, memory);
    try {
      expect((await gw.post(body)).toString('latin1')).not.toContain('soap:Fault');
      expect(gw.tasks[0]!.bytes).toBeUndefined();
      expect(memory.reservedBytes).toBe(0);
      expect(await gw.spool.list()).toHaveLength(1);
    } finally {
      await gw.close();
    }
  });

  it('discards an opening from memory when storing the body fails afterwards: 9000, nothing sealed left behind', async () => {
    const body = await vector('b-accept-delivery');
    const failingFlush = (spool: Spool) =>
      Object.assign(Object.create(spool) as Spool, {
        receive: async (...args: Parameters<Spool['receive']>) => {
          await spool.receive(...args); // every byte read (the opening from memory has started), then the flush "fails"
          throw Object.assign(new Error('fsync failed'), { code: 'EIO', syscall: 'fsync' });
        },
      });
    const gw = await intake(failingFlush);
    try {
      const answer = (await gw.post(body)).toString('utf8');
      expect(answer).toContain('9000');
      expect(gw.tasks).toHaveLength(1);
      expect(gw.tasks[0]!.bytes).toBeDefined();
      expect(readdirSync(join(gw.spool.dir, 'incoming')).filter((n) => n.endsWith('.content'))).toEqual([]);
      expect(await gw.spool.list()).toEqual([]);
    } finally {
      await gw.close();
    }
  });
});
