import type * as NodeFs from 'node:fs';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

// Count the fsync calls that reach the file system (the real fsync still runs).
const calls = vi.hoisted(() => ({ fsync: 0, fdatasync: 0 }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof NodeFs>();
  return {
    ...fs,
    fsync: (fd: number, cb: (error: NodeJS.ErrnoException | null) => void) => {
      calls.fsync++;
      fs.fsync(fd, cb);
    },
    fdatasync: (fd: number, cb: (error: NodeJS.ErrnoException | null) => void) => {
      calls.fdatasync++;
      fs.fdatasync(fd, cb);
    },
  };
});

const { appendDurably, EarlyFlush, fsyncDirectory, readSmallFile, remainderAfter, writeFileDurably, writeNewFileSynced, writeSmallFileAtomically } =
  await import('../src/lib/fs-atomic.js');

const dir = mkdtempSync(join(tmpdir(), 'fs-atomic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('durable small-file primitives', () => {
  it('serves concurrent fsyncs of one directory with one running and one following fsync (group commit)', async () => {
    calls.fsync = 0;
    await Promise.all(Array.from({ length: 20 }, () => fsyncDirectory(dir)));
    // The first request starts an fsync; all others arrive while it runs and share the single next one.
    expect(calls.fsync).toBe(2);
    // A request made after those finished gets an fsync of its own.
    await fsyncDirectory(dir);
    expect(calls.fsync).toBe(3);
  });

  it('writes, replaces and appends files durably, and reads them back', async () => {
    const path = join(dir, 'record.json');
    await writeNewFileSynced(path, '{"v":1}');
    await expect(writeNewFileSynced(path, 'again')).rejects.toMatchObject({ code: 'EEXIST' });
    expect(readFileSync(path, 'utf8')).toBe('{"v":1}'); // the existing file is left as it was
    await writeSmallFileAtomically(path, '{"v":2}', 0o600);
    expect(readFileSync(path, 'utf8')).toBe('{"v":2}');
    await appendDurably(join(dir, 'log'), 'one');
    await appendDurably(join(dir, 'log'), 'two\n');
    expect((await readSmallFile(join(dir, 'log'))).toString()).toBe('one\ntwo\n');
    // Above the synchronous limit the read goes through the thread pool, with the same result.
    expect((await readSmallFile(join(dir, 'log'), 2)).toString()).toBe('one\ntwo\n');
  });
});

describe('EarlyFlush (large files go to the disk while they are written)', () => {
  it('starts one fdatasync per threshold of written bytes, never two at once, and settles', async () => {
    const { openSync, closeSync, writeSync } = await import('node:fs');
    const fd = openSync(join(dir, 'early.bin'), 'w');
    try {
      calls.fdatasync = 0;
      const early = new EarlyFlush(fd, 1000);
      writeSync(fd, Buffer.alloc(999));
      early.wrote(999);
      expect(calls.fdatasync).toBe(0);
      writeSync(fd, Buffer.alloc(10));
      early.wrote(10);
      expect(calls.fdatasync).toBe(1);
      early.wrote(5000); // while the first runs: counted, not started
      expect(calls.fdatasync).toBe(1);
      await early.settle();
      early.wrote(1000);
      expect(calls.fdatasync).toBe(2);
      await early.settle();
    } finally {
      closeSync(fd);
    }
  });

  it('keeps the error of an fdatasync and throws it from settle (the kernel reports a write-back error only once)', async () => {
    const { openSync, closeSync } = await import('node:fs');
    const fd = openSync('/dev/null', 'r'); // fdatasync: EINVAL
    try {
      const early = new EarlyFlush(fd, 1);
      early.wrote(1);
      await expect(early.settle()).rejects.toMatchObject({ code: 'EINVAL' });
    } finally {
      closeSync(fd);
    }
  });

  it('is used by writeFileDurably: a 20 MiB file is flushed on the way, and written whole', async () => {
    const { Readable } = await import('node:stream');
    const { createHash } = await import('node:crypto');
    const chunks = Array.from({ length: 20 }, (_, i) => Buffer.alloc(1024 * 1024, i));
    calls.fdatasync = 0;
    const path = join(dir, 'large.bin');
    const size = await writeFileDurably(path, Readable.from(chunks), 0o600, new AbortController().signal);
    expect(size).toBe(20 * 1024 * 1024);
    expect(calls.fdatasync).toBeGreaterThanOrEqual(1);
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    expect(sha(readFileSync(path))).toBe(sha(Buffer.concat(chunks)));
  });
});

describe('writeFileDurably gathers chunks into vectored writes', () => {
  it('writes many tiny chunks (more than one vectored write takes) in order', async () => {
    const { Readable } = await import('node:stream');
    const chunks = Array.from({ length: 3000 }, (_, i) => Buffer.from([i % 251]));
    const path = join(dir, 'tiny-chunks.bin');
    expect(await writeFileDurably(path, Readable.from(chunks), 0o600, new AbortController().signal)).toBe(3000);
    expect(readFileSync(path).equals(Buffer.concat(chunks))).toBe(true);
  });

  it('continues a partial vectored write where it stopped', () => {
    const b = [Buffer.from('abc'), Buffer.from('de'), Buffer.from('fgh')];
    expect(remainderAfter(b, 0).map(String)).toEqual(['abc', 'de', 'fgh']);
    expect(remainderAfter(b, 4).map(String)).toEqual(['e', 'fgh']);
    expect(remainderAfter(b, 5).map(String)).toEqual(['fgh']);
    expect(remainderAfter(b, 8)).toEqual([]);
  });
});
