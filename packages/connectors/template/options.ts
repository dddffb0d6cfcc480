import { isAbsolute } from 'node:path';
import { z } from 'zod';

/**
 * Step 1: the options of your connector, validated once at start-up. Every field gets a clear message; operators see
 * one line per invalid field (`connectors.<name>.<field>: …`).
 */
export const __NAME__Options = z
  .object({
    /** Example: where the target lives. Replace with your target's settings (URL, credentials, …). */
    directory: z.string().refine((p) => isAbsolute(p), 'must be an absolute path'),
  })
  .strict();

export type __Name__Options = z.output<typeof __NAME__Options>;
