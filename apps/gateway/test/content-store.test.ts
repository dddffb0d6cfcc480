import { createCipheriv, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import {
  ContentBundleWriter,
  openContent,
  openSealedParts,
  SealedFileReader,
  sealContentToFile,
  sealPartsToFile,
  type ContentManifest,
} from '../src/spool/content-store.js';

const key = randomBytes(32);
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'efa-sealed-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A payload whose every 64 KiB segment differs (so swapped segments cannot decrypt by accident). */
function payload(bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i + 4 <= bytes; i += 4) b.writeUInt32BE(i, i);
  return b;
}

describe('sealed content (segmented AES-256-GCM)', () => {
  const bundle = {
    contents: [
      { id: 'c1', kind: 'base64' as const, data: Buffer.from('<antrag/>') },
      { id: undefined, kind: 'xml' as const, data: Buffer.from('<x/>') },
    ],
    attachments: [
      { refId: 'scan.pdf', contentType: 'application/pdf', data: payload(300_000) },
      { refId: 'leer.txt', contentType: 'text/plain', data: Buffer.alloc(0) },
    ],
  };

  for (const synchronousWrites of [false, true]) {
    it(`round-trips a bundle (${synchronousWrites ? 'synchronous' : 'asynchronous'} writes); the file is 0600 and holds no plaintext`, async () => {
      const path = join(dir, `bundle-${synchronousWrites}`);
      await sealContentToFile(path, key, 'id-1', bundle, { synchronousWrites });
      const sealed = await readFile(path);
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      expect(sealed.includes(Buffer.from('<antrag/>'))).toBe(false);
      expect(openContent(key, 'id-1', Buffer.from(sealed))).toEqual(bundle);
    });
  }

  it('writes attachments as they arrive and the contents after them (the streaming intake)', async () => {
    const path = join(dir, 'streamed');
    const writer = new ContentBundleWriter(path, key, 'id-2');
    const scan = bundle.attachments[0]!.data;
    for (let at = 0; at < scan.length; at += 10_000) writer.attachmentData('scan.pdf', scan.subarray(at, at + 10_000));
    await writer.finish(
      bundle.contents,
      bundle.attachments.map((a) => ({ refId: a.refId, contentType: a.contentType, size: a.data.length })),
    );
    expect(openContent(key, 'id-2', await readFile(path))).toEqual(bundle);
  });

  it('refuses a manifest that does not match what was written', async () => {
    const writer = new ContentBundleWriter(join(dir, 'mismatch'), key, 'id-3');
    writer.attachmentData('a', Buffer.alloc(10));
    expect(() => writer.finish([], [{ refId: 'a', contentType: 'x', size: 11 }])).toThrow(/10 bytes sealed, 11 reported/);
    writer.abort();
    await expect(stat(join(dir, 'mismatch'))).rejects.toThrow();
  });

  it('detects a flipped byte, swapped or dropped segments, truncation at a segment border and another message id', async () => {
    const path = join(dir, 'tamper');
    await sealPartsToFile(path, key, 'id-4', [{ size: 200_000 }], [payload(200_000)]);
    const sealed = await readFile(path);
    const open = (b: Buffer, aad = 'id-4') => openSealedParts<Array<{ size: number }>>(key, aad, Buffer.from(b));
    expect(open(sealed).part({ size: 200_000 }).equals(payload(200_000))).toBe(true);
    const header = 15;
    const segment = 64 * 1024 + 16;
    const plaintext = 200_000 + JSON.stringify([{ size: 200_000 }]).length + 4;
    expect(sealed.length).toBe(header + 3 * segment + (plaintext - 3 * 65536) + 16);

    const flipped = Buffer.from(sealed);
    flipped[header + segment + 100]! ^= 1;
    expect(() => open(flipped)).toThrow();
    const swapped = Buffer.concat([
      sealed.subarray(0, header),
      sealed.subarray(header + segment, header + 2 * segment),
      sealed.subarray(header, header + segment),
      sealed.subarray(header + 2 * segment),
    ]);
    expect(() => open(swapped)).toThrow();
    const dropped = Buffer.concat([sealed.subarray(0, header + segment), sealed.subarray(header + 2 * segment)]);
    expect(() => open(dropped)).toThrow();
    expect(() => open(sealed.subarray(0, header + 3 * segment))).toThrow();
    expect(() => open(sealed, 'id-5')).toThrow();
  });

  it('still reads files of the first format (one GCM stream, manifest first)', () => {
    const manifest = { contents: [{ id: 'c1', kind: 'base64', size: 9 }], attachments: [{ refId: 'a', contentType: 'text/plain', size: 3 }] };
    const m = Buffer.from(JSON.stringify(manifest));
    const head = Buffer.alloc(4);
    head.writeUInt32BE(m.length);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from('id-6'));
    const body = Buffer.concat([cipher.update(Buffer.concat([head, m, Buffer.from('<antrag/>'), Buffer.from('abc')])), cipher.final()]);
    const v1 = Buffer.concat([iv, body, cipher.getAuthTag()]);
    expect(openContent(key, 'id-6', v1)).toEqual({
      contents: [{ id: 'c1', kind: 'base64', data: Buffer.from('<antrag/>') }],
      attachments: [{ refId: 'a', contentType: 'text/plain', data: Buffer.from('abc') }],
    });
  });

  it('reads single parts of a file without holding it: at once or streamed, across segment borders', async () => {
    const path = join(dir, 'reader');
    const big = payload(1_000_003);
    await sealContentToFile(path, key, 'id-7', {
      contents: [{ id: 'c', kind: 'xml', data: Buffer.from('<a/>') }],
      attachments: [{ refId: 'big', contentType: 'application/pdf', data: big }],
    });
    const reader = SealedFileReader.openSync<ContentManifest>(path, key, 'id-7')!;
    const [entry] = reader.manifest.attachments;
    const placed = { offset: entry!.offset!, size: entry!.size };
    expect(reader.readSync(placed).equals(big)).toBe(true);
    expect(reader.readSync({ offset: placed.offset + 65_000, size: 2000 }).equals(big.subarray(65_000, 67_000))).toBe(true);
    const streamed: Buffer[] = [];
    for await (const chunk of reader.stream(placed)) streamed.push(chunk as Buffer);
    expect(Buffer.concat(streamed).equals(big)).toBe(true);
    expect(streamed.length).toBeGreaterThan(1);
    expect(() => reader.readSync({ offset: placed.offset, size: placed.size + 10_000 })).toThrow(/outside/);
    expect(() => reader.readSync({ offset: Number.NaN, size: 10 })).toThrow(/outside/); // an entry without an offset
    expect(() => SealedFileReader.openSync(path, key, 'id-8')).toThrow();
  });

  it('stops a stream at an altered segment before handing out any of its bytes', async () => {
    const path = join(dir, 'reader-tampered');
    await sealPartsToFile(path, key, 'id-9', [{ size: 500_000 }], [payload(500_000)]);
    const reader = SealedFileReader.openSync<Array<{ size: number }>>(path, key, 'id-9')!;
    const sealed = await readFile(path);
    sealed[15 + 5 * (65536 + 16) + 7]! ^= 1; // inside segment 5
    await writeFile(path, sealed);
    let received = 0;
    await expect(
      (async () => {
        for await (const chunk of reader.stream({ offset: 0, size: 500_000 })) received += (chunk as Buffer).length;
      })(),
    ).rejects.toThrow();
    expect(received).toBeLessThanOrEqual(5 * 65536);
  });

  it('reads a small file whole when it is opened: parts from memory, any alteration refused at once', async () => {
    const path = join(dir, 'reader-small');
    const data = payload(100_000);
    await sealPartsToFile(path, key, 'id-10', [{ size: 100_000 }], [data]);
    const reader = SealedFileReader.openSync<Array<{ size: number }>>(path, key, 'id-10')!;
    expect(reader.readSync({ offset: 70_000, size: 1000 }).equals(data.subarray(70_000, 71_000))).toBe(true);
    const streamed: Buffer[] = [];
    for await (const chunk of reader.stream({ offset: 0, size: 100_000 })) streamed.push(chunk as Buffer);
    expect(Buffer.concat(streamed).equals(data)).toBe(true);
    const sealed = await readFile(path);
    sealed[15 + 65536 + 16 + 10]! ^= 1; // second segment
    await writeFile(path, sealed);
    expect(() => SealedFileReader.openSync(path, key, 'id-10')).toThrow();
  });

  it('leaves files of the first format to openSealedParts', async () => {
    const path = join(dir, 'v1');
    await writeFile(path, randomBytes(100));
    expect(SealedFileReader.openSync(path, key, 'x')).toBeUndefined();
  });
});
