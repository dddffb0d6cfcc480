import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openMessage } from '../src/open-message.js';
import { openTransport } from '../src/transport/open-transport.js';
import { DEFAULT_LIMITS } from '../src/lib/limits.js';
import { formatName } from '../src/pki/trust.js';
import { camelOrder, demoCertificate, demoKey, demoTrust, recipientKeys, vectorFile, vectorIndex, vectorMeta } from './support/vectors.js';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const cases = vectorIndex();
const trust = demoTrust();

describe('reference-implementation vectors: positive cases', () => {
  for (const c of cases.filter((x) => x.kind === 'positive'))
    for (const consumeInput of [false, true]) {
      it(`${c.case} opens with the expected ids, hashes and signature results${consumeInput ? ' (decrypted in place into the consumed input)' : ''}`, () => {
        const meta = vectorMeta(c);
        const legacy = /cbc|1_5/.test(meta.transport_layer.sym_alg ?? '') || /rsa-1_5/.test(meta.content_layer.key_transport ?? '');
        const raw = vectorFile(c, 'request.bin');
        expect(sha256(raw)).toBe(meta.request_sha256);
        const opened = openMessage(raw, {
          keys: recipientKeys(c),
          trust,
          allowLegacyAlgorithms: legacy,
          allowUnencrypted: !meta.transport_layer.encrypted,
          consumeInput,
        });

        expect(opened.messageType).toBe(camelOrder(c.order));
        expect(opened.messageId).toBe(meta.message_id);
        expect(opened.envelope.order.messageIdBase64).toBe(meta.message_id_wire);
        expect(opened.subject).toBe(meta.subject);

        const t = meta.transport_layer;
        expect(opened.transport.encrypted).toBe(t.encrypted);
        if (t.encrypted) {
          expect(opened.transport.algorithm).toBe(t.sym_alg);
          expect(opened.transport.ivLength).toBe(t.iv_length);
          expect(opened.transport.keyTransport).toBe(t.key_transport);
          expect(opened.transport.recipientCertificateSha256).toBe(sha256(demoCertificate(t.recipient_cert.replace(/\.cer$/, '')).raw));
        }

        const order = opened.signatures.find((s) => s.scope === 'order')!;
        expect(order.valid).toBe(meta.signatures.order_signature.expected_valid);
        expect(order.algorithm).toBe(meta.signatures.order_signature.algorithm);
        expect(order.signer).toBe(formatName(demoCertificate(meta.signatures.order_signature.signer.cert.replace(/\.cer$/, '')).subject));
        expect(order.certificate?.trusted).toBe(true);

        expect(opened.content.ok).toBe(true);
        if (!opened.content.ok) return;
        const contentSigs = opened.signatures.filter((s) => s.scope === 'content');
        expect(contentSigs.length).toBeGreaterThan(0);
        for (const s of contentSigs) {
          expect(s.valid).toBe(meta.signatures.content_signature.expected_valid);
          expect(s.algorithm).toBe(meta.signatures.content_signature.algorithm);
          expect(s.signer).toBe(formatName(demoCertificate(meta.signatures.content_signature.cert.replace(/\.cer$/, '')).subject));
        }

        const container = opened.content.layer.containers[0]!;
        expect(container.encryption?.algorithm).toBe(meta.content_layer.sym_alg);
        expect(container.encryption?.ivLength).toBe(meta.content_layer.iv_length);
        const texts = container.contents.filter((x) => x.kind === 'base64').map((x) => x.data!.toString('utf8'));
        expect(texts).toEqual(meta.content_layer.contents_plaintext);

        const expectedAttachments = meta.content_layer.attachments.map(
          (a: { ref_id: string; content_type: string; plaintext_length: number; plaintext_sha256: string }) => ({
            refId: a.ref_id,
            contentType: a.content_type,
            size: a.plaintext_length,
            sha256: a.plaintext_sha256,
          }),
        );
        expect(opened.content.layer.attachments.map(({ refId, contentType, size, sha256 }) => ({ refId, contentType, size, sha256 }))).toEqual(
          expectedAttachments,
        );
        // The data handed out is the plaintext (also when it is a view into the consumed input).
        expect(opened.content.layer.attachments.map((a) => sha256(a.data!))).toEqual(expectedAttachments.map((a: { sha256: string }) => a.sha256));
      });
    }

  for (const c of cases.filter((x) => x.kind === 'positive' && vectorMeta(x).transport_layer.encrypted)) {
    it(`${c.case}: transport plaintext is byte-identical to the library's own copy`, () => {
      const meta = vectorMeta(c);
      const legacy = /cbc/.test(meta.transport_layer.sym_alg);
      const t = openTransport(vectorFile(c, 'request.bin'), {
        keys: recipientKeys(c),
        allowLegacyAlgorithms: legacy,
        allowUnencrypted: false,
        limits: DEFAULT_LIMITS,
      });
      expect(t.innerBytes.equals(vectorFile(c, 'request.transport-plaintext.bin'))).toBe(true);
    });
  }
});

