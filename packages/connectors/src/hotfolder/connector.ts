import { access, mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Connector } from '../contract/connector.js';
import type { Delivery, DeliveryContext, DeliveredReceipt, HealthResult } from '../contract/delivery.js';
import { ConnectorError, fromSystemError } from '../contract/errors.js';
import { fsyncDirectory, tempName, writeFileDurably, writeSmallFileAtomically } from '../lib/fs-atomic.js';
import { renderTemplate, safeSegment } from '../lib/naming.js';
import { LocalDeliveryRecords } from '../lib/records.js';
import { throwIfAborted } from '../lib/streams.js';
import type { HotfolderOptions } from './options.js';

const STATE_DIR = '.efa-gateway';

/**
 * Writes each delivery below an import folder: temp name, fsync, rename into place, fsync the directory. Importers
 * see a delivery either completely or not at all (temporary names start with a dot). A record per idempotency key
 * under `.efa-gateway/delivered/` makes redelivery a no-op even after the importer has taken the files away.
 */
export class HotfolderConnector implements Connector {
  readonly type = 'hotfolder';
  readonly #mode: number;

  constructor(
    readonly name: string,
    private readonly options: HotfolderOptions,
  ) {
    this.#mode = parseInt(options.fileMode, 8);
  }

  async deliver(delivery: Delivery, context: DeliveryContext): Promise<DeliveredReceipt> {
    const what = `hotfolder ${this.name}`;
    throwIfAborted(context.signal, what);
    if (delivery.documents.length === 0) throw new ConnectorError('CONTENT_INVALID', `${what}: a delivery needs at least one document`);
    const names = delivery.documents.map((d) => safeSegment(d.name, 'document name'));
    if (new Set(names).size !== names.length) throw new ConnectorError('CONTENT_INVALID', `${what}: document names collide after sanitising`);
    const relative = renderTemplate(this.options.layout, delivery);
    const records = new LocalDeliveryRecords(join(this.options.path, STATE_DIR, 'delivered'));
    try {
      // Never create the root: a missing or unmounted import folder is a condition to wait out, not to paper over.
      const root = await stat(this.options.path);
      if (!root.isDirectory()) throw new ConnectorError('TARGET_NOT_WRITABLE', `${what}: ${this.options.path} is not a directory`);
      const previous = await records.get(delivery.idempotencyKey);
      if (previous) return { ...previous, duplicate: true };
      const finals = this.options.mode === 'directory' ? [join(this.options.path, relative)] : names.map((n) => join(this.options.path, `${relative}_${n}`));
      const alreadyThere = await Promise.all(finals.map(exists));
      let files: number;
      if (alreadyThere.every(Boolean))
        files = delivery.documents.length; // renamed before a crash, record missing
      else if (this.options.mode === 'directory') files = await this.#writeDirectory(finals[0]!, delivery, names, context.signal);
      else files = await this.#writeFiles(finals, alreadyThere, delivery, context.signal);
      if (this.options.doneMarker) for (const f of finals) await writeSmallFileAtomically(`${f}.done`, '', this.#mode);
      const receipt: DeliveredReceipt = {
        status: 'delivered',
        target: `hotfolder:${this.name}`,
        at: new Date(),
        reference: { path: this.options.mode === 'directory' ? relative : finals.map((f) => f.slice(this.options.path.length + 1)).join(', '), files },
        duplicate: alreadyThere.every(Boolean),
      };
      await records.put(delivery.idempotencyKey, receipt);
      return receipt;
    } catch (error) {
      throw fromSystemError(error, what);
    }
  }

  async #writeDirectory(final: string, delivery: Delivery, names: string[], signal: AbortSignal): Promise<number> {
    await mkdir(dirname(final), { recursive: true });
    const tmp = tempName(final);
    await mkdir(tmp, { mode: 0o750 });
    try {
      for (const [i, doc] of delivery.documents.entries()) await writeFileDurably(join(tmp, names[i]!), doc.open(), this.#mode, signal);
      await fsyncDirectory(tmp);
      throwIfAborted(signal, `hotfolder ${this.name}`);
      await rename(tmp, final);
    } catch (error) {
      await rm(tmp, { recursive: true, force: true });
      throw error;
    }
    await fsyncDirectory(dirname(final));
    return delivery.documents.length;
  }

  /**
   * Each missing document is written under a temporary name and fsync'd, then all are renamed into place and each
   * directory involved is fsync'd once (not once per document).
   */
  async #writeFiles(finals: string[], present: boolean[], delivery: Delivery, signal: AbortSignal): Promise<number> {
    const written: Array<{ tmp: string; final: string }> = [];
    try {
      for (const [i, doc] of delivery.documents.entries()) {
        if (present[i]) continue;
        const final = finals[i]!;
        await mkdir(dirname(final), { recursive: true });
        const tmp = tempName(final);
        await writeFileDurably(tmp, doc.open(), this.#mode, signal);
        written.push({ tmp, final });
        throwIfAborted(signal, `hotfolder ${this.name}`);
      }
    } catch (error) {
      await Promise.all(written.map((w) => rm(w.tmp, { force: true })));
      throw error;
    }
    for (const [i, { tmp, final }] of written.entries()) {
      try {
        await rename(tmp, final);
      } catch (error) {
        await Promise.all(written.slice(i).map((w) => rm(w.tmp, { force: true })));
        throw error;
      }
    }
    await Promise.all([...new Set(written.map((w) => dirname(w.final)))].map((d) => fsyncDirectory(d)));
    return finals.length;
  }

  async check(): Promise<HealthResult> {
    try {
      const s = await stat(this.options.path);
      if (!s.isDirectory()) return { ok: false, detail: `${this.options.path} is not a directory` };
      await writeSmallFileAtomically(join(this.options.path, STATE_DIR, `probe-${process.pid}`), String(Date.now()));
      await rm(join(this.options.path, STATE_DIR, `probe-${process.pid}`), { force: true });
      return { ok: true, detail: `${this.options.path} is writable` };
    } catch (error) {
      return { ok: false, detail: `${this.options.path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` };
    }
  }

  async close(): Promise<void> {}
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
