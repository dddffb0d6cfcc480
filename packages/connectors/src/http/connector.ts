import { createHash, createHmac } from 'node:crypto';
import { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import type { Connector } from '../contract/connector.js';
import type { Delivery, DeliveryContext, DeliveredReceipt, HealthResult } from '../contract/delivery.js';
import { ConnectorError, fromSystemError } from '../contract/errors.js';
import { pemOrFile } from '../lib/pem.js';
import { throwIfAborted } from '../lib/streams.js';
import { jsonBody, multipartBody, type RequestBody } from './body.js';
import type { HttpOptions } from './options.js';

const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * POSTs each delivery to an HTTP endpoint (multipart or JSON), streamed, with `Idempotency-Key`, optional HMAC
 * signature and mutual TLS. The target confirms with a 2xx; its answer's `id` (JSON) or `Location` becomes the
 * receipt's `remoteId`. A server that recognises a repeated key answers with `Idempotent-Replayed: true`.
 */
export class HttpConnector implements Connector {
  readonly type = 'http';
  readonly #agent: Agent;

  constructor(
    readonly name: string,
    private readonly options: HttpOptions,
  ) {
    const tls = options.tls;
    this.#agent = new Agent({
      connect: {
        ...(tls?.ca ? { ca: pemOrFile(tls.ca, `connectors.${name}.tls.ca`) } : {}),
        ...(tls?.cert ? { cert: pemOrFile(tls.cert, `connectors.${name}.tls.cert`) } : {}),
        ...(tls?.key ? { key: pemOrFile(tls.key, `connectors.${name}.tls.key`) } : {}),
        ...(tls?.passphrase ? { passphrase: tls.passphrase } : {}),
        ...(tls?.servername ? { servername: tls.servername } : {}),
      },
    });
  }

  async deliver(delivery: Delivery, context: DeliveryContext): Promise<DeliveredReceipt> {
    const what = `http ${this.name}`;
    throwIfAborted(context.signal, what);
    const body = this.options.format === 'json' ? jsonBody(delivery) : multipartBody(delivery);
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const signal = AbortSignal.any([context.signal, timeout]);
    const headers: Record<string, string> = {
      ...this.options.headers,
      'content-type': body.contentType,
      [this.options.idempotencyHeader.toLowerCase()]: delivery.idempotencyKey,
      'x-efa-message-id': encodeURIComponent(delivery.messageId),
      'x-efa-tenant': encodeURIComponent(delivery.tenant),
    };
    if (body.length !== undefined) headers['content-length'] = String(body.length);
    let response: Dispatcher.ResponseData;
    try {
      if (this.options.hmac) headers[this.options.hmac.header.toLowerCase()] = await this.#signature(body, delivery, signal);
      response = await request(this.options.url, {
        method: 'POST',
        headers,
        body: Readable.from(body.chunks(signal), { objectMode: false }),
        dispatcher: this.#agent,
        signal,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
      });
    } catch (error) {
      throw this.#classify(error, context.signal, timeout, what);
    }
    const text = await readLimited(response).catch(() => '');
    const status = response.statusCode;
    if (status >= 200 && status < 300) {
      let remoteId = response.headers.location ? String(response.headers.location) : '';
      try {
        const json = JSON.parse(text) as { id?: unknown };
        if (json && (typeof json.id === 'string' || typeof json.id === 'number')) remoteId = String(json.id);
      } catch {
        // not JSON: keep Location
      }
      return {
        status: 'delivered',
        target: `http:${this.name}`,
        at: new Date(),
        reference: { httpStatus: status, ...(remoteId ? { remoteId } : {}) },
        duplicate: String(response.headers['idempotent-replayed'] ?? '').toLowerCase() === 'true',
      };
    }
    const retryAfterMs = parseRetryAfter(response.headers['retry-after']);
    const detail = `${what}: HTTP ${status}${text ? ` ${text.slice(0, 200).replace(/\s+/g, ' ')}` : ''}`;
    const opts = retryAfterMs !== undefined ? { retryAfterMs } : {};
    if (status === 429) throw new ConnectorError('RATE_LIMITED', detail, opts);
    if (status === 408) throw new ConnectorError('TIMEOUT', detail, opts);
    if (status >= 500) throw new ConnectorError('REMOTE_SERVER_ERROR', detail, opts);
    if (status === 401 || status === 403) throw new ConnectorError('AUTH_FAILED', detail);
    throw new ConnectorError('REMOTE_REJECTED', detail);
  }

  async #signature(body: RequestBody, delivery: Delivery, signal: AbortSignal): Promise<string> {
    const hash = createHash('sha256');
    for await (const chunk of body.chunks(signal)) hash.update(chunk);
    const t = Math.floor(Date.now() / 1000);
    const mac = createHmac('sha256', this.options.hmac!.secret).update(`${t}.${delivery.idempotencyKey}.${hash.digest('hex')}`).digest('hex');
    return `t=${t},v1=${mac}`;
  }

  #classify(error: unknown, cancel: AbortSignal, timeout: AbortSignal, what: string): ConnectorError {
    if (error instanceof ConnectorError) return error;
    if (cancel.aborted) return new ConnectorError('CANCELLED', `${what}: cancelled`, { cause: error });
    if (timeout.aborted) return new ConnectorError('TIMEOUT', `${what}: no answer within ${this.options.timeoutMs} ms`, { cause: error });
    // TLS problems (untrusted server, client certificate refused) often arrive as a socket error with the TLS alert as cause.
    for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
      const code = String((e as { code?: string }).code ?? '');
      const message = String((e as Error).message ?? '');
      if (/CERT|SSL|TLS/.test(code) || /certificate|handshake|alert/i.test(message)) return new ConnectorError('AUTH_FAILED', `${what}: TLS failed (${code || message})`, { cause: error });
    }
    return fromSystemError(error, what);
  }

  async check(signal?: AbortSignal): Promise<HealthResult> {
    try {
      const response = await request(this.options.healthUrl ?? this.options.url, {
        method: this.options.healthUrl ? 'GET' : 'OPTIONS',
        headers: this.options.headers,
        dispatcher: this.#agent,
        signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(this.options.timeoutMs)]) : AbortSignal.timeout(this.options.timeoutMs),
      });
      await response.body.dump();
      return response.statusCode < 500 ? { ok: true, detail: `HTTP ${response.statusCode}` } : { ok: false, detail: `HTTP ${response.statusCode}` };
    } catch (error) {
      return { ok: false, detail: String((error as { code?: string }).code ?? (error as Error).message) };
    }
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}

async function readLimited(response: Dispatcher.ResponseData): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += (chunk as Buffer).length;
    if (size > MAX_RESPONSE_BYTES) {
      response.body.destroy();
      break;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Retry-After as seconds or HTTP date → milliseconds from now. */
export function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
