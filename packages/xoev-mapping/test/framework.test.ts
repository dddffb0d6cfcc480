import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureInput } from '../src/framework/fixtures.js';
import { BUILTIN_PROCEDURES_DIR, loadProcedures, MappingError, type MappingInput } from '../src/index.js';
import { SCHEMA_DIR, TEST_CATALOG, testRegistry, writeBrokenProcedure } from './support.js';

const work = mkdtempSync(join(tmpdir(), 'mapping-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('output validation', () => {
  it('catches a mapping bug before anything leaves: OUTPUT_INVALID with the XPath and the XSD message', async () => {
    const dir = join(work, 'procs');
    mkdirSync(dir, { recursive: true });
    writeBrokenProcedure(dir);
    const registry = await loadProcedures({ schemaDir: SCHEMA_DIR, procedureDirs: [dir] });
    const p = registry.get('kaputt')!;
    const { input } = fixtureInput(join(dir, 'kaputt/fixtures/01-beispiel'));
    const error = await p.map(input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MappingError);
    const e = error as MappingError;
    expect(e.code).toBe('OUTPUT_INVALID');
    expect(e.issues[0]).toMatchObject({ side: 'output', path: '/xdomea:Abgabe.Abgabe.0401/xdomea:Kopf[1]/xdomea:Unbekannt[1]', rule: 'content-model' });
    expect(e.message).toMatch(/Unbekannt.*not expected/);
  });

  it('refuses to map without a required schema (SCHEMA_UNAVAILABLE), and skips with a reason where the manifest allows', async () => {
    const empty = join(work, 'no-schemas');
    mkdirSync(empty, { recursive: true });
    const registry = await loadProcedures({ schemaDir: empty, catalogs: [TEST_CATALOG] });
    const akte = registry.get('xdomea-akte')!;
    const { input } = fixtureInput(join(BUILTIN_PROCEDURES_DIR, 'xdomea-akte/fixtures/02-xml-antrag-ohne-signatur'));
    await expect(akte.map(input)).rejects.toMatchObject({ code: 'SCHEMA_UNAVAILABLE' });
    const gewerbe = registry.get('xgewerbeanzeige-anmeldung')!;
    const result = await gewerbe.map(fixtureInput(join(BUILTIN_PROCEDURES_DIR, 'xgewerbeanzeige-anmeldung/fixtures/01-einzelkaufmann-friseur')).input);
    expect(result.validation.output).toMatchObject({ status: 'skipped', reason: expect.stringContaining('xgewerbeanzeige/2.2') });
  });

  it('names a missing code list instead of inventing format codes', async () => {
    const registry = await loadProcedures({ schemaDir: SCHEMA_DIR });
    const { input } = fixtureInput(join(BUILTIN_PROCEDURES_DIR, 'xdomea-akte/fixtures/02-xml-antrag-ohne-signatur'));
    await expect(registry.get('xdomea-akte')!.map(input)).rejects.toThrow(/urn:xoev-de:xdomea:codeliste:dateiformat is not installed/);
  });
});

