import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { GatewayConfigInput } from '../config/schema.js';
import { demoPassphrase, ensureDemoPki, type DemoPkiFiles } from './demo-pki.js';
import { redisAnswers, redisDataDir, startLocalRedis } from './redis.js';
import type { ChildProcess } from 'node:child_process';

export interface EmbeddedDefault {
  readonly config: GatewayConfigInput;
  readonly env: NodeJS.ProcessEnv;
  readonly pki: DemoPkiFiles;
  readonly passphrase: string;
  readonly outbox: string;
  readonly redisChild: ChildProcess | undefined;
}

/**
 * The configuration `gateway start` runs without a config file: one demo tenant with a demo PKI (created on first
 * run), the demo intermediary as trust anchor, a hotfolder at `<dataDir>/outbox`, Redis at REDIS_URL or
 * 127.0.0.1:6379, or a local redis-server child with persistence under `<dataDir>/redis`.
 */
export async function embeddedDefault(dataDir = resolve('data'), port = 8080): Promise<EmbeddedDefault> {
  const pki = await ensureDemoPki(dataDir);
  const passphrase = await demoPassphrase(pki);
  const outbox = join(dataDir, 'outbox');
  await mkdir(outbox, { recursive: true });
  let redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  let redisChild: ChildProcess | undefined;
  if (!(await redisAnswers(redisUrl))) {
    const local = await startLocalRedis(redisDataDir(dataDir));
    redisUrl = local.url;
    redisChild = local.child;
  }
  const config: GatewayConfigInput = {
    dataDir,
    redisUrl,
    embeddedRedis: true,
    // Queues of this data directory only: several demo directories may share one Redis.
    pipeline: { prefix: `efa-demo-${createHash('sha256').update(dataDir).digest('hex').slice(0, 10)}` },
    http: { host: '127.0.0.1', port },
    tenants: [
      {
        id: 'demo',
        path: '/osci/demo',
        cipher: { p12: pki.authorityCipher, passphraseFile: pki.passphraseFile },
        signature: { p12: pki.authoritySignature, passphraseFile: pki.passphraseFile },
        trust: [pki.ca],
      },
    ],
    connectors: { outbox: { type: 'hotfolder', path: outbox } },
    routes: [{ name: 'default', procedure: 'passthrough', connectors: ['outbox'] }],
  };
  return { config, env: process.env, pki, passphrase, outbox, redisChild };
}
