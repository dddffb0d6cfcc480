/**
 * Error classes of connectors with stable codes. `retryable` tells the pipeline to try again later (with backoff,
 * honouring `retryAfterMs`); permanent errors go to the dead-letter state at once.
 */
export const CONNECTOR_ERROR_CODES = {
  TARGET_UNAVAILABLE: { retryable: true, doc: 'The target cannot be reached (connection refused, DNS, host down).' },
  TARGET_NOT_WRITABLE: { retryable: true, doc: 'The target refuses writes for now (permissions, disk full, read-only mount). Fix the target; the delivery is retried.' },
  TIMEOUT: { retryable: true, doc: 'The target did not answer within the configured timeout.' },
  REMOTE_SERVER_ERROR: { retryable: true, doc: 'The target answered with a server error (HTTP 5xx, SMTP 4xx).' },
  RATE_LIMITED: { retryable: true, doc: 'The target asked to slow down (HTTP 429); retried after Retry-After.' },
  CANCELLED: { retryable: true, doc: 'The delivery was aborted (shutdown, job timeout); nothing partial is visible at the target.' },
  REMOTE_REJECTED: { retryable: false, doc: 'The target rejected the delivery (HTTP 4xx, SMTP 5xx). Check the content and the target configuration.' },
  AUTH_FAILED: { retryable: false, doc: 'The target refused our credentials (password, key, client certificate).' },
  HOST_KEY_MISMATCH: { retryable: false, doc: 'The SFTP server presented a host key other than the pinned one (possible interception).' },
  CONFIG_INVALID: { retryable: false, doc: 'The connector options are invalid; the message names each field.' },
  CONTENT_INVALID: { retryable: false, doc: 'The delivery cannot be represented at this target (e.g. an unsafe file name).' },
} as const;

export type ConnectorErrorCode = keyof typeof CONNECTOR_ERROR_CODES;

export class ConnectorError extends Error {
  override readonly name = 'ConnectorError';
  readonly code: ConnectorErrorCode;
  readonly retryable: boolean;
  /** Earliest retry the target asked for (Retry-After), in milliseconds from now. */
  readonly retryAfterMs: number | undefined;

  constructor(code: ConnectorErrorCode, message: string, options: { cause?: unknown; retryAfterMs?: number } = {}) {
    super(message, options.cause === undefined ? {} : { cause: options.cause });
    this.code = code;
    this.retryable = CONNECTOR_ERROR_CODES[code].retryable;
    this.retryAfterMs = options.retryAfterMs;
  }
}

export function isConnectorError(error: unknown): error is ConnectorError {
  return error instanceof ConnectorError;
}

/** Maps Node system errors (ECONNREFUSED, EACCES …) to connector errors. */
export function fromSystemError(error: unknown, what: string): ConnectorError {
  if (error instanceof ConnectorError) return error;
  const code = (error as { code?: string })?.code ?? '';
  const name = (error as { name?: string })?.name ?? '';
  if (name === 'AbortError' || code === 'ABORT_ERR') return new ConnectorError('CANCELLED', `${what}: cancelled`, { cause: error });
  if (['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'ENOENT', 'ENOTDIR'].includes(code)) return new ConnectorError('TARGET_NOT_WRITABLE', `${what}: ${code}`, { cause: error });
  if (['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'].includes(code)) return new ConnectorError('TIMEOUT', `${what}: ${code}`, { cause: error });
  return new ConnectorError('TARGET_UNAVAILABLE', `${what}: ${code || (error as Error)?.message || String(error)}`, { cause: error });
}
