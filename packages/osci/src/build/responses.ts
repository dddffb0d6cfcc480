import type { X509Certificate } from 'node:crypto';
import { FEEDBACK_CODES, type FeedbackCode } from '../lib/feedback-codes.js';
import { OsciError } from '../lib/errors.js';
import { buildMimeEntity, newBoundary } from '../mime/build.js';
import type { KeyIdentity } from '../pki/keystore.js';
import type { OsciEnvelope } from '../soap/envelope.js';
import { certificateId, type CertificateEntryInput } from './certificates.js';
import { composeMessage, composeMessageAsync, type ComposedMessage, type ComposeInput } from './compose.js';
import { buildContainer, IdSequence, type ContainerInput } from './content.js';
import { DEFAULT_BUILD_CONTEXT, type BuildContext } from './context.js';
import { feedbackXml } from './feedback.js';
import { XML_DECLARATION } from './transport.js';
import { element, textElement } from './xml-writer.js';

/** The passive recipient's identity: signature key (answers are signed) and, optionally, its cipher certificate. */
export interface RecipientIdentity {
  readonly signature: KeyIdentity;
  readonly signatureAlgorithm?: string;
  readonly cipherCertificate?: X509Certificate;
}

export interface ResponseOptions {
  /** The parsed AcceptDelivery/ProcessDelivery being answered. */
  readonly request: OsciEnvelope;
  readonly identity: RecipientIdentity;
  /** Feedback codes; 0800 for a normal acceptance, e.g. 9601 for an invalid order signature. */
  readonly feedback: readonly FeedbackCode[];
  /**
   * Transport-encrypt the answer for this certificate. Defaults to the request's CipherCertificateIntermediary.
   * `null` sends it unencrypted (only for peers that sent unencrypted and cannot decrypt).
   */
  readonly transportRecipient?: X509Certificate | null;
  readonly context?: BuildContext;
}

function transportRecipientFor(options: ResponseOptions): X509Certificate | undefined {
  if (options.transportRecipient === null) return undefined;
  if (options.transportRecipient) return options.transportRecipient;
  const intermed = options.request.certificates.find((c) => c.role === 'CipherCertificateIntermediary');
  if (!intermed) throw new OsciError('BUILD_INVALID_INPUT', 'the request carries no CipherCertificateIntermediary to encrypt the answer for');
  return intermed.certificate;
}

function responseControlBlock(request: OsciEnvelope) {
  const challenge = request.controlBlock?.challenge;
  if (!challenge) throw new OsciError('CONTROLBLOCK_INVALID', 'the request has no Challenge to answer');
  return { response: challenge };
}

/** Annahmeantwort: signed ResponseToAcceptDelivery with Feedback, transport-encrypted for the intermediary. */
export function buildResponseToAcceptDelivery(options: ResponseOptions): ComposedMessage {
  return composeMessage(responseToAcceptDeliveryInput(options), options.context ?? DEFAULT_BUILD_CONTEXT);
}

/**
 * `buildResponseToAcceptDelivery` with the signature's private-key operation on libuv's thread pool (same output):
 * a recipient can sign its answer while it decrypts the content layer of the order.
 */
export function buildResponseToAcceptDeliveryAsync(options: ResponseOptions): Promise<ComposedMessage> {
  return composeMessageAsync(responseToAcceptDeliveryInput(options), options.context ?? DEFAULT_BUILD_CONTEXT);
}

function responseToAcceptDeliveryInput(options: ResponseOptions): ComposeInput {
  const sigCert: CertificateEntryInput = { role: 'SignatureCertificateAddressee', certificate: options.identity.signature.certificate };
  const recipient = transportRecipientFor(options);
  return {
    type: 'responseToAcceptDelivery',
    controlBlock: responseControlBlock(options.request),
    signature: {
      block: 'SupplierSignature',
      identity: options.identity.signature,
      certificateId: certificateId(sigCert),
      ...(options.identity.signatureAlgorithm ? { algorithm: options.identity.signatureAlgorithm } : {}),
    },
    orderInner: feedbackXml(options.feedback),
    nonIntermediaryCertificates: [sigCert],
    ...(recipient ? { transportRecipient: recipient } : {}),
  };
}

export interface ProcessResponseOptions extends ResponseOptions {
  /** MessageId of the answer; defaults to the request's `MessageIdResponse`. */
  readonly messageId?: string;
  readonly subject?: string;
  /** Reply content; encrypted for the request's originator (CipherCertificateOriginator) unless readers are given. */
  readonly content?: ContainerInput;
}

