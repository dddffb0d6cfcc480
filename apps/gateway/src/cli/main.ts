#!/usr/bin/env -S npx tsx
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { Gateway } from '../gateway.js';
import { createLogger } from '../ops/logger.js';
import { ConfigError, loadConfig } from '../config/load.js';
import { laufzettel } from '../http/app.js';
import { Queues, redisConnection } from '../pipeline/queues.js';
import { replay } from '../pipeline/replay.js';
import { Spool } from '../spool/spool.js';
import { embeddedDefault } from '../demo/embedded.js';
import { sendSample } from '../demo/sample.js';
import { join } from 'node:path';

const USAGE = `usage: gateway <command> [options]
  start [--config FILE] [--port N] [--once]   HTTP intake + workers. Without --config: the embedded demo default
                                              (demo PKI, Redis at REDIS_URL/127.0.0.1:6379 or a local redis-server,
                                              hotfolder ./data/outbox) and a sample application sent through it.
                                              --once: stop after the sample was delivered (demo only).
  worker --config FILE                        pipeline workers only (scale out; several may share one Redis)
  show (ID | --tenant T --message-id M) [--config FILE]   print the Laufzettel of a message
  replay ID [--config FILE]                   bring a dead-lettered message back into the pipeline
  check-config --config FILE                  validate a configuration and report every problem`;

function opt(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

const out = (s: string) => process.stdout.write(s + '\n');

async function runtimeFrom(args: string[]) {
  const file = opt(args, 'config');
  if (file) return loadConfig(resolve(file), process.env, resolve(file, '..'));
  const embedded = await embeddedDefault(resolve('data'));
  embedded.redisChild?.unref();
  return loadConfig(embedded.config);
}

async function start(args: string[]): Promise<number> {
  const file = opt(args, 'config');
  const port = Number(opt(args, 'port') ?? 8080);
  if (file) {
    const runtime = loadConfig(resolve(file), process.env, resolve(file, '..'));
    const wanted = runtime.config.http.processes;
    const processes = wanted === 'auto' ? availableParallelism() : wanted;
    if (processes > 1 && cluster.isPrimary) return supervise(processes);
    const gateway = new Gateway(runtime);
    await gateway.start();
    stopOnSignals(gateway);
    return new Promise(() => {});
  }
  out('efa-gateway: embedded demo default (no --config given)');
  const embedded = await embeddedDefault(resolve('data'), port);
  out(`  demo PKI:  ${embedded.pki.dir}`);
  out(`  Redis:     ${embedded.config.redisUrl}${embedded.redisChild ? ' (local redis-server, persistence under ./data/redis)' : ''}`);
  out(`  outbox:    ${embedded.outbox}`);
  const gateway = new Gateway(loadConfig(embedded.config), { reconcileMs: 2000, logger: createLogger({ level: process.env.LOG_LEVEL ?? 'warn' }) });
  const bound = await gateway.start();
  const url = `http://127.0.0.1:${bound}/osci/demo`;
  out(`  intake:    POST ${url}   (operator API: http://127.0.0.1:${bound}/api/messages, /metrics, /readyz)`);
  const messageId = `demo-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  out(`\nsending a sample EfA application as the demo intermediary (MessageId ${messageId}) …`);
  const answer = await sendSample(url, embedded.pki, embedded.passphrase, messageId);
  out(`answer: feedback ${answer.codes.join(', ')}, supplier signature ${answer.signatureValid ? 'valid' : 'INVALID'}`);
  const id = await gateway.spool.findByMessageId('demo', messageId);
  const deadline = Date.now() + 60_000;
  let card = id ? await laufzettel(gateway.spool, id) : undefined;
  while (id && card?.state !== 'delivered' && card?.state !== 'failed' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    card = await laufzettel(gateway.spool, id);
  }
  out(`\nLaufzettel ${id ?? '(not stored)'}:`);
  out(JSON.stringify(card, null, 2));
  if (card?.state === 'delivered') out(`\ndelivered to ${join(embedded.outbox, String(card.deliveries.outbox?.receipt?.reference.path ?? ''))}`);
  if (args.includes('--once') || card?.state !== 'delivered') {
    await gateway.stop();
    embedded.redisChild?.kill();
    return card?.state === 'delivered' ? 0 : 1;
  }
  out('\nthe gateway keeps running; Ctrl-C stops it.');
  stopOnSignals(gateway, () => embedded.redisChild?.kill());
  return new Promise(() => {});
}

/** Runs `processes` gateway processes on one port and restarts one that dies. */
function supervise(processes: number): Promise<number> {
  let stopping = false;
  for (let i = 0; i < processes; i++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    process.stderr.write(`gateway: process ${worker.process.pid} ended (${signal ?? code}); starting a new one\n`);
    cluster.fork();
  });
  const stop = () => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
    setTimeout(() => process.exit(0), 10_000).unref();
    cluster.on('exit', () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return new Promise(() => {});
}

function stopOnSignals(gateway: Gateway, after?: () => void): void {
  const stop = () => {
    void gateway.stop().finally(() => {
      after?.();
      process.exit(0);
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function worker(args: string[]): Promise<number> {
  const file = opt(args, 'config');
  if (!file) throw new UsageError('worker needs --config');
  const gateway = new Gateway(loadConfig(resolve(file), process.env, resolve(file, '..')), { http: false, workers: true });
  await gateway.start();
  stopOnSignals(gateway);
  return new Promise(() => {});
}

async function show(args: string[]): Promise<number> {
  const runtime = await runtimeFrom(args);
  const spool = await new Spool(join(runtime.dataDir, 'spool')).init();
  const tenant = opt(args, 'tenant');
  const messageId = opt(args, 'message-id');
  const id = tenant && messageId ? await spool.findByMessageId(tenant, messageId) : args.find((a, i) => i === 0 && !a.startsWith('--'));
  const card = id ? await laufzettel(spool, id) : undefined;
  if (!card) {
    process.stderr.write('gateway: no such message in the spool\n');
    return 1;
  }
  out(JSON.stringify(card, null, 2));
  return 0;
}

async function replayCommand(args: string[]): Promise<number> {
  const id = args[0];
  if (!id || id.startsWith('--')) throw new UsageError('replay needs a spool id');
  const runtime = await runtimeFrom(args.slice(1));
  const spool = await new Spool(join(runtime.dataDir, 'spool')).init();
  const queues = new Queues(redisConnection(runtime.redisUrl), runtime.config.pipeline.prefix);
  try {
    out(JSON.stringify({ replayed: await replay(spool, queues, id, runtime.config.pipeline.attempts) }));
  } finally {
    await queues.close();
  }
  return 0;
}

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      return start(rest);
    case 'worker':
      return worker(rest);
    case 'show':
      return show(rest);
    case 'replay':
      return replayCommand(rest);
    case 'check-config': {
      const file = opt(rest, 'config');
      if (!file) throw new UsageError('check-config needs --config');
      loadConfig(resolve(file), process.env, resolve(file, '..'));
      out('configuration ok');
      return 0;
    }
    default:
      out(USAGE);
      return command === undefined || command === 'help' ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => void (process.exitCode = code),
  (error: unknown) => {
    if (error instanceof ConfigError) process.stderr.write(`gateway: ${error.message}\n`);
    else if (error instanceof UsageError) process.stderr.write(`gateway: ${error.message}\n${USAGE}\n`);
    else process.stderr.write(`gateway: ${(error as Error).message}\n`);
    process.exitCode = 2;
  },
);
