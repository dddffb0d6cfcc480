import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import type { SFTPWrapper } from 'ssh2';
import type { Connector } from '../contract/connector.js';
import type { Delivery, DeliveryContext, DeliveredReceipt, HealthResult } from '../contract/delivery.js';
import { ConnectorError } from '../contract/errors.js';
import { renderTemplate, safeSegment } from '../lib/naming.js';
import { pemOrFile } from '../lib/pem.js';
import { parseReceipt, recordFileName, serializeReceipt } from '../lib/records.js';
import { chunksOf, throwIfAborted } from '../lib/streams.js';
import type { SftpOptions } from './options.js';
import { call, openSession } from './session.js';

const SFTP_NO_SUCH_FILE = 2;
const SFTP_PERMISSION_DENIED = 3;

/**
 * Uploads each delivery over SFTP: temporary dot-name, remote fsync, atomic `posix-rename` into place. The host key
 * is pinned; a record per idempotency key on the server (`.efa-gateway/delivered/`) makes redelivery a no-op.
 */
export class SftpConnector implements Connector {
  readonly type = 'sftp';
  readonly #privateKey: string | undefined;

  constructor(
    readonly name: string,
    private readonly options: SftpOptions,
  ) {
    this.#privateKey = options.privateKey ? pemOrFile(options.privateKey, `connectors.${name}.privateKey`) : undefined;
  }

