import busboy from 'busboy';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { snapshotDirectory } from '../../src/testing/peer-directory.js';
import type { PeerItem } from '../../src/testing/contract-suite.js';
import type { TestTls } from './tls.js';

export type PeerMode = 'ok' | 'unavailable' | 'rejecting' | 'rate-limited' | 'silent';

/**
 * A Fachverfahren-like HTTPS endpoint on loopback: requires a client certificate, checks the HMAC signature when a
 * secret is set, stores complete uploads only (temp file, rename), and honours Idempotency-Key by replaying the
 * stored answer with `Idempotent-Replayed: true`.
 */
export class HttpPeer {
  mode: PeerMode = 'ok';
  readonly received: Array<{ key: string; headers: IncomingMessage['headers']; json?: unknown }> = [];
  #server!: Server;
  #dir!: string;
  #answers = new Map<string, { status: number; body: string }>();
  #counter = 0;

  constructor(
    private readonly tls: TestTls,
    private readonly hmacSecret?: string,
  ) {}

  get url(): string {
    return `https://127.0.0.1:${(this.#server.address() as AddressInfo).port}/deliveries`;
  }

  async start(): Promise<this> {
    this.#dir = await mkdtemp(join(tmpdir(), 'efa-http-peer-'));
    this.#server = createServer({ ...this.tls.server, ca: this.tls.caPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      void this.#handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(String(error));
      });
    });
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  snapshot(): Promise<PeerItem[]> {
    return snapshotDirectory(join(this.#dir, 'store'));
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((r) => this.#server.close(r));
    await rm(this.#dir, { recursive: true, force: true });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'OPTIONS' || req.method === 'GET') return void res.writeHead(this.mode === 'unavailable' ? 503 : 204).end();
    if (this.mode === 'silent') return; // never answers
    if (this.mode === 'unavailable') return void drain(req, () => res.writeHead(503, { 'retry-after': '1' }).end('maintenance'));
    if (this.mode === 'rate-limited') return void drain(req, () => res.writeHead(429, { 'retry-after': '2' }).end('slow down'));
    if (this.mode === 'rejecting') return void drain(req, () => res.writeHead(422).end('schema violation'));
    const key = String(req.headers['idempotency-key'] ?? '');
    if (!key) return void drain(req, () => res.writeHead(400).end('Idempotency-Key missing'));
    const previous = this.#answers.get(key);
    if (previous) return void drain(req, () => res.writeHead(previous.status, { 'content-type': 'application/json', 'idempotent-replayed': 'true' }).end(previous.body));

    const id = `r${++this.#counter}`;
    const staging = join(this.#dir, `.staging-${id}`);
    await mkdir(staging);
    const bodyHash = createHash('sha256');
    req.on('data', (c: Buffer) => bodyHash.update(c));
    let json: unknown;
    const files: string[] = [];
    try {
      if (String(req.headers['content-type']).startsWith('application/json')) {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        for (const d of (json as { documents: Array<{ name: string; contentBase64: string }> }).documents) {
          await import('node:fs/promises').then((fs) => fs.writeFile(join(staging, d.name), Buffer.from(d.contentBase64, 'base64')));
          files.push(d.name);
        }
      } else {
        await new Promise<void>((resolve, reject) => {
          const bb = busboy({ headers: req.headers });
          const writes: Promise<void>[] = [];
          bb.on('field', (name, value) => {
            if (name === 'metadata') json = JSON.parse(value);
          });
          bb.on('file', (_name, stream, info) => {
            const filename = (info.filename ?? 'unnamed').replace(/[/\\]/g, '_');
            files.push(filename);
            const out = createWriteStream(join(staging, filename));
            writes.push(new Promise((r, j) => out.on('finish', r).on('error', j)));
            stream.pipe(out);
          });
          bb.on('close', () => void Promise.all(writes).then(() => resolve(), reject));
          bb.on('error', reject);
          req.on('aborted', () => reject(new Error('client aborted')));
          req.pipe(bb);
        });
      }
      if (this.hmacSecret) {
        const header = String(req.headers['x-efa-signature'] ?? '');
        const [, t = '', v1 = ''] = /^t=(\d+),v1=([0-9a-f]+)$/.exec(header) ?? [];
        const expected = createHmac('sha256', this.hmacSecret).update(`${t}.${key}.${bodyHash.digest('hex')}`).digest();
        if (!v1 || !timingSafeEqual(Buffer.from(v1, 'hex'), expected)) {
          await rm(staging, { recursive: true, force: true });
          return void res.writeHead(401).end('bad signature');
        }
      }
      await mkdir(join(this.#dir, 'store'), { recursive: true });
      await rename(staging, join(this.#dir, 'store', id));
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      if (!res.headersSent) res.writeHead(400).end(String(error));
      return;
    }
    this.received.push({ key, headers: req.headers, json });
    const answer = { status: 201, body: JSON.stringify({ id, files }) };
    this.#answers.set(key, answer);
    res.writeHead(answer.status, { 'content-type': 'application/json', location: `/deliveries/${id}` }).end(answer.body);
  }
}

function drain(req: IncomingMessage, then: () => void): void {
  req.resume();
  req.on('end', then);
  req.on('error', () => {});
}
