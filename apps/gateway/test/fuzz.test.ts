import { readFileSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEEDBACK_CODES, loadPkcs12, openMessage } from '@efa-gateway/osci';
import { fuzzRounds, fuzzSeed, mutate, random } from '../../../packages/osci/test/support/mutate.js';
import { PKI, post, startTestGateway, vector, type TestGateway } from './support.js';

const intermediary = loadPkcs12(readFileSync(join(PKI, 'osci_manager_cipher_4096.p12')), '123456');

/** What the intermediary reads from an answer: its type and feedback codes. */
function answerOf(raw: Buffer): { type: string; codes: string[] } {
  const opened = openMessage(raw, { keys: [intermediary], allowUnencrypted: true, requireOrderSignature: false });
  return {
    type: opened.messageType,
    codes: opened.envelope.fault ? [opened.envelope.fault.code ?? '(none)'] : opened.envelope.order.feedback.map((f) => f.code),
  };
}

/**
 * Seeded, bounded fuzzing of the HTTP intake on loopback: damaged copies of reference deliveries are each answered
 * with HTTP 200 and an OSCI answer carrying a registered code, and afterwards the gateway is healthy, nothing is left
 * half-received and every stored or quarantined message has its record.
 */
describe('gateway intake under damaged deliveries', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({}, { workers: false });
  });
  afterAll(async () => {
    await gw.gateway.stop();
    await rm(gw.dataDir, { recursive: true, force: true });
  });

  it('answers every damaged delivery in protocol and keeps the spool consistent', async () => {
    const originals = await Promise.all(['b-accept-delivery', 'c-accept-multi-attachments'].map((name) => vector(name)));
    const next = random(fuzzSeed(0x9a7e));
    const seen = new Map<string, number>();
    for (let round = 0; round < fuzzRounds(200); round++) {
      const original = originals[round % originals.length]!;
      const { bytes, what } = mutate(original, next);
      const answer = answerOf(await post(gw.url, bytes));
      expect(answer.codes.length, `round ${round} (${what})`).toBeGreaterThan(0);
      for (const code of answer.codes) expect(code in FEEDBACK_CODES, `round ${round} (${what}): code ${code}`).toBe(true);
      const key = `${answer.type} ${answer.codes.join(',')}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    // The damage reaches more than one layer (MIME, transport, signatures …), not only one kind of refusal.
    expect(seen.size, JSON.stringify([...seen])).toBeGreaterThan(2);

    expect((await fetch(gw.url.replace(/\/osci\/.*$/, '/healthz'))).status).toBe(200);
    expect(await readdir(join(gw.gateway.spool.dir, 'incoming'))).toEqual([]);
    const ids = [...(await gw.gateway.spool.list()), ...(await gw.gateway.spool.listQuarantine())];
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) expect(await gw.gateway.spool.get(id), id).toBeDefined();
  });
});
