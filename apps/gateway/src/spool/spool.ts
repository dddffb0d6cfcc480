import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  createWriteStream,
  existsSync,
  fstatSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  readSync,
  rmSync,
  renameSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import type { MappedDocument } from '@efa-gateway/xoev-mapping';
import { pipeline } from 'node:stream/promises';
import {
  openContent,
  openSealedParts,
  SealedFileReader,
  sealContentToFile,
  sealPartsToFile,
  type ContentBundle,
  type ContentManifest,
} from './content-store.js';
import { appendDurably, EarlyFlush, fsyncDir, fsyncFile, readSmallFile, writeDurably } from './files.js';
import type { AuditEvent, MessageRecord } from './record.js';
import { TENANT_ID } from '../config/schema.js';

/** An entry of the kept mapped output: a document's bytes follow in the file, a forwarded attachment's do not. */
interface StoredMappedEntry {
  readonly name: string;
  readonly contentType: string;
  readonly role: 'primary' | 'attachment' | 'package';
  readonly size: number;
  readonly attachment?: string;
}

/** An attachment of a spooled message, left in its sealed file until it is read or streamed. */
export interface StoredAttachment {
  readonly refId: string;
  readonly contentType: string;
  readonly size: number;
  /** Reads and checks it now (blocking). */
  read(): Buffer;
  /** Streams it, checked segment by segment; every call reads anew. */
  open(): Readable;
}

export interface StoredContent {
  readonly contents: ContentBundle['contents'];
  readonly attachments: readonly StoredAttachment[];
}

/** What `accept`/`quarantine` make durable together with the message: its first audit events and a deferred claim. */
export interface StoreExtras {
  readonly events?: ReadonlyArray<Omit<AuditEvent, 'at'>>;
  readonly claim?: { readonly tenant: string; readonly messageId: string };
}

export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
}

/**
 * The durable spool, the gateway's source of truth. Layout under `dir`:
 * `incoming/` bodies being received · `messages/<id>/{original.bin,events.jsonl,content.bin,mapped.bin}` (events.jsonl, the
 * message's journal: the record as stored at acceptance as its first line, then the Laufzettel events and the record
 * after each update, see `update`; spools of earlier versions keep the accepted record in `meta.json`) ·
 * `quarantine/<id>/…` rejected or undecryptable messages · `index/<tenant>/<sha256(MessageId)>` idempotency (a link to the owning spool id) ·
 * `open/<id>` one marker per message without a final state (what the reconciler looks at; hard links to one empty
 * file `open/.marker…`, see `#markOpen`) ·
 * `key` the local content key (0600).
 */
export class Spool {
  #key: Buffer | undefined;
  /** The empty file the `open/` markers link to (see `#markOpen`). */
  #markerBase: string | undefined;
  constructor(readonly dir: string) {}

