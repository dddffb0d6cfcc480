import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { demoCertificatePath, PKI_DIR, VECTORS_DIR } from './support/vectors.js';

const run = promisify(execFile);
const cli = join(import.meta.dirname, '../src/cli/main.ts');
const tsx = join(import.meta.dirname, '../../../node_modules/.bin/tsx');

async function osci(args: string[]): Promise<{ code: number; json: Record<string, unknown>; stderr: string }> {
  try {
    const { stdout, stderr } = await run(tsx, [cli, ...args]);
    return { code: 0, json: JSON.parse(stdout), stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, json: e.stdout ? JSON.parse(e.stdout) : {}, stderr: e.stderr };
  }
}

const bob = ['--p12', join(PKI_DIR, 'bob_cipher_4096.p12'), '--pin', '123456'];

describe('osci inspect', () => {
  it('prints the opened message and exits 0', async () => {
    const r = await osci(['inspect', join(VECTORS_DIR, 'cases/b-accept-delivery/request.bin'), ...bob, '--trust', demoCertificatePath('osci_manager_signature_4096')]);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({
      ok: true,
      orderType: 'acceptDelivery',
      messageId: 'vec-S-accept-0001',
      subject: 'Weiterleitung EfA 4712',
      transport: { encrypted: true, algorithm: 'http://www.w3.org/2009/xmlenc11#aes256-gcm', ivLength: 12, keyTransport: 'http://www.w3.org/2009/xmlenc11#rsa-oaep' },
      signatures: [
        { scope: 'order', valid: true, trusted: true },
        { scope: 'content', valid: true, trusted: false },
      ],
      attachments: [{ refId: 'anlage1.bin', size: 1024, sha256: '51d58d77fc76889d34e0a02aa5cc2168aa3425aff508a9e3472f7627513cbfc2' }],
    });
    expect(JSON.stringify(r.json)).not.toContain('Erika'); // no plaintext content in the summary
  });

  it('exits 3 with the OSCI code for a rejected message', async () => {
    const r = await osci(['inspect', join(VECTORS_DIR, 'cases/d-accept-tampered-signature-value/request.bin'), ...bob]);
    expect(r.code).toBe(3);
    expect(r.json).toMatchObject({ ok: false, error: { code: '9601' } });
  });

  it('needs --allow-legacy for CBC/rsa-1_5 and accepts several keys', async () => {
    const file = join(VECTORS_DIR, 'cases/c-store-legacy-cbc-rsa15/request.bin');
    const keys = ['--p12', join(PKI_DIR, 'osci_manager_cipher_4096.p12'), ...bob];
    expect((await osci(['inspect', file, ...keys])).json).toMatchObject({ ok: false, error: { reason: 'ALGORITHM_LEGACY_REFUSED' } });
    expect((await osci(['inspect', file, ...keys, '--allow-legacy'])).json).toMatchObject({ ok: true, transport: { legacy: true } });
  });

  it('exits 2 with usage on bad arguments', async () => {
    const r = await osci(['inspect']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('usage');
  });
});
