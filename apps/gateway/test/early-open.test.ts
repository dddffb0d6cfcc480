import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EarlyOpener } from '../src/http/early-open.js';
import { xmlLimitsOf, type OpenContext } from '../src/http/open-task.js';
import { openContent } from '../src/spool/content-store.js';
import { bobRuntime, VECTORS } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'efa-early-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const runtime = bobRuntime();
const key = Buffer.alloc(32, 9);
const context = (overrides: Partial<OpenContext> = {}): OpenContext => ({
  tenants: runtime.tenants,
  spoolKey: key,
  allowLegacyAlgorithms: false,
  allowUnencryptedTransport: false,
  maxMessageBytes: 64 * 1024 * 1024,
  xmlLimits: xmlLimitsOf(runtime.config.limits.xml),
  ...overrides,
});
const bob = runtime.tenants.get('bob')!;

/** Feeds a body as the receive would (64 KiB chunks). */
function feed(early: EarlyOpener, body: Buffer): void {
  for (let at = 0; at < body.length; at += 65536) early.tap(body.subarray(at, at + 65536));
}

describe('EarlyOpener (opening a large message while its body arrives)', () => {
  const vector = (name: string) => readFileSync(join(VECTORS, `cases/${name}/request.bin`));
  const meta = JSON.parse(readFileSync(join(VECTORS, 'cases/c-accept-5mb-attachment/meta.json'), 'utf8')) as {
    message_id: string;
    content_layer: { attachments: Array<{ ref_id: string; plaintext_sha256: string }> };
  };

  it('opens the 5 MB reference vector as it arrives, seals its attachment and answers', async () => {
    const sealTo = join(dir, 'sealed-1');
    const early = new EarlyOpener(bob, context(), 'spool-1', sealTo);
    feed(early, vector('c-accept-5mb-attachment'));
    expect(early.usable).toBe(true);
    const outcome = await early.conclude();
    expect(outcome).toMatchObject({ kind: 'opened', messageId: meta.message_id });
    const bundle = openContent(key, 'spool-1', readFileSync(sealTo));
    expect(bundle.attachments.map((a) => [a.refId, sha256(a.data)])).toEqual(meta.content_layer.attachments.map((a) => [a.ref_id, a.plaintext_sha256]));
  });

  it('rejects a damaged message with its code and leaves no sealed content', async () => {
    const body = Buffer.from(vector('c-accept-5mb-attachment'));
    body[body.length - 300_000]! ^= 0x01; // transport ciphertext: the tag fails at the end
    const sealTo = join(dir, 'sealed-2');
    const early = new EarlyOpener(bob, context(), 'spool-2', sealTo);
    feed(early, body);
    const outcome = await early.conclude();
    expect(outcome).toMatchObject({ kind: 'rejected', error: { code: '9202' } });
    expect(existsSync(sealTo)).toBe(false);
  });

  it('decides the size limit while the body arrives', async () => {
    const early = new EarlyOpener(bob, context({ maxMessageBytes: 1024 * 1024 }), 'spool-3', join(dir, 'sealed-3'));
    feed(early, vector('c-accept-5mb-attachment'));
    expect(await early.conclude()).toMatchObject({ kind: 'rejected', error: { reason: 'INPUT_TOO_LARGE' } });
  });

  it('hands a message of an unusual shape (no transport encryption) back for opening on the pool', () => {
    const sealTo = join(dir, 'sealed-4');
    const early = new EarlyOpener(bob, context({ allowUnencryptedTransport: true }), 'spool-4', sealTo);
    feed(early, vector('c-accept-no-transport-enc'));
    expect(early.usable).toBe(false);
    expect(existsSync(sealTo)).toBe(false);
  });
});
