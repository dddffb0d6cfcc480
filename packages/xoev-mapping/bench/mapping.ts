/**
 * Mapping + output validation time per message for each procedure, on its first `mapped` fixture.
 * Target: ≤ 10 ms for a typical application (next to ≈ 12 ms of RSA work per OSCI message).
 *   pnpm bench            (in packages/xoev-mapping; BENCH_ROUNDS=n to change the sample size)
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixtureInput } from '../src/framework/fixtures.js';
import { loadProcedures, ProcedureRuntime, renderApplicationPdf, formViewFromJson, type MappingInput } from '../src/index.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const schemaDir = process.env.EFA_SCHEMA_DIR ?? join(here, '../../../../shared/schemas');
const catalog = join(here, '../test/fixtures/codelists/catalog.xml');
const rounds = Number(process.env.BENCH_ROUNDS ?? 200);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function measure(label: string, fn: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 20; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  process.stdout.write(`${label.padEnd(58)} mean ${mean.toFixed(2).padStart(6)} ms  p50 ${percentile(times, 50).toFixed(2).padStart(6)}  p99 ${percentile(times, 99).toFixed(2).padStart(6)}  (${rounds} rounds)\n`);
}

const compileStart = performance.now();
const registry = await loadProcedures({ schemaDir, catalogs: [catalog] });
process.stdout.write(`registry load (manifests, input schemas): ${(performance.now() - compileStart).toFixed(0)} ms\n`);
for (const p of registry.list()) {
  if (!(p instanceof ProcedureRuntime) || !p.folder) continue;
  const fixtures = join(p.folder, 'fixtures');
  const mapped = readdirSync(fixtures)
    .sort()
    .find((f) => existsSync(join(fixtures, f, 'fixture.json')) && (JSON.parse(readFileSync(join(fixtures, f, 'fixture.json'), 'utf8')) as { expect: { outcome: string } }).expect.outcome === 'mapped');
  if (!mapped) continue;
  const { input } = fixtureInput(join(fixtures, mapped));
  const first = performance.now();
  const result = await p.map(input);
  const validation = result.validation.output.status === 'skipped' ? 'output validation skipped (XSD not installed)' : `output ${result.validation.output.status}`;
  process.stdout.write(`${p.id}: first message incl. schema compilation ${(performance.now() - first).toFixed(0)} ms; ${validation}\n`);
  await measure(`  ${p.id} (${mapped}) map+validate`, () => p.map(input));
}
// Where the xdomea-akte time goes: the PDF of the application.
const sample = fixtureInput(join(here, '../src/procedures/xdomea-akte/fixtures/01-json-antrag-mit-anlagen')).input as MappingInput;
const sections = formViewFromJson(JSON.parse(sample.contents[0]!.data.toString('utf8')));
await measure('  of which: application PDF alone', () => renderApplicationPdf({ title: 'Antrag', meta: [{ label: 'MessageId', value: 'x' }], sections, createdAt: sample.receivedAt }));