  async init(): Promise<this> {
    const hadOpenIndex = await stat(join(this.dir, 'open')).then(
      () => true,
      () => false,
    );
    for (const d of ['incoming', 'messages', 'quarantine', 'index', 'open']) await mkdir(join(this.dir, d), { recursive: true, mode: 0o700 });
    this.#adoptMarkerBase();
    if (!hadOpenIndex) {
      // A spool from before the open index: mark every message without a final state once.
      for (const id of await this.list()) {
        const r = await this.get(id);
        if (r && !FINAL_STATES.has(r.state)) this.#markOpen(id);
      }
    }
    const keyPath = join(this.dir, 'key');
    try {
      this.#key = await readFile(keyPath);
    } catch {
      await writeDurably(keyPath, randomBytes(32), 0o600);
      this.#key = await readFile(keyPath);
    }
    if (this.#key.length !== 32) throw new Error(`${keyPath} is not a 32-byte key`);
    return this;
  }

  /** The local content key, for worker threads of this process that seal content (never written anywhere else). */
  get contentKey(): Buffer {
    if (!this.#key) throw new Error('spool not initialised');
    return this.#key;
  }

  /** Where `receive` stores the body of `id`. */
  incomingPath(id: string): string {
    return join(this.dir, 'incoming', `${id}.bin`);
  }

  /** Where the sealed content of a message being received is written before `accept` moves it into place. */
  sealPath(id: string): string {
    return join(this.dir, 'incoming', `${id}.content`);
  }

  newId(): string {
    return `${Date.now().toString(36)}-${randomBytes(8).toString('hex')}`;
  }

  /**
   * Streams a request body to `incoming/<id>.bin` (not held whole in memory here), bounded, fsync'd. `tap` sees every
   * chunk as it arrives (it must not change it, and keeps it only where the memory is accounted for — the intake
   * keeps small bodies; errors it throws fail the receive); `allRead` is called once the last byte was read, before
   * the file is flushed to disk.
   */
  async receive(
    id: string,
    body: Readable,
    maxBytes: number,
    tap?: (chunk: Buffer) => void,
    allRead?: () => void,
  ): Promise<{ path: string; size: number; sha256: string }> {
    const path = this.incomingPath(id);
    const hash = createHash('sha256');
    let size = 0;
    // flush: the descriptor is fsync'd before it is closed, so the body is durable when the pipeline resolves.
    const out = createWriteStream(path, { flags: 'wx', mode: 0o600, flush: true, highWaterMark: 1024 * 1024 });
    // A large body goes to the disk while it arrives, so that the closing fsync has little left to wait for.
    let early: EarlyFlush | undefined;
    out.once('open', (fd: number) => (early = new EarlyFlush(fd)));
    try {
      await pipeline(
        body,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            size += chunk.length;
            if (size > maxBytes) throw new BodyTooLargeError(`body larger than ${maxBytes} bytes`);
            hash.update(chunk);
            tap?.(chunk);
            yield chunk;
            early?.wrote(chunk.length);
          }
          allRead?.();
          await early?.settle(); // before the stream's closing fsync and close
        },
        out,
      );
      // Data durable now; its directory entry becomes durable where it is moved to (accept/quarantine).
    } catch (error) {
      await rm(path, { force: true });
      throw error;
    }
    return { path, size, sha256: hash.digest('hex') };
  }

  /**
   * Claims the MessageId for this spool id: the index entry is created exclusively, so of two processes receiving
   * the same MessageId at once exactly one wins. Returns the spool id that owns the MessageId. With `deferSync` the
   * new entry is not fsync'd here: `accept` makes it durable in its single fsync round (pass it as `claim`).
   */
  async claim(tenant: string, messageId: string, id: string, options: { readonly deferSync?: boolean } = {}): Promise<string> {
    const dir = join(this.dir, 'index', tenant);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, messageKey(messageId));
    try {
      // The entry is a symbolic link whose target is the spool id: created exclusively and with its content in one
      // step, kept in the inode itself (no data block to allocate and write back for every message).
      symlinkSync(id, path);
      if (!options.deferSync) await fsyncDir(dir);
      return id;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      for (let i = 0; i < 50; i++) {
        const [owner, flag] = readClaim(path).trim().split(/\s+/);
        if (owner && (flag === RETIRED || !this.#isStaleOwner(owner))) return owner;
        if (owner) {
          // A claim whose message was never stored (the process died after claiming, before storing; nothing was
          // acknowledged): this delivery takes the MessageId over instead of being answered as a duplicate.
          replaceClaim(path, id);
          if (!options.deferSync) await fsyncDir(dir);
          return id;
        }
        await new Promise((r) => setTimeout(r, 10)); // a claim file of an earlier version whose id is still being written
      }
      throw new Error(`index entry ${path} stays empty`);
    }
  }

  /** The owner of a claim has no stored message and is not being received right now. */
  #isStaleOwner(owner: string): boolean {
    if (!isSpoolId(owner)) return false; // not a spool id: leave it alone
    const stored = ['messages', 'quarantine'].some((area) => isStored(join(this.dir, area, owner)));
    return !stored && !existsSync(this.incomingPath(owner));
  }

  /** Releases a claim that did not lead to a stored message (storing failed). */
  async release(tenant: string, messageId: string, id: string): Promise<void> {
    const path = join(this.dir, 'index', tenant, messageKey(messageId));
    if (claimOwner(path) === id) await rm(path, { force: true });
  }

