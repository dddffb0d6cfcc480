import { z } from 'zod';
import { layoutOption, modeOption } from '../lib/naming.js';

export const sftpOptions = z
  .object({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(22),
    username: z.string().min(1),
    /** Password authentication (prefer keys). */
    password: z.string().min(1).optional(),
    /** Private key (OpenSSH/PEM text or file path) for public-key authentication. */
    privateKey: z.string().min(1).optional(),
    passphrase: z.string().optional(),
    /**
     * Pinned host key as OpenSSH prints it: `SHA256:…` (`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`). Required:
     * a connector never trusts an unknown server.
     */
    hostKeySha256: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, 'must be an OpenSSH SHA256 fingerprint such as "SHA256:…" (ssh-keygen -lf KEY.pub)'),
    /** Absolute directory on the server that receives deliveries. */
    remotePath: z.string().regex(/^\//, 'must be an absolute path on the server'),
    /** Layout below `remotePath`, as for the hotfolder connector. @defaultValue `{tenant}/{procedure}/{date}/{messageId}_{key}` */
    layout: layoutOption,
    /** `directory` (one folder per delivery, renamed into place) or `file` (one file per document). @defaultValue directory */
    mode: modeOption,
    /** Connect and per-operation timeout in milliseconds. @defaultValue 30000 */
    timeoutMs: z.number().int().positive().default(30_000),
  })
  .strict()
  .refine((o) => o.password !== undefined || o.privateKey !== undefined, { message: 'give password or privateKey', path: ['password'] });

export type SftpOptions = z.output<typeof sftpOptions>;
