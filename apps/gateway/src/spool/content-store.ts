import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, unlinkSync, writev, writevSync } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { EarlyFlush, fsyncDescriptor, IOV_MAX, remainderAfter } from '@efa-gateway/connectors/fs';

/**
 * Opened content at rest, encrypted with the spool's local key: personal data never lies on disk in plaintext.
 *
 * Format (version 2, "segmented"): `EFASEAL2` ‖ 7-byte random nonce prefix ‖ segments. The plaintext — the parts
 * back to back, then a JSON manifest, then its length as 4 bytes — is cut into 64 KiB segments, each sealed with
 * AES-256-GCM under nonce = prefix ‖ segment number ‖ last-segment flag and AAD = the file's purpose (spool id, plus a
 * suffix for other files), each followed by its 16-byte tag. A segment cannot be altered, moved, dropped, or taken
 * from another message's file without failing its tag; the flag makes truncation at a segment border fail too.
 * Writing needs no sizes in advance (attachments are sealed while they are decrypted), and every segment can be
 * checked on its own, so a reader can stream a part without holding the file.
 *
 * Version 1 files (`IV ‖ GCM(manifest length ‖ manifest ‖ parts) ‖ tag`, written before) are still read.
 */
export interface ContentBundle {
  readonly contents: Array<{ id: string | undefined; kind: 'base64' | 'xml'; data: Buffer }>;
  readonly attachments: Array<{ refId: string; contentType: string; data: Buffer }>;
}

/** Where a part lies in the plaintext (version 2 manifests; version 1 parts lie back to back in manifest order). */
interface Placed {
  offset?: number;
  size: number;
}

export interface ContentManifest {
  contents: Array<{ id: string | null; kind: 'base64' | 'xml' } & Placed>;
  attachments: Array<{ refId: string; contentType: string } & Placed>;
}

const MAGIC = Buffer.from('EFASEAL2', 'latin1');
const PREFIX = 7;
const SEGMENT = 64 * 1024;
const TAG = 16;
const HEADER = MAGIC.length + PREFIX;
/** Sealed files up to this size are read and checked whole when opened for reading parts. */
const SMALL_FILE = 256 * 1024;
/** Sealed segments are written in batches of about this size. */
const WRITE_BATCH = 1024 * 1024;

function nonce(prefix: Buffer, index: number, last: boolean): Buffer {
  const n = Buffer.alloc(12);
  prefix.copy(n, 0);
  n.writeUInt32BE(index, PREFIX);
  n[11] = last ? 1 : 0;
  return n;
}

/**
 * Writes a sealed file while its plaintext arrives: `write` seals whole segments into memory, `flushSync`/`flush`
 * hand them to the disk, `finish` appends the manifest, seals the last segment, fsyncs and closes. The file is created
 * exclusively (0600); `abort` removes it.
 */
export class SealedWriter {
  readonly #fd: number;
  readonly #path: string;
  readonly #key: Buffer;
  readonly #aad: Buffer;
  readonly #prefix = randomBytes(PREFIX);
  #segment = 0;
  /** Plaintext of the segment being filled. */
  readonly #open = Buffer.allocUnsafe(SEGMENT);
  #filled = 0;
  #written = 0;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #closed = false;
  /** A large file goes to the disk while it is written (see EarlyFlush). */
  readonly #early: EarlyFlush;

  constructor(path: string, key: Buffer, aad: string) {
    this.#path = path;
    this.#key = key;
    this.#aad = Buffer.from(aad);
    this.#fd = openSync(path, 'wx', 0o600);
    this.#early = new EarlyFlush(this.#fd);
    this.#pending.push(MAGIC, this.#prefix);
    this.#pendingBytes = HEADER;
  }

  /** Plaintext bytes written so far: the offset of the next part. */
  get offset(): number {
    return this.#written;
  }

