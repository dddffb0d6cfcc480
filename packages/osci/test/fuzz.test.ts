import { describe, expect, it } from 'vitest';
import { OSCI_ERROR_REASONS } from '../src/lib/errors.js';
import { DEFAULT_LIMITS } from '../src/lib/limits.js';
import { parseXml, serializeXml } from '../src/lib/xml.js';
import { findPart, parseMimeEntity } from '../src/mime/parse.js';
import { openMessage, type OpenOptions } from '../src/open-message.js';
import { canonicalize } from '../src/xmldsig/c14n.js';
import { mutate, random } from './support/mutate.js';
import { observe, streamed } from './support/opening.js';
import { demoTrust, recipientKeys, vectorFile, vectorIndex } from './support/vectors.js';

/**
 * Seeded, bounded fuzzing of what an unauthenticated sender controls: every round damages a reference message in
 * one of a few ways (flipped or replaced bytes, XML-significant characters, cut, doubled or inserted ranges) and
 * checks that it is refused with an OSCI error — never a TypeError, a hang or an answer that depends on how the bytes
 * arrived. The seeds are fixed, so a failure names the round that reproduces it.
 */

const KNOWN_REASONS = new Set(Object.keys(OSCI_ERROR_REASONS));

/** The error of a refused input must be an OsciError with a registered reason. */
function expectOsciRefusal(error: unknown, what: string): void {
  const e = error as { name?: string; reason?: string; message?: string };
  expect(e?.name, `${what}: ${e?.message}`).toBe('OsciError');
  expect(KNOWN_REASONS.has(e.reason ?? ''), `${what}: unknown reason ${e.reason}`).toBe(true);
}

const cases = vectorIndex();
const vector = (name: string) => cases.find((c) => c.case === name)!;

describe('fuzzing: damaged XML and messages are refused with OSCI errors', () => {
  it('parseXml: a damaged envelope parses or is refused; whatever parses serializes stably and canonicalizes', () => {
    const plain = vector('c-accept-no-transport-enc');
    const envelope = findPart(parseMimeEntity(vectorFile(plain, 'request.bin'), DEFAULT_LIMITS), 'osci@message')!.body;
    const next = random(0x05c1);
    let parsed = 0;
    for (let round = 0; round < 1500; round++) {
      const { bytes, what } = mutate(Buffer.from(envelope), next);
      let doc;
      try {
        doc = parseXml(bytes, DEFAULT_LIMITS, 'fuzzed envelope');
      } catch (error) {
        expectOsciRefusal(error, `round ${round} (${what})`);
        continue;
      }
      parsed++;
      const once = serializeXml(doc);
      expect(serializeXml(parseXml(once, DEFAULT_LIMITS)), `round ${round} (${what})`).toBe(once);
      expect(() => canonicalize(doc.documentElement!), `round ${round} (${what})`).not.toThrow();
    }
    // The damage must not be so coarse that nothing parses (then the serializer would go untested).
    expect(parsed).toBeGreaterThan(100);
  });

  const trust = demoTrust();
  for (const name of ['c-accept-no-transport-enc', 'b-accept-delivery', 'c-accept-multi-attachments']) {
    it(`${name}: openMessage refuses damaged copies with OSCI errors, and MessageStreamOpener reaches the same verdict`, () => {
      const c = vector(name);
      const raw = vectorFile(c, 'request.bin');
      const options: OpenOptions = {
        keys: recipientKeys(c),
        trust,
        allowUnencrypted: name === 'c-accept-no-transport-enc',
        now: new Date('2026-06-01T00:00:00Z'),
        retainAttachments: false,
      };
      const next = random(name.length * 7919);
      for (let round = 0; round < 150; round++) {
        const { bytes, what } = mutate(raw, next);
        const verdict = observe(() => openMessage(Buffer.from(bytes), options));
        const error = (verdict as { error?: { name: string; reason: string } }).error;
        if (error) expectOsciRefusal(error, `round ${round} (${what})`);
        const slice = 1 + Math.floor(next() * 8192);
        expect(observe(streamed(bytes, slice, options).opened), `round ${round} (${what}), slices of ${slice}`).toEqual(verdict);
      }
    });
  }
});
