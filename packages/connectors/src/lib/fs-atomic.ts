import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { chunksOf } from './streams.js';

/** fsync a directory so that a rename or a new entry in it survives a power loss. */
export async function fsyncDirectory(path: string): Promise<void> {
  const handle = await open(path, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Streams `source` into a new file, fsyncs it and closes it. The file is removed if anything fails. */
export async function writeFileDurably(path: string, source: Readable, mode: number, signal: AbortSignal): Promise<number> {
  const handle = await open(path, 'wx', mode);
  let size = 0;
  try {
    for await (const chunk of chunksOf(source, signal)) {
      let offset = 0;
      while (offset < chunk.length) offset += (await handle.write(chunk, offset)).bytesWritten;
      size += chunk.length;
    }
    await handle.sync();
    await handle.close();
    return size;
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(path, { force: true });
    throw error;
  }
}

/** Writes small content atomically: temp file in the same directory, fsync, rename, fsync directory. */
export async function writeSmallFileAtomically(path: string, content: Buffer | string, mode = 0o640): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.tmp-${basename(path)}-${randomBytes(6).toString('hex')}`);
  const handle = await open(tmp, 'wx', mode);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
  await fsyncDirectory(dirname(path));
}

export function tempName(final: string): string {
  return join(dirname(final), `.tmp-${basename(final)}-${randomBytes(6).toString('hex')}`);
}
