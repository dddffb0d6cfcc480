import pino, { type Logger } from 'pino';

/**
 * JSON logs with listed fields only: message id, tenant, spool id, stage, code. Never content, subjects, keys or
 * passphrases; the redact paths are a second line of defence for objects that reach the logger by mistake.
 */
export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      base: { service: 'efa-gateway' },
      redact: { paths: ['passphrase', '*.passphrase', 'password', '*.password', 'pass', '*.pass', 'secret', '*.secret', 'subject', '*.subject', 'content', '*.content', 'data', '*.data'], censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination,
  );
}

export type { Logger };