/** Codes a negative case accepts: its leading code and any "NNNN acceptable" alternative. */
function acceptedCodes(expected: string): string[] {
  const codes = new Set<string>();
  const lead = /^(\d{4})/.exec(expected);
  if (lead) codes.add(lead[1]!);
  for (const m of expected.matchAll(/(\d{4}) acceptable/g)) codes.add(m[1]!);
  return [...codes];
}

describe('reference-implementation vectors: negative cases', () => {
  for (const c of cases.filter((x) => x.kind === 'negative')) {
    const meta = vectorMeta(c);
    const expected: string = meta.expected_outcome.expected;
    const codes = acceptedCodes(expected);
    if (codes.length > 0) {
      it(`${c.case} is rejected with ${codes.join(' or ')}`, () => {
        for (const consumeInput of [false, true]) {
          let caught: unknown;
          try {
            openMessage(vectorFile(c, 'request.bin'), { keys: recipientKeys(c), trust, consumeInput });
          } catch (error) {
            caught = error;
          }
          expect(caught, 'the message must be rejected').toBeDefined();
          expect(codes).toContain((caught as { code: string }).code);
        }
      });
    } else {
      it(`${c.case} is accepted at transport level with a content-layer error`, () => {
        expect(expected).toMatch(/accepted at transport level/);
        const opened = openMessage(vectorFile(c, 'request.bin'), { keys: recipientKeys(c), trust });
        expect(opened.signatures.find((s) => s.scope === 'order')?.valid).toBe(true);
        expect(opened.messageId).toBe(meta.message_id);
        expect(opened.content.ok).toBe(false);
        if (!opened.content.ok) {
          expect(opened.content.error.reason).toBe('CONTENT_NO_KEY');
          expect(opened.content.error.layer).toBe('content');
        }
      });
    }
  }
});

describe('reference-implementation answers are readable by our parser', () => {
  for (const c of cases) {
    const meta = vectorMeta(c);
    if (c.kind === 'positive' && meta.response) {
      it(`${c.case}: the library's ${meta.response.intermediary_side_verification.schema.replace(/^soap|\.xsd$/g, '')} opens with the intermediary key`, () => {
        const opened = openMessage(vectorFile(c, 'response.bin'), {
          keys: [demoKey('osci_manager_cipher_4096')],
          trust,
          allowLegacyAlgorithms: true,
          allowUnencrypted: !meta.transport_layer.encrypted,
        });
        expect(opened.envelope.order.feedback.map((f) => f.code)).toEqual(meta.response.intermediary_side_verification.codes);
        expect(opened.orderSignature?.valid).toBe(meta.response.intermediary_side_verification.signature_valid);
      });
    }
    if (c.kind === 'negative' && meta.expected_outcome.library_code && meta.expected_outcome.library_answer_form) {
      it(`${c.case}: the library's own answer carries ${meta.expected_outcome.library_code}`, () => {
        const opened = openMessage(vectorFile(c, 'library-response.bin'), { keys: [demoKey('osci_manager_cipher_4096')], allowUnencrypted: true });
        const codes = opened.envelope.fault ? [opened.envelope.fault.code] : opened.envelope.order.feedback.map((f) => f.code);
        expect(codes).toContain(meta.expected_outcome.library_code);
      });
    }
  }
});

describe('onOrderVerified', () => {
  const byName = (name: string) => vectorIndex().find((c) => c.case === name)!;

  it('is called once with the envelope after the order signature and before the content layer', () => {
    const c = byName('b-accept-delivery');
    const calls: string[] = [];
    const opened = openMessage(vectorFile(c, 'request.bin'), {
      keys: recipientKeys(c),
      trust: demoTrust(),
      onOrderVerified: (envelope) => calls.push(`verified ${envelope.order.messageId}`),
      retainAttachments: false,
      onAttachmentData: () => {
        if (calls.at(-1) !== 'content') calls.push('content');
      },
    });
    expect(opened.content.ok).toBe(true);
    expect(calls).toEqual([`verified ${opened.messageId}`, 'content']);
  });

  it('is called for a message whose content layer then fails (the order itself is fine)', () => {
    const c = byName('d-accept-content-for-other-reader');
    let called = 0;
    const opened = openMessage(vectorFile(c, 'request.bin'), { keys: recipientKeys(c), onOrderVerified: () => called++ });
    expect(opened.content.ok).toBe(false);
    expect(called).toBe(1);
  });

  it('is not called when the order signature fails, and an exception from it fails the opening', () => {
    for (const name of ['d-accept-tampered-signature-value', 'd-accept-tampered-signed-header']) {
      const c = byName(name);
      let called = 0;
      expect(() => openMessage(vectorFile(c, 'request.bin'), { keys: recipientKeys(c), onOrderVerified: () => called++ })).toThrow(
        expect.objectContaining({ code: '9601' }),
      );
      expect(called).toBe(0);
    }
    const c = byName('b-accept-delivery');
    expect(() =>
      openMessage(vectorFile(c, 'request.bin'), {
        keys: recipientKeys(c),
        onOrderVerified: () => {
          throw new Error('caller failed');
        },
      }),
    ).toThrow('caller failed');
  });
});
