import { z } from 'zod';

const pemOrFile = z.string().min(1, 'must be a PEM text or a file path');

export const httpOptions = z
  .object({
    /** Endpoint that receives deliveries (https recommended; http only on trusted networks). */
    url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
    /**
     * `multipart`: multipart/form-data with a `metadata` JSON part and one file part per document.
     * `json`: one JSON object with the documents base64-encoded (streamed, never built in memory).
     * @defaultValue multipart
     */
    format: z.enum(['multipart', 'json']).default('multipart'),
    /** Whole-request timeout in milliseconds (connect, upload and answer). @defaultValue 60000 */
    timeoutMs: z.number().int().positive().default(60_000),
    /** Extra request headers (e.g. an API key given via environment in the gateway config). */
    headers: z.record(z.string(), z.string()).default({}),
    /** Header carrying the delivery's idempotency key. @defaultValue Idempotency-Key */
    idempotencyHeader: z.string().min(1).default('Idempotency-Key'),
    /** URL for `check()`; any answer below 500 counts as ready. @defaultValue the delivery URL (OPTIONS) */
    healthUrl: z.url().optional(),
    tls: z
      .object({
        /** CA certificate(s) to trust for the server (PEM text or file); the system store when absent. */
        ca: pemOrFile.optional(),
        /** Client certificate for mutual TLS (PEM text or file). */
        cert: pemOrFile.optional(),
        /** Private key of the client certificate (PEM text or file). */
        key: pemOrFile.optional(),
        /** Passphrase of an encrypted key. */
        passphrase: z.string().optional(),
        /** Server name for SNI and certificate checks when it differs from the URL host. */
        servername: z.string().optional(),
      })
      .strict()
      .refine((t) => !t.cert === !t.key, 'cert and key must be given together')
      .optional(),
    /**
     * HMAC-SHA256 request signature: header `<header>: t=<unix seconds>,v1=<hex HMAC(secret, t + "." + idempotencyKey + "." + sha256(body))>`.
     * The body hash is computed in a first pass over the (re-openable) documents.
     */
    hmac: z
      .object({
        secret: z.string().min(32, 'must have at least 32 characters'),
        header: z.string().min(1).default('X-Efa-Signature'),
      })
      .strict()
      .optional(),
  })
  .strict();

export type HttpOptions = z.output<typeof httpOptions>;
