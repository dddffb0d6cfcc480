import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { layoutOption, modeOption } from '../lib/naming.js';

export const hotfolderOptions = z
  .object({
    /** Root directory of the import hotfolder (absolute). */
    path: z.string().refine((p) => isAbsolute(p), 'must be an absolute path'),
    /**
     * Where a delivery lands below `path`. Variables: {tenant} {procedure} {messageId} {deliveryId} {key} {yyyy} {mm} {dd} {date}.
     * @defaultValue `{tenant}/{procedure}/{date}/{messageId}_{key}`
     */
    layout: layoutOption,
    /**
     * `directory`: the delivery becomes one folder holding all documents (renamed into place as a whole).
     * `file`: each document becomes `<layout>_<name>` directly (one file for a package such as an xdomea zip).
     * @defaultValue directory
     */
    mode: modeOption,
    /** Write an empty `<name>.done` next to the delivery after it is complete, for importers that wait for one. */
    doneMarker: z.boolean().default(false),
    /** File mode of created files (octal string). @defaultValue "0640" */
    fileMode: z
      .string()
      .regex(/^0?[0-7]{3}$/, 'must be an octal mode such as "0640"')
      .default('0640'),
  })
  .strict();

export type HotfolderOptions = z.output<typeof hotfolderOptions>;
