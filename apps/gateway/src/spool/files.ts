import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export async function fsyncDir(path: string): Promise<void> {
  const h = await open(path, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** Temp file, fsync, rename, fsync directory: the file is either old or new after a crash, never torn. */
export async function writeDurably(path: string, content: Buffer | string, mode = 0o600): Promise<void> {
  const tmp = join(dirname(path), `.tmp-${basename(path)}-${randomBytes(6).toString('hex')}`);
  await writeNewFileSynced(tmp, content, mode);
  await rename(tmp, path);
  await fsyncDir(dirname(path));
}

/** Appends one line and fsyncs it (audit trail). */
export async function appendDurably(path: string, line: string): Promise<void> {
  const h = await open(path, 'a', 0o600);
  try {
    await h.write(line.endsWith('\n') ? line : `${line}\n`);
    await h.sync();
  } finally {
    await h.close();
  }
}

/** Writes a new file and fsyncs its data (the caller fsyncs the directory once for several files). */
export async function writeNewFileSynced(path: string, content: Buffer | string, mode = 0o600): Promise<void> {
  const h = await open(path, 'wx', mode);
  try {
    await h.writeFile(content);
    await h.sync();
  } finally {
    await h.close();
  }
}