describe('input handling', () => {
  const base: MappingInput = { messageId: 'm', tenant: 't', subject: undefined, receivedAt: new Date('2026-01-01T00:00:00Z'), contents: [], attachments: [], report: {}, metadata: {} };

  it('gives one error per broken field with the field label from the input schema', async () => {
    const p = (await testRegistry()).get('xpersonenstand-geburtsurkunde')!;
    const { input } = fixtureInput(join(BUILTIN_PROCEDURES_DIR, 'xpersonenstand-geburtsurkunde/fixtures/03-pflichtangaben-fehlen'));
    const e = (await p.map(input).catch((x: unknown) => x)) as MappingError;
    expect(e.issues).toHaveLength(4);
    expect(e.issues.find((i) => i.path === '/person/geburtsort')).toMatchObject({ label: 'Person im Geburtseintrag › Geburtsort', rule: 'required' });
  });

  it('rejects malformed JSON and content of the wrong kind with clear codes', async () => {
    const p = (await testRegistry()).get('xgewerbeanzeige-anmeldung')!;
    await expect(p.map({ ...base, contents: [{ id: 'a', kind: 'base64', data: Buffer.from('{"a":') }] })).rejects.toMatchObject({ code: 'INPUT_MALFORMED' });
    await expect(p.map({ ...base, contents: [{ id: 'a', kind: 'xml', data: Buffer.from('<a/>') }] })).rejects.toMatchObject({ code: 'INPUT_UNRECOGNISED' });
  });

  it('keeps application content out of error messages (they reach the Laufzettel and logs)', async () => {
    const p = (await testRegistry()).get('xgewerbeanzeige-anmeldung')!;
    const e = (await p.map({ ...base, contents: [{ id: 'a', kind: 'base64', data: Buffer.from('{"familienname": Müller-Lüdenscheidt}') }] }).catch((x: unknown) => x)) as MappingError;
    expect(e.code).toBe('INPUT_MALFORMED');
    expect(e.message).toMatch(/^application is not valid JSON/);
    expect(e.message).not.toContain('Müller');
    const schema = (await testRegistry()).schemas!.forNamespace('urn:xoev-de:xdomea:schema:3.0.0');
    const xml = `<xdomea:Abgabe.Abgabe.0401 xmlns:xdomea="urn:xoev-de:xdomea:schema:3.0.0"><xdomea:Kopf>
<xdomea:ProzessID>Erika Mustermann</xdomea:ProzessID>
<xdomea:Nachrichtentyp listURI="Jürgen Weiß" listVersionID="2.0"><code>0401</code></xdomea:Nachrichtentyp>
<xdomea:Erstellungszeitpunkt>Anna Schmidt</xdomea:Erstellungszeitpunkt>
</xdomea:Kopf></xdomea:Abgabe.Abgabe.0401>`;
    const issues = schema.validate(xml, 'output');
    expect(issues.length).toBeGreaterThanOrEqual(3);
    for (const name of ['Erika', 'Jürgen', 'Anna']) expect(issues.map((i) => i.message).join('\n')).not.toContain(name);
    expect(issues[0]!.message).toMatch(/ProzessID.*The value \(redacted\) is not accepted by the pattern/);
  });

  it('recognises procedures by JSON $schema id; unknown content is left to the route', async () => {
    const registry = await testRegistry();
    const data = readFileSync(join(BUILTIN_PROCEDURES_DIR, 'xgewerbeanzeige-anmeldung/fixtures/01-einzelkaufmann-friseur/input.json'));
    expect(registry.recognise({ ...base, contents: [{ id: 'a', kind: 'base64', data }] })?.id).toBe('xgewerbeanzeige-anmeldung');
    expect(registry.recognise({ ...base, contents: [{ id: 'a', kind: 'base64', data: Buffer.from('{"x":1}') }] })).toBeUndefined();
  });
});

describe('pnpm mapping (authoring CLI)', () => {
  const cli = join(BUILTIN_PROCEDURES_DIR, '../cli/main.ts');
  const tsx = join(BUILTIN_PROCEDURES_DIR, '../../../../node_modules/.bin/tsx');
  const env = { ...process.env, EFA_SCHEMA_DIR: SCHEMA_DIR, EFA_MAPPING_CATALOGS: TEST_CATALOG };

  it('scaffolds a procedure that passes its own fixture, and runs one input showing output and validation', () => {
    const dir = join(work, 'new');
    const created = execFileSync(tsx, [cli, 'new', 'wohngeld-antrag', '--dir', dir], { env, encoding: 'utf8' });
    expect(created).toContain('wohngeld-antrag');
    const tested = execFileSync(tsx, [cli, 'test', 'wohngeld-antrag', '--procedures', dir], { env, encoding: 'utf8' });
    expect(tested).toMatch(/ok {3}01-beispiel: mapped; output valid/);
    const ran = execFileSync(tsx, [cli, 'run', 'wohngeld-antrag', join(dir, 'wohngeld-antrag/fixtures/01-beispiel/input.json'), '--procedures', dir], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(ran).toContain('<xdomea:Abgabe.Abgabe.0401');
  }, 60_000);
});

describe('error registry', () => {
  it('every mapping error code has a row in docs/errors.md', async () => {
    const { MAPPING_ERROR_CODES } = await import('../src/index.js');
    const doc = readFileSync(join(BUILTIN_PROCEDURES_DIR, '../../../../docs/errors.md'), 'utf8');
    for (const code of Object.keys(MAPPING_ERROR_CODES)) expect(doc).toMatch(new RegExp(`\\| \`${code}\` \\|`));
  });
});

describe('memory', () => {
  it('loads libxml2 (≈ 150 MiB resident) only when a procedure first needs XML, not when the package is imported', () => {
    // A fresh process: importing the package and loading the registry must stay far below libxml2's footprint.
    const script = `
      const before = process.memoryUsage().rss;
      const m = await import(${JSON.stringify(join(import.meta.dirname, '../src/index.ts'))});
      await m.loadProcedures({ schemaDir: ${JSON.stringify(SCHEMA_DIR)} });
      const imported = process.memoryUsage().rss - before;
      await m.loadLibxml();
      const loaded = process.memoryUsage().rss - before;
      process.stdout.write(JSON.stringify({ imported, loaded }));`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    const { imported, loaded } = JSON.parse(out) as { imported: number; loaded: number };
    // Had the import instantiated libxml2 already, loading it would add next to nothing.
    expect(loaded - imported).toBeGreaterThan(64 * 1024 * 1024);
  });
});
