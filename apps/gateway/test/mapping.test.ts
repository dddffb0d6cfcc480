import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { snapshotDirectory } from '@efa-gateway/connectors/testing';
import { BUILTIN_PROCEDURES_DIR } from '@efa-gateway/xoev-mapping';
import { post, SHARED, startTestGateway, until, vector, type TestGateway } from './support.js';
import { writeBrokenProcedure } from '../../../packages/xoev-mapping/test/support.js';

const SCHEMAS = join(SHARED, 'schemas');
const TEST_CATALOG = join(BUILTIN_PROCEDURES_DIR, '../../test/fixtures/codelists/catalog.xml');
const work = mkdtempSync(join(tmpdir(), 'gw-mapping-'));
const gateways: TestGateway[] = [];
afterAll(async () => {
  for (const g of gateways) await g.gateway.stop();
  rmSync(work, { recursive: true, force: true });
});

/** A procedure folder whose mapping writes an element xdomea does not define (a mapping bug), for any content. */
function brokenProcedureDir(): string {
  const dir = join(work, 'procedures');
  writeBrokenProcedure(dir, { anyInput: true });
  return dir;
}

describe('map stage with xÖV procedures', () => {
  it('counts the attachments in the memory budget while a procedure that reads them maps, not while passthrough forwards them', async () => {
    const { acceptDelivery } = await import('./messages.js');
    const { randomBytes } = await import('node:crypto');
    const peaks: Record<string, number> = {};
    for (const procedure of ['xdomea-akte', 'passthrough']) {
      const gw = await startTestGateway({
        limits: { maxMessageBytes: 64 * 1024 * 1024, memoryBudgetBytes: 256 * 1024 * 1024 },
        mapping: { schemaDir: SCHEMAS, catalogs: [TEST_CATALOG], procedureDirs: [] },
        routes: [{ name: 'r', procedure, connectors: ['outbox'] }],
      } as never);
      gateways.push(gw);
      let peak = 0;
      const sampler = setInterval(() => (peak = Math.max(peak, gw.gateway.memory.reservedBytes)), 1);
      await post(gw.url, acceptDelivery(`budget-${procedure}`, randomBytes(12 * 1024 * 1024)));
      const id = (await gw.gateway.spool.findByMessageId('bob', `budget-${procedure}`))!;
      await until('delivery', async () => ((await gw.gateway.spool.get(id))?.state === 'delivered' ? true : undefined));
      clearInterval(sampler);
      peaks[procedure] = peak;
    }
    expect(peaks['xdomea-akte']).toBeGreaterThanOrEqual(24 * 1024 * 1024); // twice the attachment while mapping
    expect(peaks.passthrough).toBeLessThan(12 * 1024 * 1024); // opening (4 MiB) and streaming only
  });

  it('maps the reference AcceptDelivery to a schema-valid xdomea package in the DMS hotfolder and records the validation', async () => {
    const gw = await startTestGateway({
      mapping: { schemaDir: SCHEMAS, catalogs: [TEST_CATALOG], procedureDirs: [] },
      routes: [{ name: 'dms', procedure: 'xdomea-akte', connectors: ['outbox'] }],
    } as never);
    gateways.push(gw);
    await post(gw.url, await vector('b-accept-delivery'));
    const id = (await gw.gateway.spool.findByMessageId('bob', 'vec-S-accept-0001'))!;
    const record = await until('delivery', async () => {
      const r = await gw.gateway.spool.get(id);
      return r?.state === 'delivered' ? r : undefined;
    });
    expect(record.route).toMatchObject({
      procedure: 'xdomea-akte',
      procedureVersion: '1.0.0',
      validation: { input: 'not-checked', output: { status: 'valid' } },
    });
    const events = await gw.gateway.spool.events(id);
    expect(events.some((e) => e.stage === 'map' && /xdomea-akte 1\.0\.0; input not-checked; output valid/.test(e.detail ?? ''))).toBe(true);
    const zip = (await snapshotDirectory(gw.outbox)).find((f) => f.name.endsWith('_Abgabe.Abgabe.0401.zip'))!;
    expect(zip).toBeDefined();
    const names = Object.keys(unzipSync(new Uint8Array(readFileSync(join(gw.outbox, zip.name)))));
    expect(names.some((n) => n.endsWith('_antrag.pdf'))).toBe(true);
    expect(names.some((n) => n.endsWith('_anlage1.bin'))).toBe(true);
    // What was delivered is exactly what the process stage mapped and validated, kept sealed in the spool.
    const kept = (await gw.gateway.spool.mapped(id))!;
    expect(kept.map((d) => [d.role, d.contentType])).toEqual([['package', 'application/zip']]);
    const keptZip = kept[0]!;
    expect(Buffer.compare(keptZip.data!, readFileSync(join(gw.outbox, zip.name)))).toBe(0);
    const sealed = readFileSync(join(gw.gateway.spool.dir, 'messages', id, 'mapped.bin'));
    expect(sealed.includes(Buffer.from('Abgabe.Abgabe.0401'))).toBe(false); // no plaintext at rest
  });

  it('dead-letters a message whose mapping produces invalid xÖV, with the XPath and the XSD message, and delivers nothing', async () => {
    const gw = await startTestGateway({
      mapping: { schemaDir: SCHEMAS, catalogs: [], procedureDirs: [brokenProcedureDir()] },
      routes: [{ name: 'dms', procedure: 'kaputt', connectors: ['outbox'] }],
    } as never);
    gateways.push(gw);
    await post(gw.url, await vector('b-accept-delivery'));
    const id = (await gw.gateway.spool.findByMessageId('bob', 'vec-S-accept-0001'))!;
    const record = await until('dead letter', async () => {
      const r = await gw.gateway.spool.get(id);
      return r?.state === 'failed' ? r : undefined;
    });
    expect(record.error).toMatchObject({ code: 'OUTPUT_INVALID' });
    expect(record.error?.message).toMatch(/xdomea:Kopf\[1\]\/xdomea:Unbekannt\[1\].*not expected/);
    expect(await snapshotDirectory(gw.outbox)).toEqual([]);
  });

  it('refuses a configuration that routes to an unknown procedure', async () => {
    await expect(startTestGateway({ routes: [{ name: 'x', procedure: 'gibt-es-nicht', connectors: ['outbox'] }] })).rejects.toThrow(
      /unknown procedure "gibt-es-nicht" \(known: auto, passthrough, xdomea-akte/,
    );
  });
});
