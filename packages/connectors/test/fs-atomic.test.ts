import type * as NodeFs from 'node:fs';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

// Count the fsync calls that reach the file system (the real fsync still runs).
const calls = vi.hoisted(() => ({ fsync: 0 }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof NodeFs>();
  return {
    ...fs,
    fsync: (fd: number, cb: (error: NodeJS.ErrnoException | null) => void) => {
      calls.fsync++;
      fs.fsync(fd, cb);
    },
  };
});

const { appendDurably, fsyncDirectory, readSmallFile, writeNewFileSynced, writeSmallFileAtomically } = await import('../src/lib/fs-atomic.js');

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
