import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureInput, messageXml } from '../src/framework/fixtures.js';
import { parseXml } from '../src/framework/xml-dom.js';
import { MappingError, ProcedureRuntime, type MappingInput } from '../src/index.js';
import { fuzzRounds, fuzzSeed, random } from '../../../test/support/seeded-random.js';
import { testRegistry } from './support.js';

/**
 * Seeded, bounded fuzzing of the procedures with applications that are well-formed JSON but odd: one value of a
 * fixture that maps is replaced per round (empty, very long, markup characters, control characters, other types,
 * missing fields, empty or doubled arrays). What the sender got wrong must come back as an input error
 * (INPUT_INVALID …) or map to a well-formed message that passes the official XSD where it is installed — never
 * PROCEDURE_FAILED or OUTPUT_INVALID, which would be a mapping bug. The seeds are fixed, so a failure names the round that reproduces it.
 */

const ODD_VALUES: unknown[] = [
  '',
  ' ',
  '  eingerückt  ',
  'x'.repeat(5000),
  '<b>&amp;"\'</b>',
  ']]>',
  'Grüße 😀 ǅ',
  'a\u0000b',
  'a\u0007b',
  'a\uFFFEb',
  'Zeile 1\r\nZeile 2',
  '2026-13-45',
  '-1',
  0,
  -1,
  1.5,
  1e21,
  true,
  null,
  [],
  {},
];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every path to a value in `doc` (objects by key, arrays by index). */
function paths(doc: Json, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [prefix];
  if (Array.isArray(doc)) doc.forEach((v, i) => out.push(...paths(v, [...prefix, i])));
  else if (doc !== null && typeof doc === 'object') for (const [k, v] of Object.entries(doc)) out.push(...paths(v, [...prefix, k]));
  return out;
}

/** A copy of `doc` with one value replaced, removed or (arrays) emptied or doubled. */
function mutate(doc: Json, next: () => number): { doc: Json; what: string } {
  const copy = JSON.parse(JSON.stringify(doc)) as Json;
  const all = paths(copy).filter((p) => p.length > 0);
  const path = all[Math.floor(next() * all.length)]!;
  const parent = path.slice(0, -1).reduce<Json>((node, key) => (node as Record<string | number, Json>)[key]!, copy) as Record<string | number, Json>;
  const key = path[path.length - 1]!;
  const where = `/${path.join('/')}`;
  const roll = next();
  if (roll < 0.15 && !Array.isArray(parent)) {
    delete parent[key];
    return { doc: copy, what: `remove ${where}` };
  }
  if (roll < 0.25 && Array.isArray(parent[key])) {
    const list = parent[key] as Json[];
    if (next() < 0.5) parent[key] = [];
    else parent[key] = [...list, ...list];
    return { doc: copy, what: `${(parent[key] as Json[]).length === 0 ? 'empty' : 'double'} ${where}` };
  }
  const value = ODD_VALUES[Math.floor(next() * ODD_VALUES.length)] as Json;
  parent[key] = value;
  return { doc: copy, what: `set ${where} to ${JSON.stringify(value).slice(0, 40)}` };
}

const ACCEPTABLE = new Set(['INPUT_UNRECOGNISED', 'INPUT_MALFORMED', 'INPUT_INVALID', 'CODELIST_NO_ENTRY']);

const targets: Array<[string, string]> = [
  ['xdomea-akte', '01-json-antrag-mit-anlagen'],
  ['xgewerbeanzeige-anmeldung', '01-einzelkaufmann-friseur'],
  ['xgewerbeanzeige-anmeldung', '02-gbr-zwei-inhaber-nebenerwerb'],
  ['xpersonenstand-geburtsurkunde', '01-eigene-geburtsurkunde'],
  ['xpersonenstand-geburtsurkunde', '02-elternteil-mehrere-urkunden-mit-anlage'],
];

describe('fuzzing the procedures with odd applications', () => {
  const seen: string[] = [];
  for (const [id, fixture] of targets) {
    it(`${id} ${fixture}: an input error or a valid message, never a mapping bug`, async () => {
      const runtime = (await testRegistry()).get(id);
      if (!(runtime instanceof ProcedureRuntime)) throw new Error(`no procedure ${id}`);
      const { input } = fixtureInput(join(runtime.folder!, 'fixtures', fixture));
      const original = JSON.parse(input.contents[0]!.data.toString('utf8')) as Json;
      // Output validation may be skipped where the official XSD is not installed; then it must be skipped for the
      // untouched fixture as well (an odd value must never be what turns it off).
      const baseline = (await runtime.map(input)).validation.output.status;
      const next = random(fuzzSeed(id.length * 31 + fixture.length));
      const outcomes = new Map<string, number>();
      for (let round = 0; round < fuzzRounds(40); round++) {
        const { doc, what } = mutate(original, next);
        const mutated: MappingInput = { ...input, contents: [{ ...input.contents[0]!, data: Buffer.from(JSON.stringify(doc)) }] };
        let outcome: string;
        try {
          const result = await runtime.map(mutated);
          outcome = `mapped, output ${result.validation.output.status}`;
          // Whether or not the XSD is installed, the message is well-formed XML (libxml2).
          parseXml(messageXml(result)).dispose();
        } catch (error) {
          const e = error as MappingError;
          expect(error instanceof MappingError && ACCEPTABLE.has(e.code), `round ${round} (${what}): ${e.name} ${e.code} ${e.message}`).toBe(true);
          outcome = e.code;
        }
        if (outcome.startsWith('mapped')) expect(outcome, `round ${round} (${what})`).toBe(`mapped, output ${baseline}`);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
      seen.push(`${id}/${fixture}: ${JSON.stringify([...outcomes])}`);
    }, 120_000);
  }

  it('reaches both sides: some odd applications are refused, some map', () => {
    // Judged over all procedures, so only when they all ran (not when a filter picked some of them).
    if (seen.length < targets.length) return;
    const all = seen.join('\n');
    expect(all).toMatch(/INPUT_INVALID/);
    expect(all).toMatch(/mapped/);
  });
});
