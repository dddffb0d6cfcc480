import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/index.js';
import { PKI } from './support.js';

describe('configuration', () => {
  it('reports every problem at once, one line per field', () => {
    let problems: readonly string[] = [];
    try {
      loadConfig(
        {
          tenants: [{ id: 'Bad Id', cipher: { p12: '/nope.p12', passphraseEnv: 'X' }, signature: { p12: join(PKI, 'bob_signature_4096.p12') }, trust: [] }],
          connectors: {},
          routes: [],
          redisUrl: 'http://x',
        },
        {},
      );
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      problems = (error as ConfigError).problems;
    }
    expect(problems).toEqual([
      'redisUrl: must be a redis:// or rediss:// URL',
      'tenants.0.id: must be lower-case letters, digits and dashes',
      'tenants.0.signature: give exactly one of passphraseEnv or passphraseFile',
      'tenants.0.trust: needs at least one trust anchor (the intermediary signature certificate or its CA)',
      'routes: needs at least one route',
    ]);
  });

  it('checks keys, passphrases, connectors and references after the schema', () => {
    let problems: readonly string[] = [];
    try {
      loadConfig(
        {
          tenants: [
            {
              id: 'bob',
              cipher: { p12: join(PKI, 'bob_cipher_4096.p12'), passphraseEnv: 'UNSET_PIN' },
              signature: { p12: join(PKI, 'bob_signature_4096.p12'), passphraseEnv: 'WRONG_PIN' },
              trust: ['/does/not/exist.cer'],
            },
          ],
          connectors: { dms: { type: 'hotfolder', path: 'relative' }, x: { type: 'carrier-pigeon' } },
          routes: [{ name: 'r', procedure: 'unknown', connectors: ['dms', 'missing'], match: { tenant: 'alice' } }],
        },
        { WRONG_PIN: 'nope' },
      );
    } catch (error) {
      problems = (error as ConfigError).problems;
    }
    expect(problems).toEqual([
      'tenants.0.cipher.passphraseEnv: environment variable UNSET_PIN is not set',
      expect.stringMatching(/^tenants\.0\.signature\.p12: .*PKCS#12 could not be opened/),
      expect.stringMatching(/^tenants\.0\.trust\.0: cannot read a certificate from \/does\/not\/exist\.cer/),
      'connectors.dms.path: must be an absolute path',
      expect.stringMatching(/^connectors\.x\.type: unknown connector type "carrier-pigeon"/),
      'routes.0.connectors: unknown connector "missing"',
      expect.stringMatching(/^routes\.0\.procedure: unknown procedure "unknown"/),
      'routes.0.match.tenant: unknown tenant "alice"',
    ]);
  });

  it('reads YAML with passphrase files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'efa-cfg-'));
    await writeFile(join(dir, 'pin'), '123456\n');
    await writeFile(
      join(dir, 'gateway.yaml'),
      `dataDir: ./data
tenants:
  - id: bob
    cipher: { p12: ${join(PKI, 'bob_cipher_4096.p12')}, passphraseFile: pin }
    signature: { p12: ${join(PKI, 'bob_signature_4096.p12')}, passphraseFile: pin }
    trust: [${join(PKI, 'osci_manager_signature_4096.cer')}]
connectors:
  dms: { type: hotfolder, path: ${dir} }
routes:
  - { name: all, connectors: [dms] }
`,
    );
    const runtime = loadConfig(join(dir, 'gateway.yaml'), {}, dir);
    expect(runtime.dataDir).toBe(join(dir, 'data'));
    expect(runtime.tenants.get('bob')?.path).toBe('/osci/bob');
    expect(runtime.routes[0]?.procedure).toBe('passthrough');
    await rm(dir, { recursive: true, force: true });
  });
});

describe('operator API protection', () => {
  it('requires the bearer token when one is configured', async () => {
    const { startTestGateway } = await import('./support.js');
    process.env.EFA_TEST_OPERATOR_TOKEN = 'operator-token-0123456789abcdef';
    const gw = await startTestGateway({ http: { host: '127.0.0.1', port: 0, operatorTokenEnv: 'EFA_TEST_OPERATOR_TOKEN' } });
    try {
      const api = gw.url.replace('/osci/bob', '/api/messages');
      expect((await fetch(api)).status).toBe(401);
      expect((await fetch(api, { headers: { authorization: 'Bearer wrong-token-0123456789abcdefgh' } })).status).toBe(401);
      expect((await fetch(api, { headers: { authorization: `Bearer ${process.env.EFA_TEST_OPERATOR_TOKEN}` } })).status).toBe(200);
      expect((await fetch(gw.url.replace('/osci/bob', '/healthz'))).status).toBe(200);
    } finally {
      await gw.gateway.stop();
      await rm(gw.dataDir, { recursive: true, force: true });
      delete process.env.EFA_TEST_OPERATOR_TOKEN;
    }
  });

  it('never turns ids, tenants or pickup keys from requests into paths outside the spool', async () => {
    const { startTestGateway } = await import('./support.js');
    const gw = await startTestGateway({}, { workers: false });
    try {
      // A journal with a record where a traversing id would lead: it must never be read.
      const outside = join(gw.dataDir, 'elsewhere');
      await mkdir(outside);
      await writeFile(join(outside, 'events.jsonl'), JSON.stringify({ record: { id: 'leaked', state: 'delivered', deliveries: {} } }) + '\n');
      const base = gw.url.replace('/osci/bob', '');
      for (const id of ['..%2F..%2Felsewhere', '..%2F..%2F..%2Fetc', '%2e%2e', 'x%00y']) {
        const card = await fetch(`${base}/api/messages/${id}`);
        expect(card.status, id).toBe(404);
        expect(await card.text(), id).not.toContain('leaked');
        expect((await fetch(`${base}/api/messages/${id}/replay`, { method: 'POST' })).status, id).toBe(404);
      }
      const byMessageId = await fetch(`${base}/api/messages?tenant=${encodeURIComponent('../elsewhere')}&messageId=x`);
      expect(byMessageId.status).toBe(404);
      const pickup = await fetch(`${base}/api/pickups`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ idempotencyKey: '../../elsewhere/x/outbox', status: 'picked-up' }),
      });
      expect([400, 404]).toContain(pickup.status);
    } finally {
      await gw.gateway.stop();
      await rm(gw.dataDir, { recursive: true, force: true });
    }
  });
});