/** Bearbeitungsantwort: signed ResponseToProcessDelivery with Feedback, MessageId and optional reply content. */
export function buildResponseToProcessDelivery(options: ProcessResponseOptions): ComposedMessage {
  const ctx = options.context ?? DEFAULT_BUILD_CONTEXT;
  return composeMessage(responseToProcessDeliveryInput(options, ctx), ctx);
}

/**
 * `buildResponseToProcessDelivery` with the order signature's private-key operation on libuv's thread pool (same
 * output; a reply content's own signature is computed in this call).
 */
export function buildResponseToProcessDeliveryAsync(options: ProcessResponseOptions): Promise<ComposedMessage> {
  const ctx = options.context ?? DEFAULT_BUILD_CONTEXT;
  return composeMessageAsync(responseToProcessDeliveryInput(options, ctx), ctx);
}

function responseToProcessDeliveryInput(options: ProcessResponseOptions, ctx: BuildContext): ComposeInput {
  const request = options.request;
  const sigCert: CertificateEntryInput = { role: 'SignatureCertificateOriginator', certificate: options.identity.signature.certificate };
  const certs: CertificateEntryInput[] = [sigCert];
  if (options.identity.cipherCertificate) certs.push({ role: 'CipherCertificateOriginator', certificate: options.identity.cipherCertificate });
  const messageId = options.messageId ?? request.order.messageIdResponse;
  let orderInner = feedbackXml(options.feedback);
  if (messageId !== undefined) {
    orderInner += textElement('osci:MessageId', Buffer.from(messageId, 'utf8').toString('base64'));
    if (options.subject !== undefined) orderInner += textElement('osci:Subject', options.subject);
  }
  let contentPackage: string | undefined;
  let attachments: ComposeInput['attachments'];
  if (options.content) {
    const ids = new IdSequence();
    let readers = options.content.readers;
    if (readers === undefined) {
      const originatorCipher = request.certificates.find((c) => c.role === 'CipherCertificateOriginator');
      if (!originatorCipher) throw new OsciError('BUILD_INVALID_INPUT', 'the request names no CipherCertificateOriginator to encrypt the reply content for');
      const reader: CertificateEntryInput = { role: 'CipherCertificateAddressee', certificate: originatorCipher.certificate };
      certs.push(reader);
      readers = [{ certificate: originatorCipher.certificate, certificateId: certificateId(reader) }];
    }
    const author = options.content.author ?? { identity: options.identity.signature, certificateId: certificateId(sigCert) };
    const built = buildContainer({ ...options.content, readers, author }, ids, ctx);
    contentPackage = built.xml;
    attachments = built.attachments;
  }
  const recipient = transportRecipientFor(options);
  return {
    type: 'responseToProcessDelivery',
    controlBlock: responseControlBlock(request),
    signature: {
      block: 'SupplierSignature',
      identity: options.identity.signature,
      certificateId: certificateId(sigCert),
      ...(options.identity.signatureAlgorithm ? { algorithm: options.identity.signatureAlgorithm } : {}),
    },
    qualityOfTimestamp: [
      { service: 'creation', quality: 'plain' },
      { service: 'reception', quality: 'plain' },
    ],
    orderInner,
    nonIntermediaryCertificates: certs,
    ...(contentPackage !== undefined ? { contentPackage } : {}),
    ...(attachments ? { attachments } : {}),
    ...(recipient ? { transportRecipient: recipient } : {}),
  };
}

/**
 * A message-level rejection: unsigned, unencrypted SOAP Fault with `detail/osci:Code` (the reference library
 * answers 9100–9503 and 9000 this way). Served with HTTP 200, as reference clients expect.
 */
export function buildSoapFault(
  code: FeedbackCode,
  options: { readonly faultcode?: 'soap:Client' | 'soap:Server'; readonly context?: BuildContext } = {},
): Buffer {
  const ctx = options.context ?? DEFAULT_BUILD_CONTEXT;
  const faultcode = options.faultcode ?? (code === '9000' ? 'soap:Server' : 'soap:Client');
  const xml =
    XML_DECLARATION +
    element(
      'soap:Envelope',
      [],
      `<soap:Body><soap:Fault>${textElement('faultcode', faultcode)}${textElement('faultstring', FEEDBACK_CODES[code].de)}<detail>${textElement('osci:Code', code)}</detail></soap:Fault></soap:Body>`,
      'xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:osci="http://www.osci.de/2002/04/osci"',
    ) +
    '\r\n';
  return buildMimeEntity(newBoundary(ctx.random), [
    { contentId: 'osci@message', contentType: 'text/xml; charset=UTF-8', transferEncoding: '8bit', body: Buffer.from(xml, 'utf8') },
  ]);
}
