import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { certificateId } from '../src/build/certificates.js';
import { buildContainer, IdSequence } from '../src/build/content.js';
import { DEFAULT_BUILD_CONTEXT } from '../src/build/context.js';
import { NS_DECLS } from '../src/build/xml-writer.js';
import { OSCI_ERROR_REASONS } from '../src/lib/errors.js';
import { DEFAULT_LIMITS } from '../src/lib/limits.js';
import { parseXml, serializeXml } from '../src/lib/xml.js';
import { findPart, parseMimeEntity } from '../src/mime/parse.js';
import { openMessage, type OpenOptions } from '../src/open-message.js';
import { canonicalize } from '../src/xmldsig/c14n.js';
import { composeMessage } from '../src/build/compose.js';
import { deterministicContext } from '../src/build/context.js';
import { MESSAGE_TYPES } from '../src/soap/message-types.js';
import { parseEnvelope } from '../src/soap/envelope.js';
import { COMPOSED_CASES, PROCESS_CARD_RESPONSE } from './support/composed-types.js';
import { fuzzRounds, fuzzSeed, mutate, mutateStructure, random } from './support/mutate.js';
import { encryptedForAddressee, handMadeAcceptDelivery } from './support/hand-made.js';
import { observe, streamed } from './support/opening.js';
import { demoKey, demoTrust, recipientKeys, vectorFile, vectorIndex } from './support/vectors.js';

