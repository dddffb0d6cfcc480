import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { rootElementOf, selectRoute } from '../src/pipeline/routing.js';
import type { MessageRecord } from '../src/spool/record.js';

const exec = promisify(execFile);
/** execFile that puts the command's stderr into the failure message. */
async function run(file: string, args: string[], options: Parameters<typeof exec>[2]) {
  try {
    return await exec(file, args, { ...options, encoding: 'utf8' });
  } catch (error) {
    const e = error as { message: string; stdout?: string; stderr?: string };
    throw new Error(`${e.message}\nstderr: ${String(e.stderr ?? '').slice(-2000)}\nstdout: ${String(e.stdout ?? '').slice(-1000)}`);
  }
}
const cli = resolve(import.meta.dirname, '../src/cli/main.ts');
/** tsx's loader by absolute URL: the commands run from a scratch directory outside the workspace. */
const tsx = pathToFileURL(resolve(import.meta.dirname, '../../../node_modules/tsx/dist/loader.mjs')).href;

describe('gateway start (the README\'s first command) on the embedded default', () => {
  it(
    'creates a demo PKI, sends a sample application and delivers it to ./data/outbox with the Laufzettel printed',
    async () => {
      const cwd = await mkdtemp(join(tmpdir(), 'efa-start-'));
      try {
        const { stdout } = await run(process.execPath, ['--import', tsx, cli, 'start', '--once', '--port', '0'], { cwd, env: { ...process.env, LOG_LEVEL: 'warn' }, maxBuffer: 8 * 1024 * 1024 });
        expect(stdout).toContain('answer: feedback 0800, supplier signature valid');
        expect(stdout).toMatch(/"state": "delivered"/);
        expect(stdout).toContain(join(cwd, 'data', 'outbox'));
        expect((await readdir(join(cwd, 'data', 'pki'))).sort()).toContain('authority-cipher.p12');
        // a second start reuses the PKI and the spool
        const again = await run(process.execPath, ['--import', tsx, cli, 'start', '--once', '--port', '0'], { cwd, env: { ...process.env, LOG_LEVEL: 'warn' } });
        expect(again.stdout).toMatch(/"state": "delivered"/);
        const show = await run(process.execPath, ['--import', tsx, cli, 'show', '--tenant', 'demo', '--message-id', /MessageId (demo-[^ )]+)/.exec(String(again.stdout))![1]!], { cwd });
        expect(JSON.parse(String(show.stdout)).events.map((e: { event: string }) => e.event)).toEqual(['received', 'verified', 'routed', 'mapped', 'delivered']);
      } finally {
        await rm(cwd, { recursive: true, force: true });
      }
    },
    180_000,
  );
});

describe('routing', () => {
  const record = (metadata: Record<string, string> = {}): MessageRecord => ({ id: 'x', channel: 'osci', tenant: 'bob', receivedAt: '', size: 0, sha256: '', state: 'queued', metadata, deliveries: {} });
  const bundle = (xml: string) => ({ contents: [{ id: undefined, kind: 'base64' as const, data: Buffer.from(xml) }], attachments: [] });

  it('reads the root element of the first content', () => {
    expect(rootElementOf(bundle('<?xml version="1.0"?>\n<!-- c --><x:Antrag xmlns:x="urn:a" v="1"/>'))).toBe('{urn:a}Antrag');
    expect(rootElementOf(bundle('<Antrag/>'))).toBe('Antrag');
  });

  it('picks the first route whose tenant, service and root element match', () => {
    const routes = [
      { name: 'gewerbe', match: { rootElement: '{urn:gewerbe}Anmeldung' }, procedure: 'passthrough', connectors: ['a'] },
      { name: 'xta', match: { service: 'urn:svc' }, procedure: 'passthrough', connectors: ['b'] },
      { name: 'other-tenant', match: { tenant: 'alice' }, procedure: 'passthrough', connectors: ['c'] },
      { name: 'rest', match: {}, procedure: 'passthrough', connectors: ['d'] },
    ];
    expect(selectRoute(routes, record(), bundle('<g:Anmeldung xmlns:g="urn:gewerbe"/>'))?.name).toBe('gewerbe');
    expect(selectRoute(routes, record({ service: 'urn:svc' }), bundle('<a/>'))?.name).toBe('xta');
    expect(selectRoute(routes, record(), bundle('<a/>'))?.name).toBe('rest');
    expect(selectRoute(routes.slice(0, 3), record(), bundle('<a/>'))).toBeUndefined();
  });
});
