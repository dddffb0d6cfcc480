import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { PeerItem } from './contract-suite.js';

/** What an importer scanning `root` would pick up: regular files, skipping dot-files, dot-directories and `.done` markers. */
export async function snapshotDirectory(root: string): Promise<PeerItem[]> {
  const items: PeerItem[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const path = join(dir, e.name);
      if (e.isDirectory()) await walk(path);
      else if (e.isFile() && !e.name.endsWith('.done')) {
        try {
          const size = (await stat(path)).size;
          items.push({ name: relative(root, path), size, sha256: await hashFile(path) });
        } catch {
          // vanished while scanning (renamed): not visible
        }
      }
    }
  };
  await walk(root);
  return items;
}

async function hashFile(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}