  /**
   * Moves a received body into `messages/<id>/` with its record and sealed content (a bundle to seal, or a file
   * sealed already at `sealPath`); all fsync'd before returning.
   */
  async accept(
    incoming: string,
    record: MessageRecord,
    content: ContentBundle | { readonly sealedFile: string } | undefined,
    extra: StoreExtras = {},
  ): Promise<void> {
    const marker = this.#markOpen(record.id); // made durable by the fsync of open/ in #store
    const alsoSync = [() => fsyncDir(join(this.dir, 'open')), ...this.#claimSyncs(extra.claim)];
    try {
      await this.#store('messages', incoming, record, content, alsoSync, extra.events);
    } catch (error) {
      // Nothing was acknowledged. A message directory with its record is still picked up by its MessageId retry,
      // whose deliveries share the same idempotency keys; one without a record (the store failed half-way) is
      // removed with the marker, so it neither lingers nor is ever mistaken for a message.
      if (!(await this.#removeUnstored('messages', record.id))) await rm(marker, { force: true });
      throw error;
    }
  }

  /**
   * Keeps a rejected or undecryptable message (original bytes, the record, its first audit events and — when it was
   * acknowledged — its MessageId claim), all fsync'd in one round.
   */
  async quarantine(incoming: string, record: MessageRecord, extra: StoreExtras = {}): Promise<void> {
    try {
      await this.#store('quarantine', incoming, record, undefined, this.#claimSyncs(extra.claim), extra.events);
    } catch (error) {
      await this.#removeUnstored('quarantine', record.id);
      throw error;
    }
  }

  /** After a failed store: removes the message directory unless its record was written. True if it was. */
  async #removeUnstored(area: 'messages' | 'quarantine', id: string): Promise<boolean> {
    const dir = join(this.dir, area, id);
    const stored = isStored(dir);
    if (!stored) await rm(dir, { recursive: true, force: true });
    return stored;
  }

  /** The fsync that makes a deferred MessageId claim durable (its directory: the link lives in the directory's inode table). */
  #claimSyncs(claim: StoreExtras['claim']): Array<() => Promise<void>> {
    if (!claim) return [];
    return [() => fsyncDir(join(this.dir, 'index', claim.tenant))];
  }

  async #store(
    area: 'messages' | 'quarantine',
    incoming: string,
    record: MessageRecord,
    content: ContentBundle | { readonly sealedFile: string } | undefined,
    alsoSync: ReadonlyArray<() => Promise<void>> = [],
    events?: ReadonlyArray<Omit<AuditEvent, 'at'>>,
  ): Promise<void> {
    const dir = join(this.dir, area, record.id);
    mkdirSync(dir, { mode: 0o700 });
    renameSync(incoming, join(dir, 'original.bin'));
    if (content && 'sealedFile' in content) renameSync(content.sealedFile, join(dir, 'content.bin'));
    else if (content) await sealContentToFile(join(dir, 'content.bin'), this.#key!, record.id, content);
    // A fresh directory: the files are written, then everything involved (files, the new directory, the directories
    // entries moved out of and into, the caller's extras) is fsync'd in one parallel round — one wait for the disk.
    // The record and the first audit events are the journal's first lines: one file, one fsync.
    const journal = join(dir, JOURNAL);
    const lines = [JSON.stringify({ record }), ...(events?.length ? [eventLines(events)] : [])].join('\n');
    writeFileSync(journal, `${lines}\n`, { flag: 'wx', mode: 0o600 });
    await Promise.all([fsyncFile(journal), fsyncDir(dir), fsyncDir(join(this.dir, area)), fsyncDir(join(this.dir, 'incoming')), ...alsoSync.map((f) => f())]);
  }

  /** The spool id of an accepted message with this MessageId for the tenant (idempotency), if any. */
  async findByMessageId(tenant: string, messageId: string): Promise<string | undefined> {
    if (!TENANT_ID.test(tenant)) return undefined;
    const owner = claimOwner(join(this.dir, 'index', tenant, messageKey(messageId)));
    return owner !== undefined && isSpoolId(owner) ? owner : undefined;
  }

  /** The record of a message (stored or quarantined); undefined for an unknown id or one that is no spool id. */
  async get(id: string): Promise<MessageRecord | undefined> {
    if (!isSpoolId(id)) return undefined;
    for (const area of ['messages', 'quarantine']) {
      const dir = join(this.dir, area, id);
      // The journal's last complete record line is the record; spools of earlier versions have it in meta.json until
      // the first update.
      const journal = readJournal(dir);
      if (journal.record) return journal.record;
      let initial: Buffer;
      try {
        initial = await readSmallFile(join(dir, 'meta.json'));
      } catch {
        continue; // try the next area
      }
      return legacyRecord(dir) ?? (JSON.parse(initial.toString('utf8')) as MessageRecord);
    }
    return undefined;
  }

  /**
   * Read-modify-write of a record (callers serialise per message: one pipeline job per stage holds it), together
   * with the audit events of the change. The message's journal `events.jsonl` starts with the record as accepted
   * and holds its audit events and, after every update, the whole new record as a line `{"record": …}` — record and
   * events of one change are one fsync'd append (no temp file, rename or directory fsync per update). The last
   * complete record line is the record. (Spools written before kept the accepted record in `meta.json` and the
   * record lines in `updates.jsonl`; both are still read, and superseded by the first record line in the journal.)
   */
  async update(id: string, change: (record: MessageRecord) => void, events: ReadonlyArray<Omit<AuditEvent, 'at'>> = []): Promise<MessageRecord> {
    if (!isSpoolId(id)) throw new Error(`${JSON.stringify(id)} is not a spool id`);
    const dir = join(this.dir, 'messages', id);
    const journal = readJournal(dir);
    const record = journal.record ?? legacyRecord(dir) ?? (JSON.parse((await readSmallFile(join(dir, 'meta.json'))).toString('utf8')) as MessageRecord);
    change(record);
    const lines = [JSON.stringify({ record }), ...(events.length > 0 ? [eventLines(events)] : [])].join('\n');
    // A line torn by a crash is closed first, so that it cannot swallow this one.
    await appendDurably(join(dir, JOURNAL), `${journal.endsWithNewline ? '' : '\n'}${lines}`);
    if (!journal.exists) await fsyncDir(dir); // the journal's directory entry is new
    const marker = join(this.dir, 'open', id);
    if (FINAL_STATES.has(record.state)) await rm(marker, { force: true });
    else if (!existsSync(marker)) {
      this.#markOpen(id);
      await fsyncDir(join(this.dir, 'open'));
    }
    return record;
  }

  /**
   * Marks a message open: `open/<id>` as a hard link to one empty file, so that making and removing a marker neither
   * allocates nor frees an inode. (On an ext4 without a journal every inode allocation skips, one by one, the inodes
   * freed in the last minutes; a marker file made and removed per message was the spool's only churn of inodes.)
   * Past the file system's link limit, or when the file is gone, a new one is started; where hard links are not
   * supported the marker is an empty file of its own. The caller makes the entry durable (fsync of `open/`). Returns
   * the marker's path.
   */
  #markOpen(id: string): string {
    const marker = join(this.dir, 'open', id);
    for (let attempt = 0; attempt < 3; attempt++) {
      const base = (this.#markerBase ??= this.#newMarkerBase());
      if (base === '') break;
      try {
        linkSync(base, marker);
        return marker;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') return marker;
        if (code !== 'EMLINK' && code !== 'ENOENT') {
          this.#markerBase = ''; // no hard links here: markers of their own from now on
          break;
        }
        this.#markerBase = undefined;
      }
    }
    writeFileSync(marker, '', { mode: 0o600 });
    return marker;
  }

  /**
   * At start: marker files no marker links to any more (left by earlier processes) are removed, one still in use is
   * linked to from now on. (Another process of the same spool that loses its file this way starts a new one.)
   */
  #adoptMarkerBase(): void {
    const dir = join(this.dir, 'open');
    for (const name of readdirSync(dir)) {
      if (!name.startsWith('.marker-')) continue;
      const path = join(dir, name);
      try {
        if (statSync(path).nlink <= 1) rmSync(path, { force: true });
        else this.#markerBase ??= path;
      } catch {
        // removed meanwhile by another process
      }
    }
  }

