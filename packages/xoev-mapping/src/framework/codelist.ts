import { existsSync, readFileSync } from 'node:fs';
import type { SchemaDirectory } from './catalog.js';
import { elementChildren, parseXml } from './xml-dom.js';

/** A code list in OASIS genericode 1.0 as XRepository publishes them: rows of column values. */
export interface CodeList {
  readonly canonicalUri: string;
  readonly version: string;
  readonly rows: ReadonlyArray<Readonly<Record<string, string>>>;
}

/** Reads a genericode file (the CodeList's Identification and SimpleCodeList rows). */
export function readGenericode(file: string): CodeList {
  const doc = parseXml(readFileSync(file), file);
  try {
    const find = (parent: ReturnType<typeof elementChildren>[number] | undefined, name: string) => (parent ? elementChildren(parent).find((e) => e.name === name) : undefined);
    const identification = find(doc.root, 'Identification');
    const rows: Record<string, string>[] = [];
    for (const row of elementChildren(find(doc.root, 'SimpleCodeList') ?? doc.root).filter((e) => e.name === 'Row')) {
      const r: Record<string, string> = {};
      for (const value of elementChildren(row).filter((e) => e.name === 'Value')) {
        const column = value.attrs.find((a) => a.name === 'ColumnRef')?.value;
        const simple = find(value, 'SimpleValue');
        if (column && simple) r[column] = simple.content.trim();
      }
      rows.push(r);
    }
    return { canonicalUri: find(identification, 'CanonicalUri')?.content.trim() ?? '', version: find(identification, 'Version')?.content.trim() ?? '', rows };
  } finally {
    doc.dispose();
  }
}

/** A code list installed in the schema directory (found through the catalog by its canonical URI), or undefined. */
export function installedCodeList(directory: SchemaDirectory, canonicalUri: string): CodeList | undefined {
  const file = directory.schemaFor(canonicalUri);
  return file !== undefined && existsSync(file) ? readGenericode(file) : undefined;
}
