import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { MailParser, type AttachmentStream } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { snapshotDirectory } from '../../src/testing/peer-directory.js';
import type { PeerItem } from '../../src/testing/contract-suite.js';
import type { TestTls } from './tls.js';

/**
 * A real SMTP server process on loopback (the `smtp-server` package): STARTTLS with the test CA's certificate,
 * AUTH PLAIN/LOGIN, and a mailbox that stores each accepted message's attachments only when DATA completed.
 */
export class SmtpPeer {
  port = 0;
  rejecting = false;
  readonly messages: Array<{ messageId: string; subject: string; from: string; to: string[]; headers: Map<string, unknown> }> = [];
  #server!: SMTPServer;
  #dir = '';
  #seq = 0;

  constructor(
    private readonly tls: TestTls,
    readonly user = 'efa',
    readonly pass = 'secret-password',
  ) {}

  async start(): Promise<this> {
    this.#dir = await mkdtemp(join(tmpdir(), 'efa-smtp-'));
    await this.resume();
    return this;
  }

  async resume(): Promise<void> {
    this.#server = new SMTPServer({
      key: this.tls.server.key,
      cert: this.tls.server.cert,
      authMethods: ['PLAIN', 'LOGIN'],
      size: 512 * 1024 * 1024,
      logger: false,
      onAuth: (auth, _session, cb) => (auth.username === this.user && auth.password === this.pass ? cb(null, { user: auth.username }) : cb(new Error('Invalid credentials'))),
      onRcptTo: (_address, _session, cb) => {
        if (!this.rejecting) return cb();
        const error = new Error('mailbox unavailable') as Error & { responseCode: number };
        error.responseCode = 550;
        cb(error);
      },
      onData: (stream, session, cb) => void this.#store(stream, session.envelope.rcptTo.map((r) => r.address)).then(() => cb(), cb),
    });
    await new Promise<void>((resolve) => this.#server.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.#server.server.address() as { port: number }).port;
  }

  async pause(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  snapshot(): Promise<PeerItem[]> {
    return snapshotDirectory(join(this.#dir, 'mailbox'));
  }

  async stop(): Promise<void> {
    await this.pause().catch(() => {});
    await rm(this.#dir, { recursive: true, force: true });
  }

  async #store(stream: NodeJS.ReadableStream, to: string[]): Promise<void> {
    const staging = join(this.#dir, `.staging-${++this.#seq}`);
    await mkdir(staging);
    const parser = new MailParser();
    const writes: Promise<unknown>[] = [];
    let headers = new Map<string, unknown>();
    parser.on('headers', (h) => (headers = h as Map<string, unknown>));
    parser.on('data', (part: { type: string } & Partial<AttachmentStream>) => {
      if (part.type !== 'attachment') return;
      const att = part as AttachmentStream;
      writes.push(pipeline(att.content, createWriteStream(join(staging, (att.filename ?? 'unnamed').replace(/[/\\]/g, '_')))).finally(() => att.release?.()));
    });
    try {
      await pipeline(stream, parser);
      await Promise.all(writes);
      if ((stream as { sizeExceeded?: boolean }).sizeExceeded) throw new Error('message too large');
      const messageId = String(headers.get('message-id') ?? '');
      await mkdir(join(this.#dir, 'mailbox'), { recursive: true });
      await rename(staging, join(this.#dir, 'mailbox', createHash('sha256').update(`${messageId}:${this.#seq}`).digest('hex').slice(0, 16)));
      const subject = String(headers.get('subject') ?? '');
      const from = String((headers.get('from') as { text?: string } | undefined)?.text ?? '');
      this.messages.push({ messageId, subject, from, to, headers });
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw error;
    }
  }
}
