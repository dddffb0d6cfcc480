import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { passthrough } from '../passthrough.js';
import type { MappingInput, MappingProcedure } from '../procedure.js';
import { SchemaDirectory } from './catalog.js';
import type { ProcedureDefinition } from './define.js';
import type { JsonSchema } from './json-schema.js';
import { parseManifest } from './manifest.js';
import { ProcedureRuntime } from './runtime.js';
import { SchemaCache } from './xsd-validator.js';

/** The procedures that ship with the package (`src/procedures/<id>/`). */
export const BUILTIN_PROCEDURES_DIR = fileURLToPath(new URL('../procedures/', import.meta.url));

/** Default schema directory: `../shared/schemas` beside the repository, or EFA_SCHEMA_DIR. */
export function defaultSchemaDir(): string {
  return process.env.EFA_SCHEMA_DIR ?? fileURLToPath(new URL('../../../../../shared/schemas/', import.meta.url));
}

export interface RegistryOptions {
  /** Schema directory with the official XSDs (and optionally an operator `catalog.xml`). */
  readonly schemaDir?: string;
  /** Further XML catalogs (entries relative to each catalog's folder), e.g. for code lists kept elsewhere. */
  readonly catalogs?: readonly string[];
  /** Further folders holding procedure folders (an operator's own mapping packages). */
  readonly procedureDirs?: readonly string[];
}

/** Loads one procedure folder: manifest.json, input.schema.json (JSON input), index.ts (default export). */
export async function loadProcedureFolder(folder: string, schemas: SchemaCache | undefined): Promise<ProcedureRuntime> {
  const manifestFile = path.join(folder, 'manifest.json');
  const manifest = parseManifest(JSON.parse(readFileSync(manifestFile, 'utf8')), manifestFile);
  if (manifest.id !== path.basename(folder)) throw new Error(`${manifestFile}: id ${manifest.id} differs from the folder name ${path.basename(folder)}`);
  let inputSchema: JsonSchema | undefined;
  if (manifest.input.format === 'json' && manifest.input.schema) inputSchema = JSON.parse(readFileSync(path.join(folder, manifest.input.schema), 'utf8')) as JsonSchema;
  const entry = ['index.ts', 'index.js'].map((f) => path.join(folder, f)).find((f) => existsSync(f));
  if (!entry) throw new Error(`${folder}: no index.ts`);
  const mod = (await import(pathToFileURL(entry).href)) as { default?: ProcedureDefinition<unknown> };
  if (!mod.default || typeof mod.default.map !== 'function' || typeof mod.default.read !== 'function') throw new Error(`${entry}: default export is not a procedure (use defineProcedure)`);
  return new ProcedureRuntime(manifest, mod.default, inputSchema, schemas, folder);
}

/** Every procedure the gateway can route to, by id, with recognition of unrouted input. */
export class ProcedureRegistry {
  readonly #byId = new Map<string, MappingProcedure>();
  constructor(
    procedures: readonly MappingProcedure[],
    readonly schemas: SchemaCache | undefined,
  ) {
    for (const p of procedures) {
      if (this.#byId.has(p.id)) throw new Error(`procedure ${p.id} is defined twice`);
      this.#byId.set(p.id, p);
    }
  }

  get(id: string): MappingProcedure | undefined {
    return this.#byId.get(id);
  }

  list(): MappingProcedure[] {
    return [...this.#byId.values()];
  }

  /** The procedure whose recognition matches the message's first content (JSON `$schema` or XML root), if any. */
  recognise(input: MappingInput): MappingProcedure | undefined {
    const first = input.contents[0];
    if (!first) return undefined;
    const head = first.data.subarray(0, 8192).toString('utf8');
    const schemaId = /"\$schema"\s*:\s*"([^"]+)"/.exec(head)?.[1];
    const root = /<(?:([\w.-]+):)?([\w.-]+)[\s>/]/.exec(head.replace(/<\?[\s\S]*?\?>|<!--[\s\S]*?-->/g, ''));
    for (const p of this.#byId.values()) {
      const r = p.recognises;
      if (!r) continue;
      if (r.kind === 'json' && schemaId && r.schemaIds.includes(schemaId)) return p;
      if (r.kind === 'xml' && root && root[2] === r.rootElement) {
        const prefix = root[1];
        const ns = new RegExp(`xmlns${prefix ? `:${prefix}` : ''}="([^"]*)"`).exec(head)?.[1] ?? '';
        if (ns === r.namespace) return p;
      }
    }
    return undefined;
  }
}

/** Ids of every procedure `loadProcedures` would load (read from the manifests, synchronously), for config checks. */
export function listProcedureIds(procedureDirs: readonly string[] = []): string[] {
  const ids = [passthrough.id];
  for (const dir of [BUILTIN_PROCEDURES_DIR, ...procedureDirs]) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) if (existsSync(path.join(dir, name, 'manifest.json'))) ids.push(name);
  }
  return ids;
}

/** Builds the registry: passthrough, the built-in procedures, then every procedure folder in `procedureDirs`. */
export async function loadProcedures(options: RegistryOptions = {}): Promise<ProcedureRegistry> {
  const schemaDir = options.schemaDir ?? defaultSchemaDir();
  const schemas = new SchemaCache(new SchemaDirectory(schemaDir, options.catalogs ?? []));
  const procedures: MappingProcedure[] = [passthrough];
  for (const dir of [BUILTIN_PROCEDURES_DIR, ...(options.procedureDirs ?? [])]) {
    if (!existsSync(dir)) throw new Error(`procedure directory ${dir} does not exist`);
    for (const name of readdirSync(dir).sort()) {
      const folder = path.join(dir, name);
      if (existsSync(path.join(folder, 'manifest.json'))) procedures.push(await loadProcedureFolder(folder, schemas));
    }
  }
  return new ProcedureRegistry(procedures, schemas);
}
