import type { Readable } from 'node:stream';
import { ConnectorError } from '../contract/errors.js';

/** Rejects with CANCELLED if the signal is already aborted. */
export function throwIfAborted(signal: AbortSignal, what: string): void {
  if (signal.aborted) throw new ConnectorError('CANCELLED', `${what}: cancelled`, { cause: signal.reason });
}

/** Iterates a document stream, destroying it when the signal aborts. */
export async function* chunksOf(stream: Readable, signal: AbortSignal): AsyncGenerator<Buffer> {
  const onAbort = () => stream.destroy(new ConnectorError('CANCELLED', 'delivery cancelled', { cause: signal.reason }));
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of stream) yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
