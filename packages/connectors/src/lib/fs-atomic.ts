import { randomBytes } from 'node:crypto';
import { closeSync, constants, fdatasync, fstatSync, fsync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { chunksOf } from './streams.js';

/*
 * Small metadata files are opened, written and closed with synchronous calls: in the page cache these take
 * microseconds, while each promise-based call costs a thread-pool round trip (tens of microseconds of CPU, measured
 * as the largest cost of the gateway's event loop). Only fsync, which waits for the disk, goes to the thread pool.
 * Large bodies are streamed with asynchronous calls.
 */

/** fsync on the thread pool for a descriptor opened synchronously. */
export function fsyncDescriptor(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (error) => (error ? reject(error) : resolve())));
}

/** How much a large file may grow before `EarlyFlush` hands what was written to the disk. */
export const EARLY_FLUSH_BYTES = 8 * 1024 * 1024;

/**
 * Makes the closing fsync of a large file cheap: while the file is written, every `everyBytes` an fdatasync on the
 * thread pool sends what was written so far to the disk (one at a time; the writer does not wait for it). Without it
 * the kernel starts writing back only after ~30 s, and the closing fsync of a 100 MB file waits for all of it at once.
 * An error of such an fdatasync is kept and thrown by `settle` — the kernel reports a write-back error only once, so
 * the closing fsync might no longer see it.
 */
export class EarlyFlush {
  #sinceLast = 0;
  #running: Promise<void> | undefined;
  #error: unknown;

  constructor(
    private readonly fd: number,
    private readonly everyBytes = EARLY_FLUSH_BYTES,
  ) {}

