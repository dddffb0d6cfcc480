import { isAbsolute } from 'node:path';
import { z } from 'zod';

export const smtpOptions = z
  .object({
    host: z.string().min(1),
    /** @defaultValue 587 */
    port: z.number().int().min(1).max(65535).default(587),
    /**
     * `starttls` (upgrade required, the default), `tls` (implicit TLS, port 465) or `none` (only for a local relay on
     * loopback).
     */
    security: z.enum(['starttls', 'tls', 'none']).default('starttls'),
    auth: z.object({ user: z.string().min(1), pass: z.string().min(1) }).strict().optional(),
    tls: z
      .object({
        /** CA certificate(s) for the server (PEM text or file); the system store when absent. */
        ca: z.string().min(1).optional(),
        servername: z.string().optional(),
      })
      .strict()
      .optional(),
    from: z.email({ error: 'must be an e-mail address' }),
    to: z.array(z.email({ error: 'must be an e-mail address' })).min(1, 'needs at least one recipient'),
    /** Subject line; variables {subject} {messageId} {tenant} {procedure}. @defaultValue `{subject} [{messageId}]` */
    subject: z.string().default('{subject} [{messageId}]'),
    /** Largest message (after base64) the relay accepts; larger deliveries fail permanently. @defaultValue 25 MiB */
    maxMessageBytes: z.number().int().positive().default(25 * 1024 * 1024),
    /**
     * Directory for the record of sent idempotency keys (SMTP cannot tell us whether it already has a message).
     * A deterministic Message-ID additionally lets mail clients drop a duplicate.
     */
    stateDir: z.string().refine((p) => isAbsolute(p), 'must be an absolute path'),
    /** Connection and socket timeout in milliseconds. @defaultValue 60000 */
    timeoutMs: z.number().int().positive().default(60_000),
  })
  .strict();

export type SmtpOptions = z.output<typeof smtpOptions>;
