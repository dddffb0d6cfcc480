import { rename, rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { snapshotDirectory } from '@efa-gateway/connectors/testing';
import { startLocalRedis } from '../src/demo/redis.js';
import { acceptDelivery } from './messages.js';
import { post, startTestGateway, until, type TestGateway } from './support.js';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { openMessage, loadPkcs12 } from '@efa-gateway/osci';
import { readFileSync } from 'node:fs';
import { PKI } from './support.js';

const intermediaryCipher = loadPkcs12(readFileSync(join(PKI, 'osci_manager_cipher_4096.p12')), '123456');
const feedback = (raw: Buffer) => openMessage(raw, { keys: [intermediaryCipher], requireOrderSignature: false }).envelope.order.feedback.map((f) => f.code);

async function deliveredCount(gw: TestGateway): Promise<number> {
  return (await snapshotDirectory(gw.outbox)).filter((i) => i.name.endsWith('/anlage.bin')).length;
}

async function allDelivered(gw: TestGateway, n: number): Promise<void> {
  await until(
    `${n} deliveries`,
    async () => {
      const ids = await gw.gateway.spool.list();
      const records = await Promise.all(ids.map((id) => gw.gateway.spool.get(id)));
      return records.length === n && records.every((r) => r?.state === 'delivered');
    },
    60_000,
  );
}

describe('nothing acknowledged is lost', () => {
  const cleanup: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('accepts messages while Redis is down and delivers each exactly once after a restart that lost all jobs', async () => {
    const redisDir = await mkdtemp(join(tmpdir(), 'efa-redis-'));
    let redis: { url: string; child: ChildProcess } = await startLocalRedis(redisDir);
    const port = new URL(redis.url).port;
    const gw = await startTestGateway({}, { redisUrl: redis.url });
    cleanup.push(() => rm(redisDir, { recursive: true, force: true }), () => redis.child.kill('SIGKILL'), () => gw.gateway.stop(), () => rm(gw.dataDir, { recursive: true, force: true }));

    for (let i = 0; i < 3; i++) expect(feedback(await post(gw.url, acceptDelivery(`before-${i}`)))).toEqual(['0800']);
    await allDelivered(gw, 3);

    redis.child.kill('SIGKILL');
    await new Promise((r) => redis.child.once('exit', r));
    for (let i = 0; i < 3; i++) expect(feedback(await post(gw.url, acceptDelivery(`during-${i}`)))).toEqual(['0800']);
    expect((await fetch(gw.url.replace('/osci/bob', '/readyz'))).status).toBe(503);

    // Same port, empty data set (no persistence): the spool is the source of truth.
    await rm(redisDir, { recursive: true, force: true });
    redis = await startOnPort(redisDir, port);
    await allDelivered(gw, 6);
    expect(await deliveredCount(gw)).toBe(6);
  });

  it('keeps retrying while the target folder is unavailable and delivers exactly once when it is back', async () => {
    const gw = await startTestGateway({}, {});
    cleanup.push(() => gw.gateway.stop(), () => rm(gw.dataDir, { recursive: true, force: true }));
    await rename(gw.outbox, `${gw.outbox}-away`);
    for (let i = 0; i < 2; i++) expect(feedback(await post(gw.url, acceptDelivery(`unwritable-${i}`)))).toEqual(['0800']);
    await until('failed attempts', async () => {
      const records = await Promise.all((await gw.gateway.spool.list()).map((id) => gw.gateway.spool.get(id)));
      return records.every((r) => r?.deliveries.outbox?.error?.code === 'TARGET_NOT_WRITABLE');
    });
    await rename(`${gw.outbox}-away`, gw.outbox);
    await allDelivered(gw, 2);
    expect(await deliveredCount(gw)).toBe(2);
  });
});

async function startOnPort(dir: string, port: string): Promise<{ url: string; child: ChildProcess }> {
  const { spawn } = await import('node:child_process');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(dir, { recursive: true });
  const child = spawn('redis-server', ['--bind', '127.0.0.1', '--port', port, '--dir', dir, '--appendonly', 'no', '--save', ''], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const { redisAnswers } = await import('../src/demo/redis.js');
  await until('redis', () => redisAnswers(url));
  return { url, child };
}