  /** Counts bytes handed to the file; starts an fdatasync when enough have piled up and none is running. */
  wrote(bytes: number): void {
    this.#sinceLast += bytes;
    if (this.#sinceLast < this.everyBytes || this.#running) return;
    this.#sinceLast = 0;
    this.#running = new Promise<void>((resolve) =>
      fdatasync(this.fd, (error) => {
        if (error && this.#error === undefined) this.#error = error;
        this.#running = undefined;
        resolve();
      }),
    );
  }

  /** Waits for a running fdatasync (call before the closing fsync and before closing the descriptor); throws its error. */
  async settle(): Promise<void> {
    await this.#running;
    if (this.#error !== undefined) throw this.#error;
  }
}

/**
 * fsync a directory so that a rename or a new entry in it survives a power loss. Concurrent requests for the same
 * directory share fsyncs (group commit): a request waits for an fsync that starts after it was made, and all
 * requests made while one runs are served by the single next one. Shared directories (the spool's `messages/`,
 * a hotfolder) then cost a few fsyncs per batch of messages instead of one per message.
 */
export function fsyncDirectory(path: string): Promise<void> {
  let sync = directorySyncs.get(path);
  if (!sync) directorySyncs.set(path, (sync = new DirectorySync(path)));
  return sync.request();
}

const directorySyncs = new Map<string, DirectorySync>();

class DirectorySync {
  #running: Promise<void> | undefined;
  #queued: Promise<void> | undefined;

  constructor(readonly path: string) {}

  request(): Promise<void> {
    if (!this.#running) return this.#start();
    this.#queued ??= this.#running.then(noop, noop).then(() => {
      this.#queued = undefined;
      return this.#start();
    });
    return this.#queued;
  }

  #start(): Promise<void> {
    const run: Promise<void> = fsyncDirectoryNow(this.path).finally(() => {
      if (this.#running === run) this.#running = undefined;
      if (!this.#running && !this.#queued && directorySyncs.get(this.path) === this) directorySyncs.delete(this.path);
    });
    this.#running = run;
    return run;
  }
}

function noop(): void {}

async function fsyncDirectoryNow(path: string): Promise<void> {
  const fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fsyncDescriptor(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsync a file written earlier (its data and size), e.g. several files of one commit in parallel. */
export async function fsyncFile(path: string): Promise<void> {
  const fd = openSync(path, 'r');
  try {
    await fsyncDescriptor(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes a new file (exclusive create) and fsyncs its data; the caller fsyncs the directory (once for several files). */
export async function writeNewFileSynced(path: string, content: Buffer | string, mode = 0o600): Promise<void> {
  const fd = openSync(path, 'wx', mode);
  try {
    writeAllSync(fd, typeof content === 'string' ? Buffer.from(content) : content);
    await fsyncDescriptor(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(path, { force: true });
    throw error;
  }
  closeSync(fd);
}

/** Appends `line` (a newline is added when missing) and fsyncs it: an audit trail entry. */
export async function appendDurably(path: string, line: string, mode = 0o600): Promise<void> {
  const fd = openSync(path, 'a', mode);
  try {
    writeAllSync(fd, Buffer.from(line.endsWith('\n') ? line : `${line}\n`));
    await fsyncDescriptor(fd);
  } finally {
    closeSync(fd);
  }
}

/** Reads a small file synchronously (no thread-pool round trip); larger files asynchronously. */
export async function readSmallFile(path: string, syncLimit = 1024 * 1024): Promise<Buffer> {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > syncLimit) return await readFile(path);
    const out = Buffer.allocUnsafe(size);
    let at = 0;
    while (at < size) {
      const n = readSync(fd, out, at, size - at, at);
      if (n === 0) break;
      at += n;
    }
    return at === size ? out : out.subarray(0, at);
  } finally {
    closeSync(fd);
  }
}

function writeAllSync(fd: number, data: Buffer): void {
  let at = 0;
  while (at < data.length) at += writeSync(fd, data, at, data.length - at);
}

/** Chunks of a stream are written together once this much has arrived (one thread-pool round trip, not one per chunk). */
const WRITE_BATCH_BYTES = 1024 * 1024;
/** Most buffers one vectored write takes (Linux IOV_MAX). */
export const IOV_MAX = 1024;

/**
 * Streams `source` into a new file, fsyncs it and closes it. The file is removed if anything fails. Chunks are
 * gathered into writes of ≈ 1 MiB.
 */
export async function writeFileDurably(path: string, source: Readable, mode: number, signal: AbortSignal): Promise<number> {
  const handle = await open(path, 'wx', mode);
  const early = new EarlyFlush(handle.fd);
  let size = 0;
  let batch: Buffer[] = [];
  let batchBytes = 0;
  const writeBatch = async () => {
    for (let buffers = batch; buffers.length > 0;) buffers = remainderAfter(buffers, (await handle.writev(buffers)).bytesWritten);
    early.wrote(batchBytes);
    batch = [];
    batchBytes = 0;
  };
  try {
    for await (const chunk of chunksOf(source, signal)) {
      batch.push(chunk);
      batchBytes += chunk.length;
      size += chunk.length;
      if (batchBytes >= WRITE_BATCH_BYTES || batch.length >= IOV_MAX) await writeBatch();
    }
    await writeBatch();
    await early.settle();
    await handle.sync();
    await handle.close();
    return size;
  } catch (error) {
    await early.settle().catch(() => {});
    await handle.close().catch(() => {});
    await rm(path, { force: true });
    throw error;
  }
}

/** The buffers still to write after a (possibly partial) vectored write of `written` bytes. */
export function remainderAfter(buffers: Buffer[], written: number): Buffer[] {
  let i = 0;
  while (i < buffers.length && written >= buffers[i]!.length) written -= buffers[i++]!.length;
  if (i === buffers.length) return [];
  return [buffers[i]!.subarray(written), ...buffers.slice(i + 1)];
}

/** Writes small content atomically: temp file in the same directory, fsync, rename, fsync directory. */
export async function writeSmallFileAtomically(path: string, content: Buffer | string, mode = 0o640): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempName(path);
  await writeNewFileSynced(tmp, content, mode);
  renameSync(tmp, path);
  await fsyncDirectory(dirname(path));
}

export function tempName(final: string): string {
  return join(dirname(final), `.tmp-${basename(final)}-${randomBytes(6).toString('hex')}`);
}
