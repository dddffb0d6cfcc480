#!/usr/bin/env node
/**
 * Authoring tool for mapping procedures, usable without a running gateway:
 *   mapping new <id> [--dir DIR]             scaffold a procedure folder from the template
 *   mapping test [<id>…] [--update]          run the fixtures of one, several or all procedures
 *   mapping run <id> <input> [--attach FILE[:TYPE]]… [--out DIR]
 *                                            map one application, print the message and the validation result
 *   mapping list                             procedures with target standard and recognition
 * Common options: --schema-dir DIR (default EFA_SCHEMA_DIR or ../shared/schemas), --catalog FILE (repeatable),
 *   --procedures DIR (repeatable; further procedure folders).
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runFixtures } from '../framework/fixtures.js';
import { BUILTIN_PROCEDURES_DIR, loadProcedures } from '../framework/registry.js';
import { ProcedureRuntime } from '../framework/runtime.js';
import { documentBytes, MappingError, type MappingInput } from '../procedure.js';

const out = (line: string): void => void process.stdout.write(`${line}\n`);
const TEMPLATE_DIR = fileURLToPath(new URL('../../template/', import.meta.url));

interface Args {
  positional: string[];
  options: Map<string, string[]>;
  flags: Set<string>;
}

function parse(argv: string[]): Args {
  const args: Args = { positional: [], options: new Map(), flags: new Set() };
  const valued = new Set(['--schema-dir', '--catalog', '--procedures', '--attach', '--out', '--dir']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (valued.has(a)) {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      args.options.set(a, [...(args.options.get(a) ?? []), v]);
    } else if (a.startsWith('--')) args.flags.add(a);
    else args.positional.push(a);
  }
  return args;
}

function registry(args: Args) {
  const env = process.env.EFA_MAPPING_CATALOGS?.split(path.delimiter).filter(Boolean) ?? [];
  const schemaDir = args.options.get('--schema-dir')?.[0];
  return loadProcedures({ ...(schemaDir ? { schemaDir: path.resolve(schemaDir) } : {}), catalogs: [...env, ...(args.options.get('--catalog') ?? [])].map((f) => path.resolve(f)), procedureDirs: (args.options.get('--procedures') ?? []).map((d) => path.resolve(d)) });
}

function scaffold(args: Args): number {
  const id = args.positional[1];
  if (!id || !/^[a-z0-9][a-z0-9-]*$/.test(id)) throw new Error('usage: mapping new <id>   (lower-case letters, digits, dashes)');
  const parent = path.resolve(args.options.get('--dir')?.[0] ?? BUILTIN_PROCEDURES_DIR);
  const target = path.join(parent, id);
  if (existsSync(target)) throw new Error(`${target} already exists`);
  mkdirSync(parent, { recursive: true });
  cpSync(TEMPLATE_DIR, target, { recursive: true });
  const rewrite = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) rewrite(p);
      else writeFileSync(p, readFileSync(p, 'utf8').replaceAll('__ID__', id));
    }
  };
  rewrite(target);
  const entry = path.join(target, 'index.ts');
  renameSync(path.join(target, 'index.ts.template'), entry);
  if (path.resolve(parent) !== path.resolve(BUILTIN_PROCEDURES_DIR)) {
    // Outside the package the relative imports would not resolve: point them at this package's sources.
    const src = path.resolve(BUILTIN_PROCEDURES_DIR, '..');
    writeFileSync(entry, readFileSync(entry, 'utf8').replaceAll("'../../", `'${src}/`));
  }
  out(`created ${target}\nnext: edit manifest.json, input.schema.json and index.ts, then run: pnpm mapping test ${id}`);
  return 0;
}

async function test(args: Args): Promise<number> {
  const reg = await registry(args);
  const wanted = args.positional.slice(1);
  const procedures = reg.list().filter((p): p is ProcedureRuntime => p instanceof ProcedureRuntime && (wanted.length === 0 || wanted.includes(p.id)));
  for (const id of wanted) if (!procedures.some((p) => p.id === id)) throw new Error(`unknown procedure ${id}`);
  let failed = 0;
  for (const p of procedures) {
    out(`${p.id} ${p.version} → ${p.target.standard} ${p.target.version} ${p.target.messageType}`);
    for (const r of await runFixtures(p, { update: args.flags.has('--update') })) {
      out(`  ${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${r.detail}`);
      if (!r.ok) {
        failed++;
        for (const i of r.error?.issues ?? []) out(`         ${i.path}${i.label ? ` (${i.label})` : ''} [${i.rule}] ${i.message}`);
      }
    }
  }
  out(failed ? `${failed} fixture(s) failed` : 'all fixtures passed');
  return failed ? 1 : 0;
}

async function run(args: Args): Promise<number> {
  const [, id, file] = args.positional;
  if (!id || !file) throw new Error('usage: mapping run <id> <input.json|input.xml> [--attach FILE[:TYPE]]… [--out DIR]');
  const reg = await registry(args);
  const procedure = reg.get(id);
  if (!procedure) throw new Error(`unknown procedure ${id}`);
  const data = readFileSync(file);
  const input: MappingInput = {
    messageId: `cli-${path.basename(file)}`,
    tenant: 'cli',
    subject: undefined,
    receivedAt: new Date(),
    contents: [{ id: 'antrag', kind: file.endsWith('.xml') ? 'xml' : 'base64', data }],
    attachments: (args.options.get('--attach') ?? []).map((spec) => {
      const [f, type] = spec.split(':');
      return { refId: path.basename(f!), contentType: type ?? 'application/octet-stream', data: readFileSync(f!) };
    }),
    report: {},
    metadata: {},
  };
  try {
    const result = await procedure.map(input);
    const outDir = args.options.get('--out')?.[0];
    for (const d of result.documents) {
      if (outDir) {
        mkdirSync(outDir, { recursive: true });
        writeFileSync(path.join(outDir, d.name), documentBytes(d, input));
      }
      if (!outDir && d.role === 'primary' && d.contentType === 'application/xml') process.stdout.write(documentBytes(d, input));
    }
    const v = result.validation.output;
    console.error(`documents: ${result.documents.map((d) => `${d.name} (${documentBytes(d, input).length} bytes)`).join(', ')}${outDir ? ` → ${outDir}` : ''}`);
    console.error(`input: ${result.validation.input}; output: ${v.status}${v.status === 'skipped' ? ` (${v.reason})` : ''}`);
    return 0;
  } catch (error) {
    if (!(error instanceof MappingError)) throw error;
    console.error(`${error.code}: ${error.message}`);
    for (const i of error.issues) console.error(`  ${i.side} ${i.path}${i.label ? ` (${i.label})` : ''} [${i.rule}] ${i.message}`);
    return 2;
  }
}

async function list(args: Args): Promise<number> {
  for (const p of (await registry(args)).list()) {
    const r = p.recognises;
    const how = !r ? '-' : r.kind === 'json' ? `JSON ${r.schemaIds.join(', ')}` : r.kind === 'xml' ? `XML {${r.namespace}}${r.rootElement}` : 'any content (route by id)';
    out(`${p.id.padEnd(32)} ${p.version.padEnd(8)} ${p.target ? `${p.target.standard} ${p.target.version} ${p.target.messageType}` : 'unconverted'}  [${how}]`);
  }
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const args = parse(argv);
  switch (args.positional[0]) {
    case 'new':
      return scaffold(args);
    case 'test':
      return test(args);
    case 'run':
      return run(args);
    case 'list':
      return list(args);
    default:
      console.error('usage: mapping new <id> | test [<id>…] [--update] | run <id> <input> | list');
      return 64;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`error: ${(error as Error).message}`);
    process.exit(1);
  },
);