  /** Sealed bytes waiting for a flush. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  write(plaintext: Buffer): void {
    let at = 0;
    while (at < plaintext.length) {
      const n = plaintext.copy(this.#open, this.#filled, at);
      this.#filled += n;
      at += n;
      if (this.#filled === SEGMENT) this.#seal(false);
    }
    this.#written += plaintext.length;
  }

  /** Writes a part and flushes as it goes (for callers that must not block their thread for long). */
  async writeAsync(plaintext: Buffer): Promise<void> {
    for (let at = 0; at < plaintext.length; at += WRITE_BATCH) {
      this.write(plaintext.subarray(at, Math.min(plaintext.length, at + WRITE_BATCH)));
      await this.flush();
    }
  }

  #seal(last: boolean): void {
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce(this.#prefix, this.#segment++, last));
    cipher.setAAD(this.#aad);
    const sealed = cipher.update(this.#open.subarray(0, this.#filled));
    cipher.final();
    this.#pending.push(sealed, cipher.getAuthTag());
    this.#pendingBytes += sealed.length + TAG;
    this.#filled = 0;
  }

  /** Writes the sealed segments so far (blocking: for worker threads). */
  flushSync(): void {
    for (let buffers = this.#take(); buffers.length > 0;) {
      const written = writevSync(this.#fd, buffers.slice(0, IOV_MAX));
      this.#early.wrote(written);
      buffers = remainderAfter(buffers, written);
    }
  }

  /** Writes the sealed segments so far on the thread pool. */
  async flush(): Promise<void> {
    for (let buffers = this.#take(); buffers.length > 0;) {
      const written = await new Promise<number>((resolve, reject) =>
        writev(this.#fd, buffers.slice(0, IOV_MAX), (error, n) => (error ? reject(error) : resolve(n))),
      );
      this.#early.wrote(written);
      buffers = remainderAfter(buffers, written);
    }
  }

  #take(): Buffer[] {
    const buffers = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    return buffers;
  }

  /**
   * Appends the manifest and seals the last segment. Everything up to the fsync happens before this first yields,
   * so a worker thread can do other work while the disk flushes.
   */
  async finish(manifest: unknown): Promise<void> {
    const m = Buffer.from(JSON.stringify(manifest));
    const length = Buffer.alloc(4);
    length.writeUInt32BE(m.length);
    this.write(m);
    this.write(length);
    this.#seal(true);
    try {
      this.flushSync();
      await this.#early.settle();
      await fsyncDescriptor(this.#fd);
    } finally {
      this.#close();
    }
  }

  abort(): void {
    // An early fdatasync still running only finds the file removed or its descriptor closed: nothing to wait for.
    this.#close();
    try {
      unlinkSync(this.#path);
    } catch {
      // already gone
    }
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.#fd);
  }
}

/** Parts of a content bundle placed by a writer: their offsets, for the manifest. */
export class ContentBundleWriter {
  readonly #writer: SealedWriter;
  readonly #attachments = new Map<string, { offset: number; size: number }>();
  #current: { refId: string; offset: number; size: number } | undefined;

  constructor(path: string, key: Buffer, id: string) {
    this.#writer = new SealedWriter(path, key, id);
  }

  /** Attachment plaintext as it is decrypted (one attachment after the other). Flushes about every MiB. */
  attachmentData(refId: string, chunk: Buffer): void {
    if (this.#current?.refId !== refId) {
      if (this.#attachments.has(refId)) throw new Error(`attachment ${refId} arrived in two runs`);
      this.#current = { refId, offset: this.#writer.offset, size: 0 };
      this.#attachments.set(refId, this.#current);
    }
    this.#writer.write(chunk);
    this.#current.size += chunk.length;
    if (this.#writer.pendingBytes >= WRITE_BATCH) this.#writer.flushSync();
  }

  /**
   * Writes the inline contents and the manifest for the attachments as the opened message lists them (each must
   * have arrived with exactly its size, or be empty), then fsyncs.
   */
  finish(contents: ContentBundle['contents'], attachments: ReadonlyArray<{ refId: string; contentType: string; size: number }>): Promise<void> {
    const manifest: ContentManifest = { contents: [], attachments: [] };
    for (const a of attachments) {
      const placed = this.#attachments.get(a.refId) ?? { offset: this.#writer.offset, size: 0 };
      if (placed.size !== a.size) throw new Error(`attachment ${a.refId}: ${placed.size} bytes sealed, ${a.size} reported`);
      manifest.attachments.push({ refId: a.refId, contentType: a.contentType, offset: placed.offset, size: placed.size });
    }
    for (const c of contents) {
      manifest.contents.push({ id: c.id ?? null, kind: c.kind, offset: this.#writer.offset, size: c.data.length });
      this.#writer.write(c.data);
    }
    return this.#writer.finish(manifest);
  }

  abort(): void {
    this.#writer.abort();
  }
}

/** Writes a whole bundle as a sealed file (created exclusively, fsync'd). `synchronousWrites`: for worker threads. */
export async function sealContentToFile(
  path: string,
  key: Buffer,
  id: string,
  bundle: ContentBundle,
  options: { readonly synchronousWrites?: boolean } = {},
): Promise<void> {
  const writer = new SealedWriter(path, key, id);
  try {
    const manifest: ContentManifest = { contents: [], attachments: [] };
    const put = async (data: Buffer) => {
      const offset = writer.offset;
      if (options.synchronousWrites) writer.write(data);
      else await writer.writeAsync(data);
      return { offset, size: data.length };
    };
    for (const c of bundle.contents) manifest.contents.push({ id: c.id ?? null, kind: c.kind, ...(await put(c.data)) });
    for (const a of bundle.attachments) manifest.attachments.push({ refId: a.refId, contentType: a.contentType, ...(await put(a.data)) });
    await writer.finish(manifest);
  } catch (error) {
    writer.abort();
    throw error;
  }
}

export function openContent(key: Buffer, id: string, sealed: Buffer): ContentBundle {
  const { manifest, part } = openSealedParts<ContentManifest>(key, id, sealed);
  return {
    contents: manifest.contents.map((c) => ({ id: c.id ?? undefined, kind: c.kind, data: part(c) })),
    attachments: manifest.attachments.map((a) => ({ refId: a.refId, contentType: a.contentType, data: part(a) })),
  };
}

/** Seals `parts` (back to back) with `manifest`, whose entries the reader takes in order (see openSealedParts). */
export async function sealPartsToFile(path: string, key: Buffer, aad: string, manifest: unknown, parts: readonly Buffer[]): Promise<void> {
  const writer = new SealedWriter(path, key, aad);
  try {
    for (const p of parts) await writer.writeAsync(p);
    await writer.finish(manifest);
  } catch (error) {
    writer.abort();
    throw error;
  }
}

/**
 * Opens a sealed file held in memory (decrypted in place: no second copy). `part(entry)` returns a view of an entry's
 * bytes: at its `offset` when the manifest gives one, else right after the previous entry taken.
 */
export function openSealedParts<M>(key: Buffer, aad: string, sealed: Buffer): { manifest: M; part: (entry: Placed) => Buffer } {
  const { plaintext, manifestBytes, partsEnd } = sealed.subarray(0, MAGIC.length).equals(MAGIC)
    ? openVersion2(key, aad, sealed)
    : openVersion1(key, aad, sealed);
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as M;
  let next = 0;
  return {
    manifest,
    part: (entry) => {
      const offset = entry.offset ?? next;
      if (offset < 0 || offset + entry.size > partsEnd) throw new Error('sealed file: a part lies outside the file');
      next = offset + entry.size;
      return plaintext.subarray(offset, next);
    },
  };
}

function openVersion2(key: Buffer, aad: string, sealed: Buffer): { plaintext: Buffer; manifestBytes: Buffer; partsEnd: number } {
  const prefix = Buffer.from(sealed.subarray(MAGIC.length, HEADER)); // a copy: the plaintext overwrites the header
  const additional = Buffer.from(aad);
  let read = HEADER;
  let written = 0;
  for (let index = 0; read < sealed.length; index++) {
    const end = Math.min(sealed.length, read + SEGMENT + TAG);
    const last = end === sealed.length;
    if (end - read < TAG) throw new Error('sealed file: truncated segment');
    // Plaintext goes where the file began (always behind what is read): the file buffer becomes the plaintext.
    written += openSegment(key, prefix, additional, index, last, sealed.subarray(read, end)).copy(sealed, written);
    read = end;
  }
  if (read === HEADER) throw new Error('sealed file: no segments');
  const plaintext = sealed.subarray(0, written);
  if (written < 4) throw new Error('sealed file: no manifest');
  const mlen = plaintext.readUInt32BE(written - 4);
  const partsEnd = written - 4 - mlen;
  if (partsEnd < 0) throw new Error('sealed file: manifest length out of range');
  return { plaintext, manifestBytes: plaintext.subarray(partsEnd, written - 4), partsEnd };
}

function openVersion1(key: Buffer, aad: string, sealed: Buffer): { plaintext: Buffer; manifestBytes: Buffer; partsEnd: number } {
  const IV = 12;
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
  const body = sealed.subarray(IV, sealed.length - TAG);
  let at = 0;
  for (let from = 0; from < body.length; from += SEGMENT) at += decipher.update(body.subarray(from, Math.min(body.length, from + SEGMENT))).copy(body, at);
  at += decipher.final().copy(body, at);
  const mlen = body.readUInt32BE(0);
  const manifestBytes = body.subarray(4, 4 + mlen);
  // Parts follow the manifest back to back: copy the manifest out and address the parts from their start.
  return { plaintext: body.subarray(4 + mlen, at), manifestBytes: Buffer.from(manifestBytes), partsEnd: at - 4 - mlen };
}

/**
 * Reads parts of a version 2 sealed file without holding the file: each segment is decrypted and its tag checked
 * before any of its bytes are handed out, so a reader never sees altered or foreign data, even while streaming.
 */
export class SealedFileReader<M> {
  readonly #path: string;
  readonly #key: Buffer;
  readonly #aad: Buffer;
  readonly #prefix: Buffer;
  readonly #segments: number;
  readonly #size: number;
  /** The whole plaintext, for a small file read at once. */
  #plaintext: Buffer | undefined;
  /** Plaintext length (parts, manifest and its length field). */
  readonly #length: number;
  readonly manifest: M;

  private constructor(path: string, key: Buffer, aad: string, fd: number) {
    this.#path = path;
    this.#key = key;
    this.#aad = Buffer.from(aad);
    const size = (this.#size = fstatSync(fd).size);
    this.#prefix = Buffer.alloc(PREFIX);
    readSync(fd, this.#prefix, 0, PREFIX, MAGIC.length);
    this.#segments = Math.ceil((size - HEADER) / (SEGMENT + TAG));
    if (this.#segments < 1) throw new Error('sealed file: no segments');
    const lastStored = size - HEADER - (this.#segments - 1) * (SEGMENT + TAG);
    if (lastStored < TAG) throw new Error('sealed file: truncated segment');
    this.#length = (this.#segments - 1) * SEGMENT + lastStored - TAG;
    if (this.#length < 4) throw new Error('sealed file: no manifest');
    // A small file (most messages) is read and checked whole at once: later reads need no file access.
    if (size <= SMALL_FILE) this.#plaintext = this.#rangeSync(fd, 0, this.#length);
    const mlen = this.#rangeSync(fd, this.#length - 4, 4).readUInt32BE(0);
    if (mlen > this.#length - 4) throw new Error('sealed file: manifest length out of range');
    this.manifest = JSON.parse(this.#rangeSync(fd, this.#length - 4 - mlen, mlen).toString('utf8')) as M;
  }

  /** A reader for `path`, or undefined when the file has the first format (read it whole with openSealedParts). */
  static openSync<M>(path: string, key: Buffer, aad: string): SealedFileReader<M> | undefined {
    const fd = openSync(path, 'r');
    try {
      const magic = Buffer.alloc(MAGIC.length);
      if (readSync(fd, magic, 0, MAGIC.length, 0) < MAGIC.length || !magic.equals(MAGIC)) return undefined;
      return new SealedFileReader<M>(path, key, aad, fd);
    } finally {
      closeSync(fd);
    }
  }

  /** The bytes of a part (offset and size from the manifest), read and checked now (blocking). */
  readSync(entry: { readonly offset: number; readonly size: number }): Buffer {
    this.#check(entry);
    if (this.#plaintext) return this.#plaintext.subarray(entry.offset, entry.offset + entry.size);
    const fd = openSync(this.#path, 'r');
    try {
      return this.#rangeSync(fd, entry.offset, entry.size);
    } finally {
      closeSync(fd);
    }
  }

  /** The bytes of a part as a stream, read about 1 MiB at a time; each call opens the file anew. */
  stream(entry: { readonly offset: number; readonly size: number }): Readable {
    this.#check(entry);
    if (this.#plaintext) return Readable.from([this.#plaintext.subarray(entry.offset, entry.offset + entry.size)]);
    return Readable.from(this.#slices(entry.offset, entry.size), { objectMode: false });
  }

  #check(entry: { readonly offset: number; readonly size: number }): void {
    const { offset, size } = entry;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(size) || offset < 0 || size < 0 || offset + size > this.#length) {
      throw new Error('sealed file: a part lies outside the file');
    }
  }

  async *#slices(offset: number, size: number): AsyncGenerator<Buffer> {
    if (size === 0) return;
    const batch = Math.max(1, Math.floor(WRITE_BATCH / SEGMENT));
    const file = await openFile(this.#path, 'r');
    try {
      const buffer = Buffer.allocUnsafe(batch * (SEGMENT + TAG));
      const end = offset + size;
      for (let index = Math.floor(offset / SEGMENT); index * SEGMENT < end;) {
        const count = Math.min(batch, this.#segments - index, Math.ceil((end - index * SEGMENT) / SEGMENT));
        const position = HEADER + index * (SEGMENT + TAG);
        const want = Math.min(count * (SEGMENT + TAG), this.#size - position);
        const { bytesRead } = await file.read(buffer, 0, want, position);
        if (bytesRead !== want) throw new Error('sealed file: shorter than its segments');
        for (let k = 0; k < count; k++, index++) {
          const stored = buffer.subarray(k * (SEGMENT + TAG), Math.min(want, (k + 1) * (SEGMENT + TAG)));
          const plain = this.#decrypt(index, stored);
          const from = Math.max(0, offset - index * SEGMENT);
          const to = Math.min(plain.length, end - index * SEGMENT);
          if (to > from) yield plain.subarray(from, to);
        }
      }
    } finally {
      await file.close();
    }
  }

  #rangeSync(fd: number, offset: number, size: number): Buffer {
    if (this.#plaintext) return this.#plaintext.subarray(offset, offset + size);
    const out = Buffer.allocUnsafe(size);
    let at = 0;
    for (let index = Math.floor(offset / SEGMENT); at < size; index++) {
      const position = HEADER + index * (SEGMENT + TAG);
      const stored = Buffer.allocUnsafe(index === this.#segments - 1 ? this.#length - index * SEGMENT + TAG : SEGMENT + TAG);
      if (readSync(fd, stored, 0, stored.length, position) !== stored.length) throw new Error('sealed file: shorter than its segments');
      const plain = this.#decrypt(index, stored);
      at += plain.copy(out, at, Math.max(0, offset + at - index * SEGMENT));
    }
    return out;
  }

  #decrypt(index: number, stored: Buffer): Buffer {
    if (index >= this.#segments) throw new Error('sealed file: read past its last segment');
    return openSegment(this.#key, this.#prefix, this.#aad, index, index === this.#segments - 1, stored);
  }
}

/** Decrypts and checks one stored segment (ciphertext ‖ tag); throws if it was altered, moved or is foreign. */
function openSegment(key: Buffer, prefix: Buffer, aad: Buffer, index: number, last: boolean, stored: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, nonce(prefix, index, last));
  decipher.setAAD(aad);
  decipher.setAuthTag(stored.subarray(stored.length - TAG));
  const plain = decipher.update(stored.subarray(0, stored.length - TAG));
  decipher.final();
  return plain;
}