  /** A new empty file for markers to link to (names starting with a dot are not markers); '' if it cannot be made. */
  #newMarkerBase(): string {
    const base = join(this.dir, 'open', `.marker-${randomBytes(6).toString('hex')}`);
    try {
      writeFileSync(base, '', { flag: 'wx', mode: 0o600 });
      return base;
    } catch {
      return '';
    }
  }

  /** Appends audit events without changing the record (e.g. a repeated delivery answered again). */
  async event(id: string, event: Omit<AuditEvent, 'at'> | ReadonlyArray<Omit<AuditEvent, 'at'>>, area: 'messages' | 'quarantine' = 'messages'): Promise<void> {
    const path = join(this.dir, area, id, JOURNAL);
    await appendDurably(path, `${endsWithTornLine(path) ? '\n' : ''}${eventLines(Array.isArray(event) ? event : [event])}`);
  }

  /** The audit events of a message, oldest first (record lines and lines torn by a crash left out). */
  async events(id: string): Promise<AuditEvent[]> {
    if (!isSpoolId(id)) return [];
    for (const area of ['messages', 'quarantine']) {
      let text: string;
      try {
        text = (await readSmallFile(join(this.dir, area, id, JOURNAL))).toString('utf8');
      } catch {
        continue; // next area
      }
      const events: AuditEvent[] = [];
      for (const line of text.split('\n')) {
        const entry = parseLine(line);
        if (entry && !('record' in entry)) events.push(entry as unknown as AuditEvent);
      }
      return events;
    }
    return [];
  }

  async content(id: string): Promise<ContentBundle> {
    return openContent(this.#key!, id, await readSmallFile(join(this.dir, 'messages', id, 'content.bin')));
  }

  /**
   * The content of a message with its inline contents read and its attachments left in the sealed file: each is read
   * when asked for (`read`) or streamed (`open`), segment by segment, so a large attachment is never held whole just
   * to be passed on. (A file of the first sealed format is read whole.)
   */
  async storedContent(id: string): Promise<StoredContent> {
    const path = join(this.dir, 'messages', id, 'content.bin');
    const reader = SealedFileReader.openSync<ContentManifest>(path, this.#key!, id);
    if (!reader) {
      const bundle = await this.content(id);
      return {
        contents: bundle.contents,
        attachments: bundle.attachments.map((a) => ({
          refId: a.refId,
          contentType: a.contentType,
          size: a.data.length,
          read: () => a.data,
          open: () => Readable.from([a.data]),
        })),
      };
    }
    const placed = (entry: { offset?: number; size: number }) => ({ offset: entry.offset ?? Number.NaN, size: entry.size });
    return {
      contents: reader.manifest.contents.map((c) => ({ id: c.id ?? undefined, kind: c.kind, data: reader.readSync(placed(c)) })),
      attachments: reader.manifest.attachments.map((a) => ({
        refId: a.refId,
        contentType: a.contentType,
        size: a.size,
        read: () => reader.readSync(placed(a)),
        open: () => reader.stream(placed(a)),
      })),
    };
  }

  /**
   * Keeps the mapped documents of a routed message (sealed like the content, AAD = spool id + "/mapped"), so the
   * deliver stage hands exactly what was validated to every connector, however often it retries, without mapping
   * again. Replaces an earlier version atomically (a process stage that ran again).
   */
  async storeMapped(id: string, documents: readonly MappedDocument[]): Promise<void> {
    const dir = join(this.dir, 'messages', id);
    const tmp = join(dir, `.tmp-mapped-${randomBytes(6).toString('hex')}`);
    // Forwarded attachments are kept as references: their bytes stay in the content file.
    const manifest: StoredMappedEntry[] = documents.map((d) =>
      d.attachment !== undefined
        ? { name: d.name, contentType: d.contentType, role: d.role, size: d.size, attachment: d.attachment }
        : { name: d.name, contentType: d.contentType, role: d.role, size: d.data.length },
    );
    const parts = documents.flatMap((d) => (d.data ? [d.data] : []));
    try {
      await sealPartsToFile(tmp, this.#key!, `${id}/mapped`, manifest, parts);
      renameSync(tmp, join(dir, 'mapped.bin'));
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
    await fsyncDir(dir);
  }

  /** Size of the kept mapped output in bytes, or undefined when none is kept. */
  mappedSize(id: string): Promise<number | undefined> {
    // Not kept is the common case (passthrough): asked without an exception.
    return Promise.resolve(statSync(join(this.dir, 'messages', id, 'mapped.bin'), { throwIfNoEntry: false })?.size);
  }

  /** The mapped documents stored by `storeMapped`, or undefined for a message routed without them. */
  async mapped(id: string): Promise<MappedDocument[] | undefined> {
    const path = join(this.dir, 'messages', id, 'mapped.bin');
    if (!existsSync(path)) return undefined; // not kept (passthrough, very large): no exception for the common case
    let sealed: Buffer;
    try {
      sealed = await readSmallFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const { manifest, part } = openSealedParts<StoredMappedEntry[]>(this.#key!, `${id}/mapped`, sealed);
    return manifest.map((d): MappedDocument =>
      d.attachment !== undefined
        ? { name: d.name, contentType: d.contentType, role: 'attachment', attachment: d.attachment, size: d.size }
        : { name: d.name, contentType: d.contentType, role: d.role, data: part(d) },
    );
  }

  /** Ids of spooled messages (not quarantined), oldest first. */
  async list(): Promise<string[]> {
    return (await readdir(join(this.dir, 'messages'))).filter((n) => !n.startsWith('.')).sort();
  }

  /** Ids of messages without a final state (the reconciler's work list), oldest first. */
  async listOpen(): Promise<string[]> {
    return (await readdir(join(this.dir, 'open'))).filter((n) => !n.startsWith('.')).sort();
  }

  async listQuarantine(): Promise<string[]> {
    return (await readdir(join(this.dir, 'quarantine'))).filter((n) => !n.startsWith('.')).sort();
  }

  async writable(): Promise<boolean> {
    try {
      await writeDurably(join(this.dir, 'incoming', '.probe'), String(Date.now()), 0o600);
      await rm(join(this.dir, 'incoming', '.probe'), { force: true });
      return (await stat(this.dir)).isDirectory();
    } catch {
      return false;
    }
  }

  /**
   * Deletes messages whose final state is older than the retention (by the time of their last record change) and
   * quarantined messages older than `quarantineDays`. Returns the number removed.
   */
  async sweep(retention: { deliveredDays: number; failedDays: number; quarantineDays: number }, now = Date.now()): Promise<number> {
    const day = 86_400_000;
    let removed = 0;
    for (const id of await this.list()) {
      const r = await this.get(id);
      if (!r || !FINAL_STATES.has(r.state)) continue;
      const keepDays = r.state === 'delivered' ? retention.deliveredDays : retention.failedDays;
      const changed = Math.max(
        ...(await Promise.all(
          ['meta.json', 'updates.jsonl', JOURNAL].map((f) =>
            stat(join(this.dir, 'messages', id, f)).then(
              (st) => st.mtimeMs,
              () => 0,
            ),
          ),
        )),
      );
      if (now - changed < keepDays * day) continue;
      await this.#retire(r);
      await rm(join(this.dir, 'messages', id), { recursive: true, force: true });
      removed++;
    }
    for (const id of await this.listQuarantine()) {
      const changed = (await stat(join(this.dir, 'quarantine', id)).catch(() => undefined))?.mtimeMs;
      if (changed === undefined || now - changed < retention.quarantineDays * day) continue;
      const r = await this.get(id);
      if (r) await this.#retire(r);
      await rm(join(this.dir, 'quarantine', id), { recursive: true, force: true });
      removed++;
    }
    return removed;
  }

  /**
   * Marks the MessageId index entry of a message that retention removes: the MessageId stays taken (a late
   * repetition is answered as a duplicate), and the entry is not mistaken for the claim of a message never stored.
   */
  async #retire(record: MessageRecord): Promise<void> {
    if (!record.messageId) return;
    const dir = join(this.dir, 'index', record.tenant);
    const path = join(dir, messageKey(record.messageId));
    if (claimOwner(path) !== record.id) return;
    replaceClaim(path, `${record.id} ${RETIRED}`);
    await fsyncDir(dir);
  }

  /** Removes bodies whose reception never finished (process died mid-upload: nothing was acknowledged). */
  async sweepIncoming(): Promise<number> {
    const names = await readdir(join(this.dir, 'incoming'));
    for (const n of names) await rm(join(this.dir, 'incoming', n), { force: true });
    return names.length;
  }
}

/**
 * Whether `id` has the form of the spool's ids (`newId`). Ids and tenants come from operator API paths and pull
 * confirmations too: anything else never reaches a file path (no `..`, no separators).
 */
export function isSpoolId(id: string): boolean {
  return /^[a-z0-9]+-[0-9a-f]{16}$/.test(id);
}

/** A message's journal: its audit events and the record lines of its updates (see `Spool.update`). */
const JOURNAL = 'events.jsonl';

/** One journal line as JSON, or undefined for an empty line or one torn by a crash. */
function parseLine(line: string): Record<string, unknown> | undefined {
  if (!line.trim()) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The last record line of a message's journal, whether the journal exists, and whether it ends with a full line. */
function readJournal(dir: string): { record: MessageRecord | undefined; exists: boolean; endsWithNewline: boolean } {
  let text: string;
  try {
    text = readFileSync(join(dir, JOURNAL), 'utf8');
  } catch {
    return { record: undefined, exists: false, endsWithNewline: true };
  }
  const endsWithNewline = text.length === 0 || text.endsWith('\n');
  for (let end = text.length; end > 0;) {
    const start = text.lastIndexOf('\n', end - 1) + 1;
    const line = text.slice(start, end);
    end = start - 1;
    // Only record lines are parsed: they start with {"record": (events are read by `events`).
    if (!line.startsWith('{"record":')) continue;
    const entry = parseLine(line);
    if (entry) return { record: entry.record as MessageRecord, exists: true, endsWithNewline };
  }
  return { record: undefined, exists: true, endsWithNewline };
}

/**
 * Whether a message directory holds a stored record: a complete record line in its journal, or the `meta.json` of a
 * spool written by an earlier version. (A store that failed half-way leaves neither.)
 */
function isStored(dir: string): boolean {
  return existsSync(join(dir, 'meta.json')) || readJournal(dir).record !== undefined;
}

/** Whether a journal's last line lacks its newline (an append torn by a crash): only its last byte is read. */
function endsWithTornLine(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false; // no journal yet
  }
  try {
    const size = fstatSync(fd).size;
    const last = Buffer.alloc(1);
    return size > 0 && readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a;
  } finally {
    closeSync(fd);
  }
}

/** The last complete line of `updates.jsonl`, where spools of earlier versions kept the record's updates. */
function legacyRecord(dir: string): MessageRecord | undefined {
  if (!existsSync(join(dir, 'updates.jsonl'))) return undefined; // the common case, asked without an exception
  let text: string;
  try {
    text = readFileSync(join(dir, 'updates.jsonl'), 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const entry = parseLine(lines[i]!);
    if (entry) return entry as unknown as MessageRecord;
  }
  return undefined;
}

function eventLines(events: ReadonlyArray<Omit<AuditEvent, 'at'>>): string {
  const at = new Date().toISOString();
  return events.map((e) => JSON.stringify({ at, ...e })).join('\n');
}

/**
 * The content of a MessageId index entry: `<spool id>` or `<spool id> retired` — the target of a symbolic link, or
 * (entries of earlier versions) the text of a file. Throws ENOENT when there is none.
 */
function readClaim(path: string): string {
  try {
    return readlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw error; // EINVAL: not a link, a claim file
    return readFileSync(path, 'utf8');
  }
}

/** The spool id owning a MessageId index entry, or undefined when there is none. */
function claimOwner(path: string): string | undefined {
  try {
    return readClaim(path).trim().split(/\s+/)[0] || undefined;
  } catch {
    return undefined;
  }
}

/** Replaces an index entry atomically (a new link renamed over it); the caller fsyncs the directory. */
function replaceClaim(path: string, content: string): void {
  const tmp = join(dirname(path), `.tmp-${randomBytes(6).toString('hex')}`);
  symlinkSync(content, tmp);
  renameSync(tmp, path);
}

/** Second word of a MessageId index entry whose message retention removed. */
const RETIRED = 'retired';

const FINAL_STATES: ReadonlySet<MessageRecord['state']> = new Set(['delivered', 'failed']);

function messageKey(messageId: string): string {
  return createHash('sha256').update(messageId).digest('hex');
}
