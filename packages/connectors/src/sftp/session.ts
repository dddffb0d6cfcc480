import { createHash } from 'node:crypto';
import { Client, type SFTPWrapper } from 'ssh2';
import { ConnectorError } from '../contract/errors.js';
import type { SftpOptions } from './options.js';

/** OpenSSH-style fingerprint of a raw host key blob. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

export interface SftpSession {
  readonly sftp: SFTPWrapper;
  end(): void;
}

/** Connects, verifies the pinned host key, authenticates and opens the SFTP subsystem. */
export function openSession(options: SftpOptions, privateKey: string | undefined, what: string, signal: AbortSignal): Promise<SftpSession> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let hostKeyMismatch = '';
    let settled = false;
    const fail = (error: ConnectorError) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      client.end();
      reject(error);
    };
    const onAbort = () => fail(new ConnectorError('CANCELLED', `${what}: cancelled`, { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    client.on('ready', () => {
      client.sftp((error, sftp) => {
        if (error) return fail(new ConnectorError('TARGET_UNAVAILABLE', `${what}: SFTP subsystem refused (${error.message})`, { cause: error }));
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        resolve({ sftp, end: () => client.end() });
      });
    });
    client.on('error', (error: Error & { level?: string; code?: string }) => {
      if (hostKeyMismatch) return fail(new ConnectorError('HOST_KEY_MISMATCH', `${what}: server presented ${hostKeyMismatch}, pinned ${options.hostKeySha256}`, { cause: error }));
      if (error.level === 'client-authentication') return fail(new ConnectorError('AUTH_FAILED', `${what}: authentication as ${options.username} refused`, { cause: error }));
      if (error.level === 'client-timeout') return fail(new ConnectorError('TIMEOUT', `${what}: no answer within ${options.timeoutMs} ms`, { cause: error }));
      fail(new ConnectorError('TARGET_UNAVAILABLE', `${what}: ${error.code ?? error.message}`, { cause: error }));
    });
    client.connect({
      host: options.host,
      port: options.port,
      username: options.username,
      ...(options.password !== undefined ? { password: options.password } : {}),
      ...(privateKey !== undefined ? { privateKey, ...(options.passphrase !== undefined ? { passphrase: options.passphrase } : {}) } : {}),
      readyTimeout: options.timeoutMs,
      hostVerifier: (key: Buffer) => {
        const presented = fingerprint(key);
        if (presented === options.hostKeySha256.replace(/=$/, '')) return true;
        hostKeyMismatch = presented;
        return false;
      },
    });
  });
}

/** Promisified SFTP calls with ENOENT etc. kept as system-like errors. */
export function call<T>(fn: (cb: (error: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((error, value) => (error ? reject(error) : resolve(value as T))));
}
