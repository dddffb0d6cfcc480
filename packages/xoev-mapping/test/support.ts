import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILTIN_PROCEDURES_DIR, loadProcedures, type ProcedureRegistry } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
export const SHARED_DIR = resolve(process.env.EFA_SHARED_DIR ?? join(here, '../../../../shared'));
export const SCHEMA_DIR = join(SHARED_DIR, 'schemas');
export const SAMPLES_DIR = join(SHARED_DIR, 'xoev-samples');
/** Test-only Dateiformat code list (placeholder codes), see fixtures/codelists. */
export const TEST_CATALOG = join(here, 'fixtures/codelists/catalog.xml');

let registry: Promise<ProcedureRegistry> | undefined;
export function testRegistry(): Promise<ProcedureRegistry> {
  return (registry ??= loadProcedures({ schemaDir: SCHEMA_DIR, catalogs: [TEST_CATALOG] }));
}

/**
 * Writes a procedure folder `kaputt` into `dir`: a copy of the authoring template whose mapping writes an element
 * xdomea does not know (a mapping bug that output validation must catch). `anyInput`: it takes any content and maps
 * fixed data (for end-to-end tests whose messages carry something else than the template's JSON).
 */
export function writeBrokenProcedure(dir: string, options: { readonly anyInput?: boolean } = {}): void {
  const folder = join(dir, 'kaputt');
  cpSync(join(BUILTIN_PROCEDURES_DIR, '../../template'), folder, { recursive: true });
  for (const f of ['manifest.json', 'input.schema.json', 'fixtures/01-beispiel/fixture.json', 'fixtures/01-beispiel/input.json']) {
    writeFileSync(join(folder, f), readFileSync(join(folder, f), 'utf8').replaceAll('__ID__', 'kaputt'));
  }
  let code = readFileSync(join(folder, 'index.ts.template'), 'utf8')
    .replaceAll("'../../", `'${join(BUILTIN_PROCEDURES_DIR, '..')}/`)
    .replace("leaf(`${X}Importbestaetigung`, '1')", "leaf(`${X}Importbestaetigung`, '1'), leaf(`${X}Unbekannt`, 'x')");
  if (options.anyInput) {
    code = code.replace('const data = ctx.application.json as Antrag;', "const data: Antrag = { antragsteller: { familienname: 'Vektor' } };");
    const manifest = JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(folder, 'manifest.json'), JSON.stringify({ ...manifest, recognises: { kind: 'any' }, input: { format: 'any' } }));
  }
  writeFileSync(join(folder, 'index.ts'), code);
  rmSync(join(folder, 'index.ts.template'));
}
