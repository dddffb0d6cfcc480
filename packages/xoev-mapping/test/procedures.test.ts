import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { unzipSync } from 'fflate';
import { PDFDocument } from 'pdf-lib';
import { describe, expect, it } from 'vitest';
import { fixtureInput, messageXml, runFixtures } from '../src/framework/fixtures.js';
import { documentBytes, ProcedureRuntime } from '../src/index.js';
import { SAMPLES_DIR, testRegistry } from './support.js';

/** The text a PDF shows (pdf-lib writes WinAnsi hex strings into flate-compressed content streams). */
function pdfText(pdf: Buffer): string {
  const raw = pdf.toString('latin1');
  let text = '';
  for (const m of raw.matchAll(/stream\r?\n([\s\S]*?)\r?\nendstream/g)) {
    let content: string;
    try {
      content = inflateSync(Buffer.from(m[1]!, 'latin1')).toString('latin1');
    } catch {
      content = m[1]!;
    }
    for (const t of content.matchAll(/<([0-9A-Fa-f]*)> Tj/g)) text += `${Buffer.from(t[1]!, 'hex').toString('latin1')}\n`;
  }
  return text;
}

async function runtime(id: string): Promise<ProcedureRuntime> {
  const p = (await testRegistry()).get(id);
  if (!(p instanceof ProcedureRuntime)) throw new Error(`no procedure ${id}`);
  return p;
}

describe.each(['xdomea-akte', 'xgewerbeanzeige-anmeldung', 'xpersonenstand-geburtsurkunde'])('procedure %s', (id) => {
  it('passes every fixture (exact expected.xml, rejections with code and field paths)', async () => {
    const results = await runFixtures(await runtime(id));
    expect(results.length).toBeGreaterThanOrEqual(3);
    for (const r of results) expect(r, `${r.name}: ${r.detail}`).toMatchObject({ ok: true });
  });
});

describe('xdomea-akte', () => {
  it('validates every mapped fixture against the official xdomea 3.0.0 XSD and packs message, PDF and attachments in one zip', async () => {
    const p = await runtime('xdomea-akte');
    const { input } = fixtureInput(join(p.folder!, 'fixtures/01-json-antrag-mit-anlagen'));
    const result = await p.map(input);
    expect(result.validation.output).toEqual({ status: 'valid' });
    expect(result.documents).toHaveLength(1);
    const pkg = result.documents[0]!;
    expect(pkg.role).toBe('package');
    expect(pkg.name).toMatch(/^[0-9a-f-]{36}_Abgabe\.Abgabe\.0401\.zip$/);
    const files = unzipSync(new Uint8Array(documentBytes(pkg, input)));
    const names = Object.keys(files);
    expect(names).toContain(pkg.name.replace('.zip', '.xml'));
    const pdfName = names.find((n) => n.endsWith('_antrag.pdf'))!;
    expect(names.some((n) => n.endsWith('_handwerkskarte.pdf'))).toBe(true);
    expect(names.some((n) => n.endsWith('_ausweis.png'))).toBe(true);
    expect(names.some((n) => n.endsWith('_antragsdaten.json'))).toBe(true);
    // Every primary document named in the message is in the zip, and vice versa.
    const xml = messageXml(result).toString('utf8');
    const listed = [...xml.matchAll(/<xdomea:Dateiname>([^<]+)</g)].map((m) => m[1]);
    expect(listed.sort()).toEqual(names.filter((n) => !n.endsWith('0401.xml')).sort());
    // The PDF opens and carries the message id and the verification result.
    const pdf = await PDFDocument.load(files[pdfName]!);
    expect(pdf.getPageCount()).toBeGreaterThanOrEqual(1);
    const text = pdfText(Buffer.from(files[pdfName]!));
    expect(text).toContain('akte-0001');
    expect(text).toContain('Nachrichten-Signatur: gültig');
    expect(text).toContain('Salon Schöngeist e.K.');
    expect(text).toContain('Rodríguez');
    // Attachments are byte-identical.
    expect(Buffer.from(files[names.find((n) => n.endsWith('_handwerkskarte.pdf'))!]!)).toEqual(input.attachments[0]!.data);
  });

  it('is deterministic: the same message gives the same package bytes', async () => {
    const p = await runtime('xdomea-akte');
    const { input } = fixtureInput(join(p.folder!, 'fixtures/02-xml-antrag-ohne-signatur'));
    const a = await p.map(input);
    const b = await p.map(input);
    expect(documentBytes(a.documents[0]!, input).equals(documentBytes(b.documents[0]!, input))).toBe(true);
  });
});

