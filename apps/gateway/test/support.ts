import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { loadConfig, type GatewayConfigInput, type RuntimeConfig } from '../src/index.js';
import { Gateway } from '../src/gateway.js';

export const SHARED = resolve(process.env.EFA_SHARED_DIR ?? join(import.meta.dirname, '../../../../shared'));
export const VECTORS = join(SHARED, 'osci-vectors');
export const PKI = join(VECTORS, 'pki');

export interface TestGateway {
  gateway: Gateway;
  url: string;
  dataDir: string;
  outbox: string;
  logs: string[];
}

/** A gateway for bob (the vectors' passive recipient) trusting osci_manager, delivering to a hotfolder. */
export async function startTestGateway(
  overrides: Partial<GatewayConfigInput> = {},
  options: { redisUrl?: string; workers?: boolean } = {},
): Promise<TestGateway> {
  const dataDir = await mkdtemp(join(tmpdir(), 'efa-gw-'));
  const outbox = join(dataDir, 'outbox');
  await import('node:fs/promises').then((fs) => fs.mkdir(outbox));
  const config: GatewayConfigInput = {
    dataDir,
    redisUrl: options.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    http: { host: '127.0.0.1', port: 0 },
    pipeline: { prefix: `test-${randomUUID()}`, attempts: 12, backoffMs: 100, concurrency: 4, inProcessWorkers: options.workers ?? true, lockDurationMs: 2000 },
    tenants: [
      {
        id: 'bob',
        path: '/osci/bob',
        cipher: { p12: join(PKI, 'bob_cipher_4096.p12'), passphraseEnv: 'EFA_TEST_PIN' },
        signature: { p12: join(PKI, 'bob_signature_4096.p12'), passphraseEnv: 'EFA_TEST_PIN' },
        trust: [join(PKI, 'osci_manager_signature_4096.cer')],
      },
    ],
    connectors: { outbox: { type: 'hotfolder', path: outbox } },
    routes: [{ name: 'default', procedure: 'passthrough', connectors: ['outbox'] }],
    ...overrides,
  } as GatewayConfigInput;
  const runtime = loadConfig(config, { ...process.env, EFA_TEST_PIN: '123456' });
  const logs: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
  const gateway = new Gateway(runtime, { logger, reconcileMs: 500, ...(options.workers !== undefined ? { workers: options.workers } : {}) });
  const port = await gateway.start();
  return { gateway, url: `http://127.0.0.1:${port}/osci/bob`, dataDir, outbox, logs };
}

export async function vector(name: string, file = 'request.bin'): Promise<Buffer> {
  return readFile(join(VECTORS, 'cases', name, file));
}

export async function post(url: string, body: Buffer): Promise<Buffer> {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'text/xml' } });
  if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A runtime with bob as the only tenant (demo PKI, osci_manager trusted) and a hotfolder; nothing is started. */
export function bobRuntime(overrides: Record<string, unknown> = {}): RuntimeConfig {
  return loadConfig(
    {
      dataDir: tmpdir(),
      tenants: [
        {
          id: 'bob',
          cipher: { p12: join(PKI, 'bob_cipher_4096.p12'), passphraseEnv: 'EFA_TEST_PIN' },
          signature: { p12: join(PKI, 'bob_signature_4096.p12'), passphraseEnv: 'EFA_TEST_PIN' },
          trust: [join(PKI, 'osci_manager_signature_4096.cer')],
        },
      ],
      connectors: { outbox: { type: 'hotfolder', path: tmpdir() } },
      routes: [{ name: 'all', connectors: ['outbox'] }],
      ...overrides,
    } as unknown as GatewayConfigInput,
    { ...process.env, EFA_TEST_PIN: '123456' },
  );
}
