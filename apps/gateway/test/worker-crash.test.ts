import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import pino from 'pino';
import { Gateway, loadConfig, type GatewayConfigInput } from '../src/index.js';
import { acceptDelivery } from './messages.js';
import { PKI, post, until } from './support.js';

/** A Fachverfahren endpoint that stores a request as soon as it is complete but answers only after a pause. */
function slowTarget(pauseMs: number) {
  const stored = new Map<string, number>();
  let requests = 0;
  const server: Server = createServer((req, res) => {
    const key = String(req.headers['idempotency-key']);
    req.resume();
    req.on('end', () => {
      requests++;
      const replay = stored.has(key);
      if (!replay) stored.set(key, stored.size + 1);
      setTimeout(() => res.writeHead(201, { 'content-type': 'application/json', ...(replay ? { 'idempotent-replayed': 'true' } : {}) }).end(JSON.stringify({ id: `fv-${stored.get(key)}` })), replay ? 0 : pauseMs);
    });
  });
  return { server, stored, requests: () => requests };
}

const cli = resolve(import.meta.dirname, '../src/cli/main.ts');
function worker(configFile: string): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', cli, 'worker', '--config', configFile], { env: { ...process.env, EFA_TEST_PIN: '123456', LOG_LEVEL: 'warn' }, stdio: 'ignore', cwd: resolve(import.meta.dirname, '../../..') });
}

describe('a worker killed in the middle of a delivery', () => {
  const stops: Array<() => unknown> = [];
  afterAll(async () => {
    for (const s of stops.reverse()) await s();
  });

  it('is replaced by another worker and the target holds the delivery exactly once', async () => {
    const target = slowTarget(4000);
    await new Promise<void>((r) => target.server.listen(0, '127.0.0.1', r));
    stops.push(() => new Promise((r) => target.server.close(r)));
    const dataDir = await mkdtemp(join(tmpdir(), 'efa-crash-'));
    stops.push(() => rm(dataDir, { recursive: true, force: true }));
    const config: GatewayConfigInput = {
      dataDir,
      redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      http: { host: '127.0.0.1', port: 0 },
      pipeline: { prefix: `test-${randomUUID()}`, attempts: 10, backoffMs: 100, concurrency: 2, inProcessWorkers: false, lockDurationMs: 2000 },
      tenants: [
        {
          id: 'bob',
          cipher: { p12: join(PKI, 'bob_cipher_4096.p12'), passphraseEnv: 'EFA_TEST_PIN' },
          signature: { p12: join(PKI, 'bob_signature_4096.p12'), passphraseEnv: 'EFA_TEST_PIN' },
          trust: [join(PKI, 'osci_manager_signature_4096.cer')],
        },
      ],
      connectors: { fv: { type: 'http', url: `http://127.0.0.1:${(target.server.address() as { port: number }).port}/deliveries`, format: 'json', timeoutMs: 20_000 } },
      routes: [{ name: 'default', procedure: 'passthrough', connectors: ['fv'] }],
    };
    const configFile = join(dataDir, 'gateway.yaml');
    await writeFile(configFile, stringify(config));
    const intake = new Gateway(loadConfig(config, { ...process.env, EFA_TEST_PIN: '123456' }), { workers: false, logger: pino({ level: 'silent' }), reconcileMs: 1000 });
    const port = await intake.start();
    stops.push(() => intake.stop());

    const first = worker(configFile);
    stops.push(() => first.kill('SIGKILL'));
    await post(`http://127.0.0.1:${port}/osci/bob`, acceptDelivery('crash-1'));
    await until('the delivery reaches the target', async () => target.stored.size === 1, 30_000);
    first.kill('SIGKILL'); // the target stored it, the worker never saw the answer

    const second = worker(configFile);
    stops.push(() => second.kill('SIGKILL'));
    const id = (await intake.spool.findByMessageId('bob', 'crash-1'))!;
    const record = await until('delivered by the second worker', async () => {
      const r = await intake.spool.get(id);
      return r?.state === 'delivered' ? r : undefined;
    }, 60_000);
    expect(target.stored.size).toBe(1);
    expect(target.requests()).toBeGreaterThanOrEqual(2);
    expect(record.deliveries.fv?.receipt).toMatchObject({ duplicate: true, reference: { httpStatus: 201, remoteId: 'fv-1' } });
  }, 120_000);
});
