/**
 * `pnpm bench` (apps/gateway): messages through the whole pipeline over loopback — HTTP intake, spool, answer,
 * BullMQ stages, hotfolder — with this machine's RSA-4096 speed measured in the same run. Needs Redis
 * (REDIS_URL or 127.0.0.1:6379) and ../shared/osci-vectors (the demo PKI of the reference implementation).
 */
import { constants, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadPkcs12 } from '@efa-gateway/osci';
import { loadConfig } from '../src/index.js';
import { Spool } from '../src/spool/spool.js';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Agent, request } from 'node:http';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { acceptDelivery } from '../test/messages.js';

const SMALL = Number(process.env.BENCH_SMALL ?? 200);
/** Small messages sent and delivered before anything is measured: a long-running gateway has compiled its hot code. */
const WARMUP = Number(process.env.BENCH_WARMUP ?? 100);
const LARGE_MB = Number(process.env.BENCH_LARGE_MB ?? 100);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const RATE = Number(process.env.BENCH_RATE ?? 50);
const PACED = Number(process.env.BENCH_PACED ?? 250);
const shared = resolve(process.env.EFA_SHARED_DIR ?? join(import.meta.dirname, '../../../../shared'));
const PKI = join(shared, 'osci-vectors/pki');
const out = (line: string) => process.stdout.write(line + '\n');

