import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { MappingError, type MappedBytes, type MappingInput, type MappingResult } from '../procedure.js';
import type { ProcedureRuntime } from './runtime.js';

/** `fixtures/<case>/fixture.json`: the message around the input file and what must come out. */
interface FixtureSpec {
  description?: string;
  messageId: string;
  receivedAt: string;
  tenant?: string;
  subject?: string;
  metadata?: Record<string, string>;
  report?: unknown;
  attachments?: Array<{ file: string; refId: string; contentType: string }>;
  expect: { outcome: 'mapped' } | { outcome: 'rejected'; code: string; paths?: string[] };
}

export interface FixtureResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly result?: MappingResult;
  readonly error?: MappingError;
}

/** The fixture's message as the pipeline would hand it to the procedure. */
export function fixtureInput(dir: string): { spec: FixtureSpec; input: MappingInput } {
  const spec = JSON.parse(readFileSync(path.join(dir, 'fixture.json'), 'utf8')) as FixtureSpec;
  const inputFile = ['input.json', 'input.xml'].map((f) => path.join(dir, f)).find((f) => existsSync(f));
  if (!inputFile) throw new Error(`${dir}: no input.json or input.xml`);
  const input: MappingInput = {
    messageId: spec.messageId,
    tenant: spec.tenant ?? 'fixture',
    subject: spec.subject,
    receivedAt: new Date(spec.receivedAt),
    contents: [{ id: 'antrag', kind: inputFile.endsWith('.xml') ? 'xml' : 'base64', data: readFileSync(inputFile) }],
    attachments: (spec.attachments ?? []).map((a) => ({ refId: a.refId, contentType: a.contentType, data: readFileSync(path.join(dir, a.file)) })),
    report: spec.report ?? {},
    metadata: spec.metadata ?? {},
  };
  return { spec, input };
}

/** The xÖV message XML of a mapping result (from the zip when the procedure packs one). */
export function messageXml(result: MappingResult): Buffer {
  const pkg = result.documents.find((d): d is MappedBytes => d.role === 'package' && d.data !== undefined);
  if (pkg) {
    const files = unzipSync(new Uint8Array(pkg.data));
    const name = Object.keys(files).find((n) => pkg.name.replace(/\.zip$/, '.xml') === n);
    if (!name) throw new Error(`package ${pkg.name} holds no message XML`);
    return Buffer.from(files[name]!);
  }
  const primary = result.documents.find((d): d is MappedBytes => d.role === 'primary' && d.data !== undefined);
  if (!primary) throw new Error('mapping produced no primary document');
  return primary.data;
}

/**
 * Runs every fixture of a procedure. `mapped` fixtures must map, pass output validation (or skip it only where the
 * manifest allows) and, when `expected.xml` exists, produce exactly those bytes; `rejected` fixtures must fail with
 * the code and the field paths named. `update` rewrites `expected.xml` from the current output.
 */
export async function runFixtures(procedure: ProcedureRuntime, options: { update?: boolean } = {}): Promise<FixtureResult[]> {
  if (!procedure.folder) throw new Error(`procedure ${procedure.id} has no folder`);
  const root = path.join(procedure.folder, 'fixtures');
  if (!existsSync(root)) return [];
  const results: FixtureResult[] = [];
  for (const name of readdirSync(root).sort()) {
    const dir = path.join(root, name);
    if (!existsSync(path.join(dir, 'fixture.json'))) continue;
    const { spec, input } = fixtureInput(dir);
    let result: MappingResult | undefined;
    let error: MappingError | undefined;
    try {
      result = await procedure.map(input);
    } catch (e) {
      if (!(e instanceof MappingError)) throw e;
      error = e;
    }
    const fail = (detail: string): FixtureResult => ({ name, ok: false, detail, ...(result ? { result } : {}), ...(error ? { error } : {}) });
    if (spec.expect.outcome === 'rejected') {
      if (!error) {
        results.push(fail(`expected ${spec.expect.code}, but it mapped`));
        continue;
      }
      const paths = error.issues.map((i) => i.path).sort();
      const wanted = [...(spec.expect.paths ?? [])].sort();
      if (error.code !== spec.expect.code) results.push(fail(`expected ${spec.expect.code}, got ${error.code}: ${error.message}`));
      else if (spec.expect.paths && JSON.stringify(paths) !== JSON.stringify(wanted)) results.push(fail(`expected issues at ${wanted.join(', ')}; got ${paths.join(', ')}`));
      else results.push({ name, ok: true, detail: `rejected with ${error.code} (${error.issues.length} issue(s))`, error });
      continue;
    }
    if (error || !result) {
      results.push(fail(`mapping failed: ${error?.code}: ${error?.message}`));
      continue;
    }
    const xml = messageXml(result);
    const expectedFile = path.join(dir, 'expected.xml');
    if (options.update) writeFileSync(expectedFile, xml);
    if (existsSync(expectedFile) && !readFileSync(expectedFile).equals(xml)) {
      results.push(fail('output differs from expected.xml (run with --update after checking the change)'));
      continue;
    }
    const v = result.validation.output;
    results.push({ name, ok: true, detail: v.status === 'skipped' ? `mapped; output not validated: ${v.reason}` : `mapped; output ${v.status}`, result });
  }
  return results;
}
