import { expect } from 'vitest';
import type { ComposeInput } from '../../src/build/compose.js';
import { feedbackXml } from '../../src/build/feedback.js';
import type { OrderType } from '../../src/soap/message-types.js';
import type { parseEnvelope } from '../../src/soap/envelope.js';

/**
 * Schema-valid, minimal envelopes of the message types the builders do not make, composed by hand (shared by the
 * envelope-type tests and the envelope fuzz test). Each comes with a check of what parsing it must yield.
 */

export const FEEDBACK = feedbackXml(['0800', '3800']);
const mid = '<osci:MessageId>bXNnLTQy</osci:MessageId>'; // "msg-42"
const receiver = '<osci:ContentReceiver URI="https://fachverfahren.example/osci"></osci:ContentReceiver>';
const timestamps: ComposeInput['qualityOfTimestamp'] = [
  { service: 'creation', quality: 'plain' },
  { service: 'reception', quality: 'plain' },
];

/** Message types not covered by the builders, composed by hand in schema-valid minimal form. */
export const COMPOSED_CASES: Array<[OrderType, Omit<ComposeInput, 'type'>, (env: ReturnType<typeof parseEnvelope>) => void]> = [
  ['getMessageId', { controlBlock: { sequenceNumber: 0, challenge: 'Yw==' }, desiredLanguages: ['de'], orderInner: '' }, () => {}],
  ['responseToGetMessageId', { controlBlock: { conversationId: '7', sequenceNumber: 0, response: 'Yw==', challenge: 'ZA==' }, orderInner: FEEDBACK + mid }, (e) => expect(e.order.messageId).toBe('msg-42')],
  ['responseToInitDialog', { controlBlock: { conversationId: '7', response: 'Yw==', challenge: 'ZA==' }, orderInner: FEEDBACK }, (e) => expect(e.controlBlock?.conversationId).toBe('7')],
  ['responseToExitDialog', { controlBlock: { conversationId: '7', sequenceNumber: 2, response: 'Yw==' }, orderInner: FEEDBACK }, () => {}],
  ['responseToFetchProcessCard', { controlBlock: { conversationId: '7', sequenceNumber: 1, response: 'Yw==', challenge: 'ZA==' }, orderInner: FEEDBACK + '<osci:fetchProcessCard><osci:SelectionRule><osci:MessageId>bXNnLTQy</osci:MessageId></osci:SelectionRule></osci:fetchProcessCard>' }, () => {}],
  ['responseToStoreDelivery', { controlBlock: { conversationId: '7', sequenceNumber: 0, response: 'Yw==' }, orderInner: FEEDBACK }, () => {}],
  ['responseToFetchDelivery', { controlBlock: { conversationId: '7', sequenceNumber: 1, response: 'Yw==', challenge: 'ZA==' }, orderInner: FEEDBACK + '<osci:fetchDelivery></osci:fetchDelivery>' }, () => {}],
  [
    'forwardDelivery',
    { controlBlock: { sequenceNumber: 0, challenge: 'Yw==' }, desiredLanguages: ['de'], qualityOfTimestamp: timestamps, orderInner: receiver + mid + '<osci:Subject>Weiterleitung</osci:Subject>', contentPackage: '' },
    (e) => expect(e.order).toMatchObject({ contentReceiver: 'https://fachverfahren.example/osci', messageId: 'msg-42', subject: 'Weiterleitung' }),
  ],
  ['responseToForwardDelivery', { controlBlock: { sequenceNumber: 0, response: 'Yw==' }, orderInner: FEEDBACK }, () => {}],
  ['mediateDelivery', { controlBlock: { conversationId: '7', sequenceNumber: 1, response: 'Yw==', challenge: 'ZA==' }, desiredLanguages: ['de'], orderInner: receiver, contentPackage: '' }, (e) => expect(e.order.contentReceiver).toBe('https://fachverfahren.example/osci')],
  ['responseToMediateDelivery', { controlBlock: { conversationId: '7', sequenceNumber: 1, response: 'Yw==', challenge: 'ZA==' }, orderInner: FEEDBACK }, () => {}],
];

