import { mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hotfolder } from '../src/hotfolder/index.js';
import { createConnector } from '../src/contract/options.js';
import { defineConnectorContract, snapshotDirectory, bufferDocument, testDelivery } from '../src/testing/index.js';

defineConnectorContract('hotfolder', async () => {
  const root = await mkdtemp(join(tmpdir(), 'efa-hotfolder-'));
  const away = `${root}-away`;
  const connector = createConnector(hotfolder, 'dms-import', { path: root });
  return {
    connector,
    peer: {
      snapshot: () => snapshotDirectory(root),
      // An unmounted/removed import folder (root bypasses permission bits, so a chmod would not do).
      breakTemporarily: () => rename(root, away),
      restore: async () => {
        await rename(away, root).catch(() => {});
      },
    },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

describe('hotfolder specifics', () => {
  const ctx = { signal: new AbortController().signal, attempt: 1 };

  it('lays deliveries out by template, writes done markers and lands a package as one file in file mode', async () => {
    const root = await mkdtemp(join(tmpdir(), 'efa-hotfolder-'));
    const c = createConnector(hotfolder, 'dms', { path: root, layout: '{tenant}/{yyyy}/{messageId}_{key}', mode: 'file', doneMarker: true });
    const delivery = testDelivery([bufferDocument('akte.zip', Buffer.from('PK\u0003\u0004…'), 'application/zip', 'package')], { messageId: 'M/1:2' });
    const receipt = await c.deliver(delivery, ctx);
    const dir = join(root, 'musterstadt', '2026');
    const files = (await readdir(dir)).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/^M_1_2_[0-9a-f]{12}_akte\.zip$/);
    expect(files[1]).toBe(`${files[0]}.done`);
    expect(String(receipt.reference.path)).toBe(`musterstadt/2026/${files[0]}`);
    expect(await readFile(join(dir, files[0]!), 'utf8')).toBe('PK\u0003\u0004…');
    await rm(root, { recursive: true, force: true });
  });

  it('remembers deliveries after the importer took the files away', async () => {
    const root = await mkdtemp(join(tmpdir(), 'efa-hotfolder-'));
    const c = createConnector(hotfolder, 'dms', { path: root });
    const delivery = testDelivery([bufferDocument('a.xml', Buffer.from('<a/>'))]);
    await c.deliver(delivery, ctx);
    await rm(join(root, 'musterstadt'), { recursive: true });
    expect((await c.deliver(delivery, ctx)).duplicate).toBe(true);
    expect(await snapshotDirectory(root)).toEqual([]);
    await rm(root, { recursive: true, force: true });
  });

  it('rejects bad configuration with one line per field', () => {
    let message = '';
    try {
      createConnector(hotfolder, 'dms', { path: 'relative/dir', layout: '../{tenant}/{nope}', mode: 'zip', fileMode: '999', extra: 1 });
    } catch (error) {
      message = (error as Error).message;
      expect((error as { code: string }).code).toBe('CONFIG_INVALID');
    }
    const lines = message.split('\n').slice(1).map((l) => l.trim());
    expect(lines).toEqual([
      'connectors.dms.path: must be an absolute path',
      expect.stringMatching(/^connectors\.dms\.layout: must be a relative path/),
      expect.stringMatching(/^connectors\.dms\.mode: /),
      'connectors.dms.fileMode: must be an octal mode such as "0640"',
      expect.stringMatching(/^connectors\.dms: Unrecognized key/),
    ]);
  });

  it('refuses unsafe document names and keeps every path inside the root', async () => {
    const root = await mkdtemp(join(tmpdir(), 'efa-hotfolder-'));
    const c = createConnector(hotfolder, 'dms', { path: root });
    const receipt = await c.deliver(testDelivery([bufferDocument('../../etc/passwd', Buffer.from('x'))], { tenant: '../..' }), ctx);
    expect(String(receipt.reference.path).split('/')).not.toContain('..');
    const [item] = await snapshotDirectory(root);
    expect(item!.name.split('/')).not.toContain('..');
    expect(item!.name).toMatch(/^__\.\.\/xdomea-akte\/2026-11-23\/msg-[^/]+\/__\.\._etc_passwd$/);
    await rm(root, { recursive: true, force: true });
  });
});
