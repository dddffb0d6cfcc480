import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { fsyncDescriptor } from '@efa-gateway/connectors';

/**
 * Opened content at rest, encrypted with the spool's local key (AES-256-GCM, AAD = spool id): a manifest and the
 * parts back to back. Personal data never lies on disk in plaintext. Sealed and opened in 64 KiB slices, so large
 * attachments cost one pass and no intermediate copies.
 */
export interface ContentBundle {
  readonly contents: Array<{ id: string | undefined; kind: 'base64' | 'xml'; data: Buffer }>;
  readonly attachments: Array<{ refId: string; contentType: string; data: Buffer }>;
}

interface Manifest {
  contents: Array<{ id: string | null; kind: 'base64' | 'xml'; size: number }>;
  attachments: Array<{ refId: string; contentType: string; size: number }>;
}

const SLICE = 64 * 1024;
const IV = 12;
const TAG = 16;

/** Writes go out in larger slices: one thread-pool round trip per MiB instead of per 64 KiB. */
const WRITE_SLICE = 1024 * 1024;

function* slices(data: Buffer, size = SLICE): Generator<Buffer> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, Math.min(data.length, at + size));
}

/** Writes the sealed bundle to `path` (created exclusively) and fsyncs it. */
export async function sealContentToFile(path: string, key: Buffer, id: string, bundle: ContentBundle, options: { readonly synchronousWrites?: boolean } = {}): Promise<void> {
  const manifest: Manifest = {
    contents: bundle.contents.map((c) => ({ id: c.id ?? null, kind: c.kind, size: c.data.length })),
    attachments: bundle.attachments.map((a) => ({ refId: a.refId, contentType: a.contentType, size: a.data.length })),
  };
  await sealPartsToFile(path, key, id, manifest, [...bundle.contents.map((c) => c.data), ...bundle.attachments.map((a) => a.data)], options);
}

export function openContent(key: Buffer, id: string, sealed: Buffer): ContentBundle {
  const { manifest, take } = openSealedParts<Manifest>(key, id, sealed);
  return {
    contents: manifest.contents.map((c) => ({ id: c.id ?? undefined, kind: c.kind, data: take(c.size) })),
    attachments: manifest.attachments.map((a) => ({ refId: a.refId, contentType: a.contentType, data: take(a.size) })),
  };
}

/**
 * The sealed file format: IV ‖ AES-256-GCM(4-byte manifest length ‖ JSON manifest ‖ parts back to back) ‖ tag, with
 * `aad` (the spool id, plus a purpose suffix for other files) as additional data so a file cannot be swapped for
 * another message's. Written in 64 KiB slices, created exclusively, fsync'd.
 */
export async function sealPartsToFile(
  path: string,
  key: Buffer,
  aad: string,
  manifest: unknown,
  parts: readonly Buffer[],
  options: { readonly synchronousWrites?: boolean } = {},
): Promise<void> {
  const m = Buffer.from(JSON.stringify(manifest));
  const head = Buffer.alloc(4);
  head.writeUInt32BE(m.length);
  const iv = randomBytes(IV);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const pieces = function* (): Generator<Buffer> {
    yield iv;
    for (const part of [head, m, ...parts]) for (const slice of slices(part, WRITE_SLICE)) yield cipher.update(slice);
    yield cipher.final();
    yield cipher.getAuthTag();
  };
  if (options.synchronousWrites) {
    // Everything up to the fsync happens before this function first yields: a caller (a worker thread) can do other
    // work while the disk flushes.
    const fd = openSync(path, 'wx', 0o600);
    try {
      for (const piece of pieces()) for (let at = 0; at < piece.length; ) at += writeSync(fd, piece, at);
      await fsyncDescriptor(fd);
    } finally {
      closeSync(fd);
    }
    return;
  }
  const file = await open(path, 'wx', 0o600);
  try {
    for (const piece of pieces()) await file.write(piece);
    await file.sync();
  } finally {
    await file.close();
  }
}

/** Opens a sealed file; `take(n)` returns the next n bytes of the parts (views into `sealed`, decrypted in place). */
export function openSealedParts<M>(key: Buffer, aad: string, sealed: Buffer): { manifest: M; take: (n: number) => Buffer } {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
  // Decrypt in place into the buffer we already hold: no second copy of a large attachment.
  const body = sealed.subarray(IV, sealed.length - TAG);
  let at = 0;
  for (const slice of slices(body)) at += decipher.update(slice).copy(body, at);
  at += decipher.final().copy(body, at);
  const mlen = body.readUInt32BE(0);
  const manifest = JSON.parse(body.subarray(4, 4 + mlen).toString('utf8')) as M;
  let offset = 4 + mlen;
  return { manifest, take: (n: number) => body.subarray(offset, (offset += n)) };
}
