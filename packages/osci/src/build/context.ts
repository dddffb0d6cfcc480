import { createHash, randomBytes } from 'node:crypto';

/** Sources of randomness and time for building; inject fixed ones to make output reproducible in tests. */
export interface BuildContext {
  readonly random: (bytes: number) => Buffer;
  readonly now: () => Date;
}

export const DEFAULT_BUILD_CONTEXT: BuildContext = { random: randomBytes, now: () => new Date() };

/** A deterministic context for tests: a counter-mode byte stream from a seed and a fixed clock. */
export function deterministicContext(seed: string, at = new Date('2026-01-01T00:00:00Z')): BuildContext {
  let counter = 0;
  let pool = Buffer.alloc(0);
  return {
    random: (n) => {
      while (pool.length < n) {
        const block = Buffer.from(`${seed}:${counter++}`);
        pool = Buffer.concat([pool, sha256(block)]);
      }
      const out = pool.subarray(0, n);
      pool = pool.subarray(n);
      return Buffer.from(out);
    },
    now: () => at,
  };
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/** ISO dateTime without milliseconds, as OSCI timestamps are written. */
export function osciDateTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
