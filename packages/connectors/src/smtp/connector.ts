import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Connector } from '../contract/connector.js';
import type { Delivery, DeliveryContext, DeliveredReceipt, HealthResult } from '../contract/delivery.js';
import { ConnectorError } from '../contract/errors.js';
import { LocalDeliveryRecords } from '../lib/records.js';
import { keyTag, safeSegment } from '../lib/naming.js';
import { pemOrFile } from '../lib/pem.js';
import { chunksOf, throwIfAborted } from '../lib/streams.js';
import type { SmtpOptions } from './options.js';

/**
 * Sends each delivery as one e-mail with the documents attached (streamed), for authorities without a Fachverfahren.
 * STARTTLS is required by default. The relay's acceptance (`250 …`) is the receipt.
 */
export class SmtpConnector implements Connector {
  readonly type = 'smtp';
  readonly #ca: string | undefined;

  constructor(
    readonly name: string,
    private readonly options: SmtpOptions,
  ) {
    this.#ca = options.tls?.ca ? pemOrFile(options.tls.ca, `connectors.${name}.tls.ca`) : undefined;
  }

  #transport(): Transporter {
    const o = this.options;
    return nodemailer.createTransport({
      host: o.host,
      port: o.port,
      secure: o.security === 'tls',
      requireTLS: o.security === 'starttls',
      ignoreTLS: o.security === 'none',
      ...(o.auth ? { auth: { user: o.auth.user, pass: o.auth.pass } } : {}),
      tls: { ...(this.#ca ? { ca: this.#ca } : {}), ...(o.tls?.servername ? { servername: o.tls.servername } : {}), rejectUnauthorized: true, minVersion: 'TLSv1.2' },
      connectionTimeout: o.timeoutMs,
      greetingTimeout: o.timeoutMs,
      socketTimeout: o.timeoutMs,
      disableFileAccess: true,
      disableUrlAccess: true,
    });
  }

  async deliver(delivery: Delivery, context: DeliveryContext): Promise<DeliveredReceipt> {
    const what = `smtp ${this.name}`;
    throwIfAborted(context.signal, what);
    const records = new LocalDeliveryRecords(join(this.options.stateDir, `smtp-${safeSegment(this.name, 'name')}`));
    const previous = await records.get(delivery.idempotencyKey).catch((error: unknown) => {
      throw new ConnectorError('TARGET_NOT_WRITABLE', `${what}: cannot read the delivery records in ${this.options.stateDir}`, { cause: error });
    });
    if (previous) return { ...previous, duplicate: true };
    const estimated = delivery.documents.reduce((sum, d) => sum + Math.ceil((d.size ?? 0) / 3) * 4 * 1.03 + 512, 4096);
    if (estimated > this.options.maxMessageBytes) {
      throw new ConnectorError('CONTENT_INVALID', `${what}: the message would have about ${Math.round(estimated / 1048576)} MiB, more than maxMessageBytes (${Math.round(this.options.maxMessageBytes / 1048576)} MiB)`);
    }
    const messageId = `<${keyTag(delivery.idempotencyKey)}.${createHash('sha256').update(delivery.idempotencyKey).digest('hex').slice(12, 28)}@efa-gateway>`;
    const transport = this.#transport();
    const onAbort = () => transport.close();
    context.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const info = await transport.sendMail({
        from: this.options.from,
        to: this.options.to,
        subject: this.#subject(delivery),
        messageId,
        date: delivery.receivedAt,
        text: summary(delivery),
        headers: { 'X-EfA-Message-Id': delivery.messageId, 'X-EfA-Tenant': delivery.tenant },
        // Streams that fail on abort: the message is cut off inside DATA, so the relay never accepts it.
        attachments: delivery.documents.map((d) => ({ filename: safeSegment(d.name, 'document name'), contentType: d.contentType, content: Readable.from(chunksOf(d.open(), context.signal)) })),
      });
      if (info.rejected.length > 0) throw new ConnectorError('REMOTE_REJECTED', `${what}: recipients rejected: ${info.rejected.join(', ')}`);
      const receipt: DeliveredReceipt = {
        status: 'delivered',
        target: `smtp:${this.name}`,
        at: new Date(),
        reference: { smtpMessageId: info.messageId, smtpResponse: String(info.response).slice(0, 200), recipients: info.accepted.length },
        duplicate: false,
      };
      await records.put(delivery.idempotencyKey, receipt);
      return receipt;
    } catch (error) {
      if (context.signal.aborted) throw new ConnectorError('CANCELLED', `${what}: cancelled`, { cause: error });
      throw classify(error, what);
    } finally {
      context.signal.removeEventListener('abort', onAbort);
      transport.close();
    }
  }

  #subject(d: Delivery): string {
    const values: Record<string, string> = { subject: d.subject ?? 'EfA-Antrag', messageId: d.messageId, tenant: d.tenant, procedure: d.procedure ?? '' };
    return this.options.subject.replace(/\{(\w+)\}/g, (m, k: string) => values[k] ?? m).replace(/[\r\n]+/g, ' ');
  }

  async check(): Promise<HealthResult> {
    const transport = this.#transport();
    try {
      await transport.verify();
      return { ok: true, detail: `${this.options.host}:${this.options.port} accepts us` };
    } catch (error) {
      return { ok: false, detail: (error as Error).message };
    } finally {
      transport.close();
    }
  }

  async close(): Promise<void> {}
}

function summary(d: Delivery): string {
  return [
    'Neuer Eingang über efa-gateway.',
    '',
    `Nachricht: ${d.messageId}`,
    `Mandant: ${d.tenant}`,
    `Verfahren: ${d.procedure ?? '-'}`,
    `Eingang: ${d.receivedAt.toISOString()}`,
    '',
    `Anlagen: ${d.documents.map((x) => x.name).join(', ')}`,
  ].join('\r\n');
}

function classify(error: unknown, what: string): ConnectorError {
  if (error instanceof ConnectorError) return error;
  const e = error as { code?: string; responseCode?: number; message?: string };
  const detail = `${what}: ${e.responseCode ? `${e.responseCode} ` : ''}${e.message ?? String(error)}`.slice(0, 300);
  if (e.code === 'EAUTH' || e.code === 'ENOAUTH') return new ConnectorError('AUTH_FAILED', detail, { cause: error });
  if (e.code === 'ETLS' || /certificate|self.signed|TLS/i.test(e.message ?? '')) return new ConnectorError('AUTH_FAILED', detail, { cause: error });
  if (e.responseCode && e.responseCode >= 500) return new ConnectorError('REMOTE_REJECTED', detail, { cause: error });
  if (e.responseCode && e.responseCode >= 400) return new ConnectorError('REMOTE_SERVER_ERROR', detail, { cause: error });
  if (e.code === 'ETIMEDOUT') return new ConnectorError('TIMEOUT', detail, { cause: error });
  return new ConnectorError('TARGET_UNAVAILABLE', detail, { cause: error });
}