  async deliver(delivery: Delivery, context: DeliveryContext): Promise<DeliveredReceipt> {
    const what = `sftp ${this.name}`;
    throwIfAborted(context.signal, what);
    const names = delivery.documents.map((d) => safeSegment(d.name, 'document name'));
    if (names.length === 0 || new Set(names).size !== names.length) throw new ConnectorError('CONTENT_INVALID', `${what}: documents missing or names collide`);
    const session = await openSession(this.options, this.#privateKey, what, context.signal);
    const { sftp } = session;
    const root = this.options.remotePath;
    const relative = renderTemplate(this.options.layout, delivery);
    const record = posix.join(root, '.efa-gateway', 'delivered', recordFileName(delivery.idempotencyKey));
    const temps: string[] = [];
    try {
      await call((cb) => sftp.stat(root, cb)).catch((error: unknown) => {
        throw classify(error, `${what}: ${root}`);
      });
      const previous = await readRecord(sftp, record);
      if (previous) return { ...previous, duplicate: true };
      const finals = this.options.mode === 'directory' ? [posix.join(root, relative)] : names.map((n) => posix.join(root, `${relative}_${n}`));
      const present = await Promise.all(finals.map((f) => exists(sftp, f)));
      if (!present.every(Boolean)) {
        for (const dir of new Set(finals.map((f) => posix.dirname(f)))) await mkdirp(sftp, dir);
        if (this.options.mode === 'directory') {
          const tmp = tempName(finals[0]!);
          await call((cb) => sftp.mkdir(tmp, cb));
          temps.push(tmp);
          for (const [i, doc] of delivery.documents.entries()) await upload(sftp, doc.open(), posix.join(tmp, names[i]!), context.signal);
          throwIfAborted(context.signal, what);
          await call((cb) => sftp.ext_openssh_rename(tmp, finals[0]!, cb));
          temps.length = 0;
        } else {
          for (const [i, doc] of delivery.documents.entries()) {
            if (present[i]) continue;
            const tmp = tempName(finals[i]!);
            temps.push(tmp);
            await upload(sftp, doc.open(), tmp, context.signal);
            throwIfAborted(context.signal, what);
            await call((cb) => sftp.ext_openssh_rename(tmp, finals[i]!, cb));
            temps.pop();
          }
        }
      }
      const receipt: DeliveredReceipt = {
        status: 'delivered',
        target: `sftp:${this.name}`,
        at: new Date(),
        reference: { host: `${this.options.host}:${this.options.port}`, path: this.options.mode === 'directory' ? posix.join(root, relative) : finals.join(', '), files: names.length },
        duplicate: present.every(Boolean),
      };
      await mkdirp(sftp, posix.dirname(record));
      const tmpRecord = tempName(record);
      await writeSmall(sftp, tmpRecord, Buffer.from(serializeReceipt(receipt)));
      await call((cb) => sftp.ext_openssh_rename(tmpRecord, record, cb));
      return receipt;
    } catch (error) {
      for (const tmp of temps) await removeRecursive(sftp, tmp).catch(() => {});
      if (context.signal.aborted) throw new ConnectorError('CANCELLED', `${what}: cancelled`, { cause: error });
      throw classify(error, what);
    } finally {
      session.end();
    }
  }

  async check(signal?: AbortSignal): Promise<HealthResult> {
    try {
      const session = await openSession(this.options, this.#privateKey, `sftp ${this.name}`, signal ?? AbortSignal.timeout(this.options.timeoutMs));
      try {
        const stat = await call<{ isDirectory(): boolean }>((cb) => session.sftp.stat(this.options.remotePath, cb));
        return stat.isDirectory() ? { ok: true, detail: `${this.options.remotePath} reachable` } : { ok: false, detail: `${this.options.remotePath} is not a directory` };
      } finally {
        session.end();
      }
    } catch (error) {
      return { ok: false, detail: (error as Error).message };
    }
  }

  async close(): Promise<void> {}
}

function tempName(final: string): string {
  return posix.join(posix.dirname(final), `.tmp-${posix.basename(final)}-${randomBytes(6).toString('hex')}`);
}

function classify(error: unknown, what: string): ConnectorError {
  if (error instanceof ConnectorError) return error;
  const code = (error as { code?: number }).code;
  if (code === SFTP_PERMISSION_DENIED || code === SFTP_NO_SUCH_FILE) return new ConnectorError('TARGET_NOT_WRITABLE', `${what}: ${(error as Error).message}`, { cause: error });
  return new ConnectorError('TARGET_UNAVAILABLE', `${what}: ${(error as Error).message}`, { cause: error });
}

/** Writes in flight at once: SFTP acknowledges every write, so one-at-a-time uploads crawl on any latency. */
const WRITES_IN_FLIGHT = 16;

async function upload(sftp: SFTPWrapper, source: Readable, path: string, signal: AbortSignal): Promise<void> {
  const handle = await call<Buffer>((cb) => sftp.open(path, 'wx', cb));
  try {
    const inFlight = new Set<Promise<void>>();
    let failure: unknown;
    let position = 0;
    for await (const chunk of chunksOf(source, signal)) {
      for (let at = 0; at < chunk.length; at += 32 * 1024) {
        const piece = chunk.subarray(at, Math.min(chunk.length, at + 32 * 1024));
        const write: Promise<void> = call<void>((cb) => sftp.write(handle, piece, 0, piece.length, position, (e) => cb(e)))
          .catch((error: unknown) => void (failure ??= error))
          .finally(() => inFlight.delete(write));
        inFlight.add(write);
        position += piece.length;
        if (inFlight.size >= WRITES_IN_FLIGHT) await Promise.race(inFlight);
        if (failure) throw failure;
      }
    }
    await Promise.all(inFlight);
    if (failure) throw failure;
    await call((cb) => sftp.ext_openssh_fsync(handle, (e) => cb(e)));
  } finally {
    await call((cb) => sftp.close(handle, cb)).catch(() => {});
  }
}

async function writeSmall(sftp: SFTPWrapper, path: string, content: Buffer): Promise<void> {
  const handle = await call<Buffer>((cb) => sftp.open(path, 'wx', cb));
  await call((cb) => sftp.write(handle, content, 0, content.length, 0, cb));
  await call((cb) => sftp.ext_openssh_fsync(handle, (e) => cb(e)));
  await call((cb) => sftp.close(handle, cb));
}

async function exists(sftp: SFTPWrapper, path: string): Promise<boolean> {
  try {
    await call((cb) => sftp.stat(path, cb));
    return true;
  } catch (error) {
    if ((error as { code?: number }).code === SFTP_NO_SUCH_FILE) return false;
    throw error;
  }
}

async function mkdirp(sftp: SFTPWrapper, dir: string): Promise<void> {
  if (dir === '/' || (await exists(sftp, dir))) return;
  await mkdirp(sftp, posix.dirname(dir));
  await call((cb) => sftp.mkdir(dir, cb)).catch(async (error: unknown) => {
    if (!(await exists(sftp, dir))) throw error; // lost a race with a concurrent delivery otherwise
  });
}

async function readRecord(sftp: SFTPWrapper, path: string): Promise<DeliveredReceipt | undefined> {
  let content: Buffer;
  try {
    content = await call<Buffer>((cb) => sftp.readFile(path, cb));
  } catch (error) {
    if ((error as { code?: number }).code === SFTP_NO_SUCH_FILE) return undefined;
    throw error;
  }
  return parseReceipt(content.toString('utf8'));
}

async function removeRecursive(sftp: SFTPWrapper, path: string): Promise<void> {
  const stat = await call<{ isDirectory(): boolean }>((cb) => sftp.stat(path, cb));
  if (stat.isDirectory()) {
    const entries = await call<Array<{ filename: string }>>((cb) => sftp.readdir(path, cb));
    for (const e of entries) await removeRecursive(sftp, posix.join(path, e.filename));
    await call((cb) => sftp.rmdir(path, cb));
  } else await call((cb) => sftp.unlink(path, cb));
}
