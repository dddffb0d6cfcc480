import { describe, expect, it } from 'vitest';
import { composeMessage } from '../src/build/compose.js';
import { deterministicContext } from '../src/build/context.js';
import { MESSAGE_TYPES } from '../src/soap/message-types.js';
import { parseEnvelope } from '../src/soap/envelope.js';
import { DEFAULT_LIMITS } from '../src/lib/limits.js';
import { certificateId } from '../src/build/certificates.js';
import { openMessage } from '../src/open-message.js';
import { COMPOSED_CASES, PROCESS_CARD_RESPONSE } from './support/composed-types.js';
import { validateOsci } from './support/osci-xsd.js';
import { demoKey, demoTrust } from './support/vectors.js';

describe('every OSCI message type is recognised by element name', () => {
  for (const [type, input, check] of COMPOSED_CASES) {
    it(`${type}: schema-valid instance parses as ${type}`, async () => {
      const { envelopeXml } = composeMessage({ type, ...input }, deterministicContext(type));
      const result = await validateOsci(envelopeXml, MESSAGE_TYPES[type].schema);
      expect(result.errors).toEqual([]);
      const envelope = parseEnvelope(envelopeXml, DEFAULT_LIMITS);
      expect(envelope.messageType).toBe(type);
      if (type.startsWith('responseTo')) expect(envelope.order.feedback.map((f) => f.code)).toEqual(['0800', '3800']);
      check(envelope);
    });
  }

  it('ignores a misleading xsi:schemaLocation and dispatches on the elements', () => {
    const { envelopeXml } = composeMessage({ type: 'getMessageId', controlBlock: { sequenceNumber: 0, challenge: 'Yw==' }, desiredLanguages: ['de'], orderInner: '' }, deterministicContext('x'));
    const lying = envelopeXml.replace('soapGetMessageId.xsd', 'soapStoreDelivery.xsd');
    const envelope = parseEnvelope(lying, DEFAULT_LIMITS);
    expect(envelope.messageType).toBe('getMessageId');
    expect(envelope.schemaLocationHint).toContain('soapStoreDelivery.xsd');
  });

  it('rejects two order elements and unknown osci header blocks', () => {
    const { envelopeXml } = composeMessage({ type: 'getMessageId', controlBlock: { sequenceNumber: 0, challenge: 'Yw==' }, desiredLanguages: ['de'], orderInner: '' }, deterministicContext('y'));
    expect(() => parseEnvelope(envelopeXml.replace('</soap:Body>', '<osci:exitDialog></osci:exitDialog></soap:Body>'), DEFAULT_LIMITS)).toThrow(expect.objectContaining({ code: '9100' }));
    expect(() => parseEnvelope(envelopeXml.replace('</soap:Header>', '<osci:Bogus></osci:Bogus></soap:Header>'), DEFAULT_LIMITS)).toThrow(expect.objectContaining({ reason: 'ENVELOPE_UNKNOWN_TYPE' }));
  });

  it('responseToFetchProcessCard: every field of its ProcessCardBundles and InspectionReports is read', async () => {
    const { envelopeXml } = composeMessage(PROCESS_CARD_RESPONSE, deterministicContext('process-cards'));
    expect((await validateOsci(envelopeXml, MESSAGE_TYPES.responseToFetchProcessCard.schema)).errors).toEqual([]);
    const { order } = parseEnvelope(envelopeXml, DEFAULT_LIMITS);
    expect(order.processCardBundles).toEqual([
      {
        messageId: 'msg-42',
        messageIdBase64: 'bXNnLTQy',
        recentModification: '2026-03-02T10:15:00+01:00',
        creation: { kind: 'plain', value: '2026-03-02T10:00:00+01:00' },
        forwarding: { kind: 'plain', value: '2026-03-02T10:05:00+01:00' },
        reception: { kind: 'cryptographic', algorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', value: 'TUlJQkFn' },
        subject: 'Gewerbeanmeldung Müller & Söhne',
        inspections: [
          {
            timestamp: { kind: 'plain', value: '2026-03-02T10:00:01+01:00' },
            x509SubjectName: 'CN=Alice Signature,O=Demo',
            x509IssuerName: 'CN=Demo CA',
            x509SerialNumber: '4711',
            certType: 'qualified',
            mathResult: 'ok',
            offlineResult: 'valid',
            onlineResults: [{ type: undefined, result: 'ok' }],
          },
          {
            timestamp: { kind: 'cryptographic', algorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', value: 'AAEC' },
            x509SubjectName: 'CN=Bob Cipher',
            x509IssuerName: 'CN=Demo CA',
            x509SerialNumber: '12',
            certType: 'advanced',
            mathResult: 'corrupted',
            offlineResult: 'invalid',
            onlineResults: [],
          },
        ],
      },
      {
        messageId: 'msg-43',
        messageIdBase64: 'bXNnLTQz',
        recentModification: '2026-03-03T08:00:00Z',
        creation: { kind: 'plain', value: '2026-03-03T08:00:00Z' },
        forwarding: undefined,
        reception: undefined,
        subject: undefined,
        inspections: [],
      },
    ]);
    // The bundles' MessageIds are not the response's own: a response to fetchProcessCard names none.
    expect(order.messageId).toBeUndefined();
  });

  it('a signed message with an RSA-PSS order signature verifies', () => {
    const signer = demoKey('alice_signature_4096');
    const sig = { role: 'SignatureCertificateOriginator' as const, certificate: signer.certificate };
    const { chunks } = composeMessage(
      {
        type: 'getMessageId',
        controlBlock: { sequenceNumber: 0, challenge: 'Yw==' },
        desiredLanguages: ['de'],
        orderInner: '',
        nonIntermediaryCertificates: [sig],
        signature: { block: 'ClientSignature', identity: signer, certificateId: certificateId(sig), algorithm: 'http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1' },
      },
      deterministicContext('pss'),
    );
    const opened = openMessage(Buffer.concat(chunks), { keys: [], trust: demoTrust(), allowUnencrypted: true });
    expect(opened.signatures[0]).toMatchObject({ valid: true, algorithm: 'http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1' });
  });
});
