import { describe, expect, it } from 'vitest';
import { composeMessage, type ComposeInput } from '../src/build/compose.js';
import { deterministicContext } from '../src/build/context.js';
import { feedbackXml } from '../src/build/feedback.js';
import { MESSAGE_TYPES, type OrderType } from '../src/soap/message-types.js';
import { parseEnvelope } from '../src/soap/envelope.js';
import { DEFAULT_LIMITS } from '../src/lib/limits.js';
import { certificateId } from '../src/build/certificates.js';
import { openMessage } from '../src/open-message.js';
import { validateOsci } from './support/osci-xsd.js';
import { demoKey, demoTrust } from './support/vectors.js';

const fb = feedbackXml(['0800', '3800']);
const mid = '<osci:MessageId>bXNnLTQy</osci:MessageId>'; // "msg-42"
const receiver = '<osci:ContentReceiver URI="https://fachverfahren.example/osci"></osci:ContentReceiver>';
const timestamps: ComposeInput['qualityOfTimestamp'] = [
  { service: 'creation', quality: 'plain' },
  { service: 'reception', quality: 'plain' },
];

/** Message types not covered by the builders, composed by hand in schema-valid minimal form. */
const cases: Array<[OrderType, Omit<ComposeInput, 'type'>, (env: ReturnType<typeof parseEnvelope>) => void]> = [
  ['getMessageId', { controlBlock: { sequenceNumber: 0, challenge: 'Yw==' }, desiredLanguages: ['de'], orderInner: '' }, () => {}],
  ['responseToGetMessageId', { controlBlock: { conversationId: '7', sequenceNumber: 0, response: 'Yw==', challenge: 'ZA==' }, orderInner: fb + mid }, (e) => expect(e.order.messageId).toBe('msg-42')],
  ['responseToInitDialog', { controlBlock: { conversationId: '7', response: 'Yw==', challenge: 'ZA==' }, orderInner: fb }, (e) => expect(e.controlBlock?.conversationId).toBe('7')],
  ['responseToExitDialog', { controlBlock: { conversationId: '7', sequenceNumber: 2, response: 'Yw==' }, orderInner: fb }, () => {}],
  ['responseToFetchProcessCard', { controlBlock: { conversationId: '7', sequenceNumber: 1, response: 'Yw==', challenge: 'ZA==' }, orderInner: fb + '<osci:fetchProcessCard><osci:SelectionRule><osci:MessageId>bXNnLTQy</osci:MessageId></osci:SelectionRule></osci:fetchProcessCard>' }, () => {}],
  ['responseToStoreDelivery', { controlBlock: { conversationId: '7', sequenceNumber: 0, response: 'Yw==' }, orderInner: fb }, () => {}],
  ['responseToFetchDelivery', { controlBlock: { conversationId: '7', sequenceNumber: 1, response: 'Yw==', challenge: 'ZA==' }, orderInner: fb + '<osci:fetchDelivery></osci:fetchDelivery>' }, () => {}],
  [
    'forwardDelivery',
    { controlBlock: { sequenceNumber: 0, challenge: 'Yw==' }, desiredLanguages: ['de'], qualityOfTimestamp: timestamps, orderInner: receiver + mid + '<osci:Subject>Weiterleitung</osci:Subject>', contentPackage: '' },
    (e) => expect(e.order).toMatchObject({ contentReceiver: 'https://fachverfahren.example/osci', messageId: 'msg-42', subject: 'Weiterleitung' }),
  ],
  ['responseToForwardDelivery', { controlBlock: { sequenceNumber: 0, response: 'Yw==' }, orderInner: fb }, () => {}],
  ['mediateDelivery', { controlBlock: { conversationId: '7', sequenceNumber: 1, response: 'Yw==', challenge: 'ZA==' }, desiredLanguages: ['de'], orderInner: receiver, contentPackage: '' }, (e) => expect(e.order.contentReceiver).toBe('https://fachverfahren.example/osci')],
  ['responseToMediateDelivery', { controlBlock: { conversationId: '7', sequenceNumber: 1, response: 'Yw==', challenge: 'ZA==' }, orderInner: fb }, () => {}],
];

describe('every OSCI message type is recognised by element name', () => {
  for (const [type, input, check] of cases) {
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
