import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadProcedures, type ProcedureRegistry } from '../src/index.js';

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