/** Element paths (local names) of an XML document, attributes ignored. */
function elementPaths(xml: string): Set<string> {
  const paths = new Set<string>();
  const stack: string[] = [];
  for (const m of xml.replace(/<\?[\s\S]*?\?>|<!--[\s\S]*?-->/g, '').matchAll(/<(\/?)(?:[\w.-]+:)?([\w.-]+)[^>]*?(\/?)>/g)) {
    if (m[1]) stack.pop();
    else {
      stack.push(m[2]!);
      paths.add(stack.slice(1).join('/'));
      if (m[3]) stack.pop();
    }
  }
  return paths;
}

const listUris = (xml: string) => new Set([...xml.matchAll(/listURI="([^"]+)"/g)].map((m) => m[1]));

describe('structure against the official sample instances (their XSDs are not staged)', () => {
  it('XGewerbeanzeige: every element path of the output occurs in the KoSIT 2.2/2.0 valid instances', async () => {
    const p = await runtime('xgewerbeanzeige-anmeldung');
    const samples = ['xgwa2.2-valid.xml', 'xgwa2.0-valid.xml'].map((f) => readFileSync(join(SAMPLES_DIR, 'xgewerbeanzeige', f), 'utf8'));
    const known = new Set(samples.flatMap((s) => [...elementPaths(s)]));
    for (const fixture of ['01-einzelkaufmann-friseur', '02-gbr-zwei-inhaber-nebenerwerb']) {
      const xml = messageXml(await p.map(fixtureInput(join(p.folder!, 'fixtures', fixture)).input)).toString('utf8');
      expect(xml).toContain('xmlns:xga="http://www.xgewerbeanzeige.de/spezifikation/2.2"');
      const unknown = [...elementPaths(xml)].filter((x) => !known.has(x));
      expect(unknown, fixture).toEqual([]);
      for (const uri of listUris(xml)) expect(samples.some((s) => s.includes(`listURI="${uri}"`)), uri).toBe(true);
    }
  });

  it('XPersonenstand: the message header has the paths, namespaces and code lists of the 26.11 portal2StA instance', async () => {
    const p = await runtime('xpersonenstand-geburtsurkunde');
    const sample = readFileSync(join(SAMPLES_DIR, 'xpersonenstand/_2611/Portal2StASterbefall084020.xml'), 'utf8');
    const xml = messageXml(await p.map(fixtureInput(join(p.folder!, 'fixtures/02-elternteil-mehrere-urkunden-mit-anlage')).input)).toString('utf8');
    expect(xml).toContain('xmlns:xpsw="http://xpsw.domap.de/xpsw2611"');
    expect(xml).toMatch(/version="26\.11"/);
    const header = (s: string) => [...elementPaths(s)].filter((x) => x.startsWith('nachrichtenkopf.g2g'));
    const sampleHeader = new Set(header(sample));
    expect(header(xml).filter((x) => !sampleHeader.has(x))).toEqual([]);
    for (const uri of listUris(xml)) expect(sample.includes(`listURI="${uri}"`), uri).toBe(true);
    // The portal message's own part follows the 081030 content model order.
    const order = ['antragsteller', 'modalitaeten', 'kind', 'angeforderteUrkunden', 'anhang'].map((n) => xml.indexOf(`<xpsw:${n}`));
    expect(order.every((v, i) => v > 0 && (i === 0 || v > order[i - 1]!))).toBe(true);
    // Unqualified children of xinneres/xoev types stay unqualified, as in the instance.
    expect(xml).toMatch(/<xpsw:familienname>\s*<name>Öztürk<\/name>/);
  });
});