/**
 * Seeded, bounded fuzzing of what an unauthenticated sender controls: every round damages a reference message in
 * one of a few ways (flipped or replaced bytes, XML-significant characters, cut, doubled or inserted ranges; for XML
 * also its structure: an element removed, doubled, emptied or renamed) and checks that it is refused with an OSCI
 * error — never a TypeError, a hang or an answer that depends on how the bytes arrived. The seeds are fixed, so a
 * failure names the round that reproduces it.
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
    const next = random(fuzzSeed(0x05c1));
    let parsed = 0;
    for (let round = 0; round < fuzzRounds(1500); round++) {
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

  it('parseEnvelope: damaged envelopes of every message type are read or refused with OSCI errors', () => {
    // Envelopes a postbox client and a passive recipient meet: the hand-composed types (responses with feedback,
    // ProcessCardBundles with InspectionReports, forward/mediate deliveries …) and the reference library's own
    // acceptDelivery and storeDelivery.
    const envelopes = [
      ...COMPOSED_CASES.map(([type, input]) => ({ name: type, xml: Buffer.from(composeMessage({ type, ...input }, deterministicContext(type)).envelopeXml) })),
      { name: 'process cards', xml: Buffer.from(composeMessage(PROCESS_CARD_RESPONSE, deterministicContext('process-cards')).envelopeXml) },
      ...['c-accept-no-transport-enc', 'c-store-no-transport-enc'].map((name) => ({
        name,
        xml: findPart(parseMimeEntity(vectorFile(vector(name), 'request.bin'), DEFAULT_LIMITS), 'osci@message')!.body,
      })),
    ];
    const next = random(fuzzSeed(0xe7e1));
    let read = 0;
    for (const { name, xml } of envelopes) {
      expect(parseEnvelope(xml, DEFAULT_LIMITS).messageType, name).toBeDefined();
      for (let round = 0; round < fuzzRounds(60); round++) {
        const { bytes, what } = round % 2 === 0 ? mutate(xml, next) : mutateStructure(xml, next);
        let envelope;
        try {
          envelope = parseEnvelope(bytes, DEFAULT_LIMITS);
        } catch (error) {
          expectOsciRefusal(error, `${name} round ${round} (${what})`);
          continue;
        }
        read++;
        expect(Object.hasOwn(MESSAGE_TYPES, envelope.messageType) || envelope.messageType === 'soapFault', `${name} round ${round} (${what})`).toBe(true);
      }
    }
    // Both sides are reached: much damage (in text, in unchecked attributes) leaves an envelope that still reads.
    expect(read).toBeGreaterThan(50);
  });

  // The container as built (flat), and nested in an outer container that also refers to an attachment of its own.
  for (const shape of ['flat', 'nested'] as const) {
    it(`the content layer (${shape}): damaged decrypted ContentContainers give a content error, and both openers agree`, () => {
      // What an authenticated sender controls: the plaintext of the ContentContainer it encrypts for the reader.
      const bob = demoKey('bob_cipher_4096');
      const author = { role: 'SignatureCertificateOriginator' as const, certificate: demoKey('alice_signature_4096').certificate };
      const built = buildContainer(
        {
          author: { identity: demoKey('alice_signature_4096'), certificateId: certificateId(author) },
          contents: [
            { kind: 'xml', xml: '<antrag xmlns="urn:example:antrag"><name>Grüße &amp; Co</name><![CDATA[<roh>]]></antrag>' },
            { kind: 'base64', data: Buffer.from('{"antrag":true}') },
            { kind: 'attachment', refId: 'anlage.bin', data: randomBytes(2048) },
          ],
        },
        new IdSequence(),
        DEFAULT_BUILD_CONTEXT,
      );
      const outerPart = { contentId: 'outer.bin', contentType: 'application/octet-stream', body: randomBytes(1500) };
      const plaintext =
        shape === 'flat'
          ? built.xml
          : `<osci:ContentContainer ${NS_DECLS} Id="outer"><osci:Content Id="nest">${built.xml}</osci:Content><osci:Content href="cid:outer.bin"></osci:Content></osci:ContentContainer>`;
      const message = (container: Buffer) =>
        handMadeAcceptDelivery({
          messageId: 'fuzz-content',
          contentPackage: encryptedForAddressee(container, { id: 'encdata_fuzz' }),
          attachments: shape === 'flat' ? built.attachments : [...built.attachments, outerPart],
          nonIntermediaryCertificates: [author],
        });
      const options: OpenOptions = { keys: [bob], now: new Date('2026-06-01T00:00:00Z'), retainAttachments: false };
      // The untouched container opens.
      expect(observe(() => openMessage(message(Buffer.from(plaintext)), options))).toMatchObject({
        messageId: 'fuzz-content',
        signatures: [
          { scope: 'order', valid: true },
          { scope: 'content', valid: true },
        ],
        content: { containers: expect.any(String) },
      });
      const next = random(fuzzSeed(shape === 'flat' ? 0xc0de : 0xc0df));
      const outcomes = new Set<string>();
      for (let round = 0; round < fuzzRounds(100); round++) {
        const { bytes, what } = round % 2 === 0 ? mutate(Buffer.from(plaintext), next) : mutateStructure(Buffer.from(plaintext), next);
        const raw = message(bytes);
        const sunk = new Map<string, Buffer[]>();
        const verdict = observe(() =>
          openMessage(raw, { ...options, onAttachmentData: (refId, chunk) => sunk.set(refId, [...(sunk.get(refId) ?? []), Buffer.from(chunk)]) }),
        ) as {
          error?: unknown;
          messageId?: string;
          content: { error?: { reason: string }; attachments?: Array<{ refId: string; size: number; sha256: string }> };
        };
        // The transport and the order are intact: the message opens, only its content layer may fail.
        expect(verdict.error, `round ${round} (${what})`).toBeUndefined();
        expect(verdict.messageId).toBe('fuzz-content');
        if (verdict.content.error) expect(KNOWN_REASONS.has(verdict.content.error.reason), `round ${round} (${what})`).toBe(true);
        outcomes.add(verdict.content.error?.reason ?? 'opened');
        const slice = 1 + Math.floor(next() * 8192);
        const streamedSunk = new Map<string, Buffer[]>();
        expect(observe(streamed(raw, slice, options, streamedSunk).opened), `round ${round} (${what}), slices of ${slice}`).toEqual(verdict);
        // Where the content opened, each opener handed every attachment's plaintext to the sink exactly once.
        // (By refId: the streaming opener hands attachments on in the order they arrive, the report lists them in the
        // order the content layer reads them.)
        const byRefId = (a: { refId: string }, b: { refId: string }) => a.refId.localeCompare(b.refId);
        const sinkDigests = (m: Map<string, Buffer[]>) =>
          [...m].map(([refId, chunks]) => ({ refId, sha256: createHash('sha256').update(Buffer.concat(chunks)).digest('hex') })).sort(byRefId);
        const reported = verdict.content.attachments
          ?.filter((a) => a.size > 0)
          .map((a) => ({ refId: a.refId, sha256: a.sha256 }))
          .sort(byRefId);
        if (!verdict.content.error) {
          expect(sinkDigests(sunk), `round ${round} (${what})`).toEqual(reported);
          expect(sinkDigests(streamedSunk), `round ${round} (${what}), slices of ${slice}`).toEqual(reported);
        }
      }
      expect(outcomes.size, [...outcomes].join(', ')).toBeGreaterThan(1);
    });
  }

  it('signed envelopes with a damaged structure (elements removed, doubled, emptied, renamed) are refused, and both openers agree', () => {
    // What signature wrapping plays with: the reference library's signed order, reshaped while staying well-formed.
    const c = vector('c-accept-no-transport-enc');
    const raw = vectorFile(c, 'request.bin');
    const envelope = findPart(parseMimeEntity(raw, DEFAULT_LIMITS), 'osci@message')!.body;
    const at = raw.indexOf(envelope);
    const options: OpenOptions = {
      keys: recipientKeys(c),
      trust: demoTrust(),
      allowUnencrypted: true,
      now: new Date('2026-06-01T00:00:00Z'),
      retainAttachments: false,
    };
    const next = random(fuzzSeed(0x5a1d));
    const refusals = new Set<string>();
    for (let round = 0; round < fuzzRounds(120); round++) {
      const { bytes, what } = mutateStructure(envelope, next);
      const damaged = Buffer.concat([raw.subarray(0, at), bytes, raw.subarray(at + envelope.length)]);
      const verdict = observe(() => openMessage(damaged, options));
      const error = (verdict as { error?: { name: string; reason: string } }).error;
      if (error) {
        expectOsciRefusal(error, `round ${round} (${what})`);
        refusals.add(error.reason);
      }
      const slice = 1 + Math.floor(next() * 8192);
      expect(observe(streamed(damaged, slice, options).opened), `round ${round} (${what}), slices of ${slice}`).toEqual(verdict);
    }
    expect(refusals.size, [...refusals].join(', ')).toBeGreaterThan(2);
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
      const next = random(fuzzSeed(name.length * 7919));
      for (let round = 0; round < fuzzRounds(150); round++) {
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
