import type { MappingContext } from '../../framework/define.js';
import { MappingError } from '../../procedure.js';

export const DATEIFORMAT_LIST = 'urn:xoev-de:xdomea:codeliste:dateiformat';
export const DATEIFORMAT_VERSION = '2.0';

const CODE_COLUMN = /^(code|schluessel|schlüssel|key)$/i;

/**
 * The xdomea `Dateiformat` code for a file extension, from the code list installed in the schema directory
 * (genericode of urn:xoev-de:xdomea:codeliste:dateiformat; a row matches when one of its other columns names the
 * extension). Codes are not built in: a wrong format code makes a DMS mis-file a document.
 */
export function dateiformatCode(ctx: MappingContext, extension: string): string {
  const list = ctx.codeList(DATEIFORMAT_LIST);
  const ext = extension.toLowerCase();
  for (const row of list.rows) {
    const codeColumn = Object.keys(row).find((k) => CODE_COLUMN.test(k));
    if (!codeColumn) continue;
    for (const [column, value] of Object.entries(row)) {
      if (column === codeColumn) continue;
      const words = value.toLowerCase().split(/[^a-z0-9]+/);
      if (words.includes(ext)) return row[codeColumn]!;
    }
  }
  throw new MappingError('CODELIST_NO_ENTRY', `the installed ${DATEIFORMAT_LIST} (version ${list.version || '?'}) has no code for file format "${ext}"`);
}