/**
 * ProcessCardBundles as an intermediary reports them: one delivery forwarded and received with two certificate
 * inspections (plain and cryptographic timestamps, every result element), one only created and not inspected.
 */
const cryptographic = (value: string) => `<osci:Cryptographic Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256">${value}</osci:Cryptographic>`;
const inspection = (inner: string) => `<osci:Inspection>${inner}</osci:Inspection>`;
export const PROCESS_CARD_BUNDLES =
  // A delivery the intermediary forwarded and that was received, with two certificate inspections.
  '<osci:ProcessCardBundle><osci:MessageId>bXNnLTQy</osci:MessageId>' +
  '<osci:ProcessCard RecentModification="2026-03-02T10:15:00+01:00">' +
  '<osci:Creation><osci:Plain>2026-03-02T10:00:00+01:00</osci:Plain></osci:Creation>' +
  '<osci:Forwarding><osci:Plain>2026-03-02T10:05:00+01:00</osci:Plain></osci:Forwarding>' +
  `<osci:Reception>${cryptographic('TUlJ\n QkFn')}</osci:Reception>` +
  '<osci:Subject>Gewerbeanmeldung Müller &amp; Söhne</osci:Subject></osci:ProcessCard>' +
  '<osci:InspectionReport>' +
  inspection(
    '<osci:Timestamp><osci:Plain>2026-03-02T10:00:01+01:00</osci:Plain></osci:Timestamp>' +
      '<osci:X509SubjectName>CN=Alice Signature,O=Demo</osci:X509SubjectName><osci:X509IssuerName>CN=Demo CA</osci:X509IssuerName>' +
      '<osci:X509SerialNumber>4711</osci:X509SerialNumber><osci:CertType Type="qualified"></osci:CertType>' +
      '<osci:MathResult Result="ok"></osci:MathResult><osci:OfflineResult Result="valid"></osci:OfflineResult>' +
      '<osci:OnlineResult Result="ok"><osci:CRL>2026-03-02T09:00:00Z</osci:CRL></osci:OnlineResult>',
  ) +
  inspection(
    `<osci:Timestamp>${cryptographic('AAEC')}</osci:Timestamp>` +
      '<osci:X509SubjectName>CN=Bob Cipher</osci:X509SubjectName><osci:X509IssuerName>CN=Demo CA</osci:X509IssuerName>' +
      '<osci:X509SerialNumber>12</osci:X509SerialNumber><osci:CertType Type="advanced"></osci:CertType>' +
      '<osci:MathResult Result="corrupted"></osci:MathResult><osci:OfflineResult Result="invalid"></osci:OfflineResult>',
  ) +
  '</osci:InspectionReport></osci:ProcessCardBundle>' +
  // One that was only created: no forwarding, no reception, nothing inspected.
  '<osci:ProcessCardBundle><osci:MessageId>bXNnLTQz</osci:MessageId>' +
  '<osci:ProcessCard RecentModification="2026-03-03T08:00:00Z"><osci:Creation><osci:Plain>2026-03-03T08:00:00Z</osci:Plain></osci:Creation></osci:ProcessCard>' +
  '<osci:InspectionReport></osci:InspectionReport></osci:ProcessCardBundle>';

/** A responseToFetchProcessCard carrying {@link PROCESS_CARD_BUNDLES}. */
export const PROCESS_CARD_RESPONSE: ComposeInput = {
  type: 'responseToFetchProcessCard',
  controlBlock: { conversationId: '7', sequenceNumber: 1, response: 'Yw==', challenge: 'ZA==' },
  orderInner:
    FEEDBACK +
    '<osci:fetchProcessCard><osci:SelectionRule><osci:ReceptionOfDelivery>2026-03-01T00:00:00Z</osci:ReceptionOfDelivery></osci:SelectionRule></osci:fetchProcessCard>' +
    PROCESS_CARD_BUNDLES,
};