const bob = loadPkcs12(await readFile(join(PKI, 'bob_cipher_4096.p12')), '123456');
const wrapped = publicEncrypt({ key: bob.certificate.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, randomBytes(32));
let ops = 0;
const rsaStart = performance.now();
while (performance.now() - rsaStart < 2000) {
  privateDecrypt({ key: bob.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, wrapped);
  ops++;
}
const rsaPerSecond = ops / ((performance.now() - rsaStart) / 1000);

const dataDir = await mkdtemp(join(tmpdir(), 'efa-bench-'));
const outbox = join(dataDir, 'outbox');
await mkdir(outbox);
const PROCESSES = process.env.BENCH_PROCESSES ?? '1';
const OPEN_THREADS = process.env.BENCH_OPEN_THREADS ?? 'auto';
const config = {
  dataDir,
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  http: {
    host: '127.0.0.1',
    port: 0,
    processes: PROCESSES === 'auto' ? 'auto' : Number(PROCESSES),
    openThreads: OPEN_THREADS === 'auto' ? 'auto' : Number(OPEN_THREADS),
  },
  limits: { maxMessageBytes: 1024 * 1024 * 1024 },
  pipeline: { prefix: `bench-${Date.now()}`, concurrency: Number(process.env.BENCH_PIPELINE_CONCURRENCY ?? 8), backoffMs: 200 },
  tenants: [
    {
      id: 'bob',
      cipher: { p12: join(PKI, 'bob_cipher_4096.p12'), passphraseEnv: 'BENCH_PIN' },
      signature: { p12: join(PKI, 'bob_signature_4096.p12'), passphraseEnv: 'BENCH_PIN' },
      trust: [join(PKI, 'osci_manager_signature_4096.cer')],
    },
  ],
  connectors: { outbox: { type: 'hotfolder', path: outbox } },
  routes: [{ name: 'all', connectors: ['outbox'] }],
};
// A fixed free port: cluster processes must agree on it.
const port = await new Promise<number>((resolvePort) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port;
    s.close(() => resolvePort(p));
  });
});
config.http.port = port;
await writeFile(join(dataDir, 'gateway.yaml'), stringify(config));
// The gateway runs with the Node flags of `pnpm gateway` (package.json), plus BENCH_NODE_ARGS (e.g. --cpu-prof
// --cpu-prof-dir=DIR for profiling).
const rootScripts = (JSON.parse(await readFile(join(import.meta.dirname, '../../../package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
const gatewayFlags =
  /^node ((?:--\S+ )*)--import tsx /
    .exec(rootScripts.gateway ?? '')?.[1]
    ?.trim()
    .split(' ')
    .filter(Boolean) ?? [];
const nodeArgs = [...gatewayFlags, ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)];
const child = spawn(
  process.execPath,
  [...nodeArgs, '--import', 'tsx', join(import.meta.dirname, '../src/cli/main.ts'), 'start', '--config', join(dataDir, 'gateway.yaml')],
  {
    env: { ...process.env, BENCH_PIN: '123456', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
    cwd: join(import.meta.dirname, '../../..'),
  },
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => (child.kill('SIGTERM'), process.exit(1)));
process.once('exit', () => child.kill('SIGTERM'));
const url = `http://127.0.0.1:${port}/osci/bob`;
for (let i = 0; ; i++) {
  if (
    await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    )
  )
    break;
  if (i > 600) throw new Error('the gateway did not become ready');
  await new Promise((r) => setTimeout(r, 100));
}
const runtime = loadConfig(config as Parameters<typeof loadConfig>[0], { ...process.env, BENCH_PIN: '123456' });
const spool = await new Spool(join(runtime.dataDir, 'spool')).init();
const gateway = {
  spool,
  stop: async () => {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  },
};

/**
 * POSTs like an intermediary (node:http, kept-alive connections). Not fetch: undici needs ≈ 0.7–1.2 s of this
 * process's CPU to send a 100 MB body (node:http ≈ 0.06 s), which measured the sender instead of the gateway.
 */
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
function post(target: string, body: Buffer): Promise<Buffer> {
  return new Promise((resolvePost, reject) => {
    const req = request(
      target,
      { method: 'POST', agent, headers: { 'Content-Type': 'Multipart/Related; type=text/xml', 'Content-Length': body.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolvePost(Buffer.concat(chunks)));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The gateway's processes: the one started here and its cluster children (read cheaply: no scan of /proc). */
async function gatewayPids(): Promise<number[]> {
  const children = await readFile(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').catch(() => '');
  return [child.pid!, ...children.split(/\s+/).filter(Boolean).map(Number)];
}

async function gatewayRss(): Promise<number> {
  let total = 0;
  for (const pid of await gatewayPids()) {
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    total += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
  }
  return total;
}

/** CPU seconds used so far by the gateway processes: user and system (kernel) time. */
async function gatewayCpu(): Promise<{ user: number; system: number }> {
  let user = 0;
  let system = 0;
  for (const pid of await gatewayPids()) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    user += Number(fields[11] ?? 0) / 100;
    system += Number(fields[12] ?? 0) / 100;
  }
  return { user, system };
}

/** CPU seconds per thread of the gateway processes (BENCH_THREADS=1 prints where the CPU time of the small messages went). */
async function threadCpu(): Promise<Map<string, { user: number; system: number }>> {
  const byName = new Map<string, { user: number; system: number }>();
  for (const pid of await gatewayPids()) {
    const tids = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
    for (const tid of tids) {
      const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => '');
      const name = `${stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))} ${tid === String(pid) ? 'main' : tid}`;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      byName.set(name, { user: Number(fields[11] ?? 0) / 100, system: Number(fields[12] ?? 0) / 100 });
    }
  }
  return byName;
}

/** Jiffies of the whole machine (/proc/stat): busy and idle (incl. waiting for the disk). */
async function machineCpu(): Promise<{ busy: number; idle: number; iowait: number }> {
  const [user, nice, system, idle, iowait, irq, softirq, steal] = (await readFile('/proc/stat', 'utf8'))
    .split('\n')[0]!
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return { busy: user! + nice! + system! + irq! + softirq! + steal!, idle: idle!, iowait: iowait! };
}

/** CPU seconds Redis reports for itself (INFO cpu: main thread and its helpers), user plus system. */
const redisInfo = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
async function redisCpu(): Promise<number | undefined> {
  try {
    const info = await redisInfo.info('cpu');
    const field = (name: string) => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? NaN);
    const seconds = field('used_cpu_user') + field('used_cpu_sys');
    return Number.isFinite(seconds) ? seconds : undefined;
  } catch {
    return undefined;
  }
}

/** Waits until n messages reached a final state (cheap to poll: two directory listings), then checks they were delivered. */
async function waitDelivered(n: number): Promise<void> {
  for (;;) {
    if ((await gateway.spool.list()).length >= n && (await gateway.spool.listOpen()).length === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const records = await Promise.all((await gateway.spool.list()).map((id) => gateway.spool.get(id)));
  const failed = records.find((r) => r?.state !== 'delivered');
  if (failed) throw new Error(`message ${failed.id} ended ${failed.state}: ${JSON.stringify(failed.deliveries)}`);
}

/** Sends the bodies from CONCURRENCY senders at once; returns the answer latencies. */
async function sendConcurrently(bodies: readonly Buffer[]): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        const t = performance.now();
        await post(url, body);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return latencies;
}

if (WARMUP > 0) {
  out(`warming up with ${WARMUP} small AcceptDeliveries (not measured) …`);
  await sendConcurrently(Array.from({ length: WARMUP }, (_, i) => acceptDelivery(`bench-warmup-${i}`)));
  await waitDelivered(WARMUP);
}
out(`building ${SMALL} small AcceptDeliveries (client side, not timed) …`);
const bodies = Array.from({ length: SMALL }, (_, i) => acceptDelivery(`bench-small-${i}`));
let peakRss = 0;
const sampler = setInterval(() => void gatewayRss().then((r) => (peakRss = Math.max(peakRss, r))), 50);
const cpuBefore = await gatewayCpu();
const threadsBefore = await threadCpu();
const machineBefore = await machineCpu();
const redisBefore = await redisCpu();
const started = performance.now();
const latencies = await sendConcurrently(bodies);
const answered = performance.now();
await waitDelivered(WARMUP + SMALL);
const delivered = performance.now();
const cpuAfter = await gatewayCpu();
const threadsAfter = await threadCpu();
const machineAfter = await machineCpu();
const redisAfter = await redisCpu();
const cpuUser = cpuAfter.user - cpuBefore.user;
const cpuSystem = cpuAfter.system - cpuBefore.system;
const cpuSmall = cpuUser + cpuSystem;
latencies.sort((a, b) => a - b);
/** The p-th percentile of sorted figures, or '–' when nothing was measured. */
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]?.toFixed(1) ?? '–';
const pct = (p: number) => percentile(latencies, p);

// Answer latency at a fixed offered rate (open loop: requests leave on schedule, whether or not earlier ones were
// answered), after the burst above has been delivered.
out(`building ${PACED} small AcceptDeliveries for ${RATE} msg/s paced …`);
const pacedBodies = Array.from({ length: PACED }, (_, i) => acceptDelivery(`bench-paced-${i}`));
const pacedLatencies: number[] = [];
const pacedStart = performance.now();
await Promise.all(
  pacedBodies.map(async (body, i) => {
    const due = pacedStart + (i * 1000) / RATE;
    await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
    const t = performance.now();
    await post(url, body);
    pacedLatencies.push(performance.now() - t);
  }),
);
await waitDelivered(WARMUP + SMALL + PACED);
pacedLatencies.sort((a, b) => a - b);
const pacedPct = (p: number) => percentile(pacedLatencies, p);

out(`building one AcceptDelivery with a ${LARGE_MB} MB attachment …`);
const large = acceptDelivery('bench-large', randomBytes(LARGE_MB * 1024 * 1024));
const rssBeforeLarge = await gatewayRss();
const lStart = performance.now();
let peakRssLarge = rssBeforeLarge;
const trace = process.env.BENCH_TRACE ? (r: number) => out(`  t=${(performance.now() - lStart).toFixed(0)} ms rss=${(r / 1048576).toFixed(0)} MiB`) : () => {};
const largeSampler = setInterval(() => void gatewayRss().then((r) => (trace(r), (peakRssLarge = Math.max(peakRssLarge, r)))), 50);
await post(url, large);
const lAnswered = performance.now();
if (process.env.BENCH_TRACE) out(`  t=${(lAnswered - lStart).toFixed(0)} ms answered`);
await waitDelivered(WARMUP + SMALL + PACED + 1);
const lDelivered = performance.now();
clearInterval(largeSampler);
clearInterval(sampler);
peakRss = Math.max(peakRss, await gatewayRss());

const row = (what: string, value: string, note = '') => out(`  ${what.padEnd(52)} ${value.padStart(14)}   ${note}`);
out(
  `\ngateway pipeline bench (gateway processes: ${PROCESSES}, ${CONCURRENCY} concurrent senders over loopback, after ${WARMUP} warm-up messages, Node ${process.version})`,
);
row('RSA-4096 private operations', `${rsaPerSecond.toFixed(1)} ops/s`, `≥ 3 per message ⇒ bound ≈ ${(rsaPerSecond / 3).toFixed(0)} msg/s per core`);
if (SMALL > 0) {
  row(`${SMALL} small messages answered`, `${(SMALL / ((answered - started) / 1000)).toFixed(1)} msg/s`);
  row(`${SMALL} small messages delivered to the hotfolder`, `${(SMALL / ((delivered - started) / 1000)).toFixed(1)} msg/s`, 'target ≥ 120 on 2 cores');
  row(
    'gateway CPU time per small message',
    `${((cpuSmall * 1000) / SMALL).toFixed(1)} ms`,
    `${(cpuSmall / ((delivered - started) / 1000)).toFixed(2)} cores busy on average; ${((cpuSystem * 1000) / SMALL).toFixed(1)} ms of it in the kernel`,
  );
  row(`answer latency p50 / p99 (${CONCURRENCY} senders)`, `${pct(50)} / ${pct(99)} ms`);
  if (redisBefore !== undefined && redisAfter !== undefined)
    row('Redis CPU time per small message', `${(((redisAfter - redisBefore) * 1000) / SMALL).toFixed(1)} ms`, 'not in the figure above; same cores');
  if (process.env.BENCH_THREADS) {
    const [busy, idle, iowait] = (['busy', 'idle', 'iowait'] as const).map((k) => machineAfter[k] - machineBefore[k]);
    row(
      '  the machine meanwhile',
      `${((100 * busy!) / (busy! + idle! + iowait!)).toFixed(0)} % busy`,
      `${((100 * iowait!) / (busy! + idle! + iowait!)).toFixed(0)} % waiting for the disk`,
    );
    const perMessage = (seconds: number) => `${((seconds * 1000) / SMALL).toFixed(1)} ms`;
    const spent = [...threadsAfter].map(([name, after]) => {
      const before = threadsBefore.get(name) ?? { user: 0, system: 0 };
      return { name, user: after.user - before.user, system: after.system - before.system };
    });
    for (const t of spent.sort((a, b) => b.user + b.system - (a.user + a.system)))
      if (t.user + t.system >= 0.05) row(`  of it in thread ${t.name}`, perMessage(t.user + t.system), `${perMessage(t.system)} in the kernel`);
  }
}
if (PACED > 0)
  row(`answer latency p50 / p99 at ${RATE} msg/s offered`, `${pacedPct(50)} / ${pacedPct(99)} ms`, `${PACED} messages; target p99 ≤ 50 ms at 50 msg/s`);
row(`${LARGE_MB} MB message answered`, `${(large.length / 1e6 / ((lAnswered - lStart) / 1000)).toFixed(1)} MB/s`);
row(`${LARGE_MB} MB message delivered`, `${(large.length / 1e6 / ((lDelivered - lStart) / 1000)).toFixed(1)} MB/s`, 'target ≥ 250 MB/s');
row(
  `peak RSS while the ${LARGE_MB} MB message passes`,
  `${(peakRssLarge / 1048576).toFixed(0)} MiB`,
  `${(rssBeforeLarge / 1048576).toFixed(0)} MiB before it; target ≤ 256 MiB`,
);
row('peak RSS of the gateway (all phases)', `${(peakRss / 1048576).toFixed(0)} MiB`, 'sampled every 50 ms, summed over its processes');
redisInfo.disconnect();
await gateway.stop();
await rm(dataDir, { recursive: true, force: true });
process.exit(0);
