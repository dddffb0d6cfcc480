import type { X509Certificate } from 'node:crypto';
import { OsciError } from '../lib/errors.js';
import { buildMimeEntityChunks, newBoundary, type MimePartInput } from '../mime/build.js';
import { MESSAGE_TYPES, schemaLocationFor, type OrderType } from '../soap/message-types.js';
import { certificatesBlock, type CertificateEntryInput } from './certificates.js';
import type { BuildContext } from './context.js';
import { createSignatureValue, createSignatureValueAsync } from '../xmldsig/algorithms.js';
import { prepareSignature, type PendingSignature, type ReferenceSpec, type SignatureSpec } from './signer.js';
import { encryptTransport, XML_DECLARATION } from './transport.js';
import { element, headerBlock, NS_DECLS, textElement } from './xml-writer.js';

export interface ControlBlockInput {
  readonly conversationId?: string;
  readonly sequenceNumber?: number;
  readonly response?: string;
  readonly challenge?: string;
}

/** A SOAP header from another namespace (e.g. XTA MessageMetaData). Give it an `Id` so that it can be signed. */
export interface CustomHeaderInput {
  readonly xml: string;
  readonly id: string;
}

export interface ComposeInput {
  readonly type: OrderType;
  readonly controlBlock: ControlBlockInput;
  readonly signature?: SignatureSpec & { readonly block: 'ClientSignature' | 'SupplierSignature' };
  readonly desiredLanguages?: readonly string[];
  readonly qualityOfTimestamp?: ReadonlyArray<{ readonly service: 'creation' | 'reception'; readonly quality: 'plain' | 'cryptographic' }>;
  /** Inner XML of the order element (`osci:storeDelivery`, `osci:responseToAcceptDelivery`, …). */
  readonly orderInner: string;
  readonly intermediaryCertificates?: readonly CertificateEntryInput[];
  readonly nonIntermediaryCertificates?: readonly CertificateEntryInput[];
  readonly featureDescription?: boolean;
  readonly customHeaders?: readonly CustomHeaderInput[];
  /** Inner XML of `osci:ContentPackage` (EncryptedData/ContentContainer), for content orders. */
  readonly contentPackage?: string;
  readonly attachments?: readonly MimePartInput[];
  /** Transport-encrypt for this certificate; omit only for unencrypted test/intranet peers. */
  readonly transportRecipient?: X509Certificate;
}

export interface ComposedMessage {
  /** The exact HTTP body, in chunks (concatenate or stream them). */
  readonly chunks: readonly Buffer[];
  /** The inner MIME entity (transport plaintext). */
  readonly inner: readonly Buffer[];
  /** The order envelope XML. */
  readonly envelopeXml: string;
}

/** Features this implementation announces (signed osci2017:FeatureDescription, as current OSCI peers send it). */
const FEATURES: ReadonlyArray<[string, string]> = [
  ['DisableBase64', '1.2.0'],
  ['OAEPEncryption', '1.6.0'],
  ['GCMPaddingModus', '1.7.0'],
  ['Support96Bit12ByteIV', '1.9.0'],
];

/**
 * Composes a complete OSCI message: header blocks in schema order, signature over every header block, the Body
 * and every attachment part (digest over the transmitted bytes), inner MIME entity, transport encryption.
 */
export function composeMessage(input: ComposeInput, ctx: BuildContext): ComposedMessage {
  const pending = prepareComposition(input, ctx);
  const signature = pending.signature;
  return pending.complete(signature && createSignatureValue(signature.algorithm, signature.key, signature.signedInfo));
}

/**
 * `composeMessage` with the signature's private-key operation on libuv's thread pool: everything before it happens
 * in this call, the rest when it is done. The output is the same.
 */
export async function composeMessageAsync(input: ComposeInput, ctx: BuildContext): Promise<ComposedMessage> {
  const pending = prepareComposition(input, ctx);
  const signature = pending.signature;
  return pending.complete(signature && (await createSignatureValueAsync(signature.algorithm, signature.key, signature.signedInfo)));
}

interface PendingComposition {
  /** The order signature still to compute, if the message is signed. */
  readonly signature: Omit<PendingSignature, 'complete'> | undefined;
  /** The message, given the signature value (when there is a signature). */
  complete(signatureValue: Buffer | undefined): ComposedMessage;
}

function prepareComposition(input: ComposeInput, ctx: BuildContext): PendingComposition {
  const type = input.type;
  const headers: string[] = [];
  const refs: ReferenceSpec[] = [];
  const cb = input.controlBlock;
  let cbInner = '';
  if (cb.response !== undefined) cbInner += textElement('osci:Response', cb.response);
  if (cb.challenge !== undefined) cbInner += textElement('osci:Challenge', cb.challenge);
  headers.push(
    headerBlock(
      'ControlBlock',
      'controlblock',
      [
        ['ConversationId', cb.conversationId],
        ['SequenceNumber', cb.sequenceNumber],
      ],
      cbInner,
    ),
  );
  refs.push({ kind: 'c14n', id: 'controlblock' });

  const SIGNATURE_PLACEHOLDER = input.signature ? element(`osci:${input.signature.block}`, [['Id', input.signature.block.toLowerCase()]]) : '';
  if (input.signature) headers.push(SIGNATURE_PLACEHOLDER);
  if (input.desiredLanguages) {
    headers.push(headerBlock('DesiredLanguages', 'desiredlanguages', [['LanguagesList', input.desiredLanguages.join(' ')]], ''));
    refs.push({ kind: 'c14n', id: 'desiredlanguages' });
  }
  for (const q of input.qualityOfTimestamp ?? []) {
    const id = `qualityoftimestamp_${q.service}`;
    headers.push(
      headerBlock(
        'QualityOfTimestamp',
        id,
        [
          ['Quality', q.quality],
          ['Service', q.service],
        ],
        '',
      ),
    );
    refs.push({ kind: 'c14n', id });
  }
  const orderId = type.toLowerCase();
  const orderInHeader = MESSAGE_TYPES[type].place === 'header';
  if (orderInHeader) {
    headers.push(headerBlock(type, orderId, [], input.orderInner));
    refs.push({ kind: 'c14n', id: orderId });
  }
  if (input.intermediaryCertificates?.length) {
    headers.push(certificatesBlock('IntermediaryCertificates', input.intermediaryCertificates));
    refs.push({ kind: 'c14n', id: 'intermediarycertificates' });
  }
  if (input.nonIntermediaryCertificates?.length) {
    headers.push(certificatesBlock('NonIntermediaryCertificates', input.nonIntermediaryCertificates));
    refs.push({ kind: 'c14n', id: 'nonintermediarycertificates' });
  }
  if (input.featureDescription) {
    const features = FEATURES.map(([k, v]) =>
      element('osci2017:Feature', [
        ['Key', k],
        ['Version', v],
      ]),
    ).join('');
    headers.push(
      element(
        'osci2017:FeatureDescription',
        [['Id', 'featuredescription']],
        `<osci2017:SupportedFeatures>${features}</osci2017:SupportedFeatures>`,
        `${NS_DECLS} xmlns:osci2017="http://xoev.de/transport/osci12/7"`,
      ),
    );
    refs.push({ kind: 'c14n', id: 'featuredescription' });
  }
  for (const h of input.customHeaders ?? []) {
    headers.push(h.xml);
    refs.push({ kind: 'c14n', id: h.id });
  }

  let bodyInner = orderInHeader ? '' : element(`osci:${type}`, [], input.orderInner);
  if (input.contentPackage !== undefined) bodyInner += element('osci:ContentPackage', [], input.contentPackage);
  const body = element('soap:Body', [['Id', 'body']], bodyInner, NS_DECLS);
  refs.push({ kind: 'c14n', id: 'body' });
  for (const a of input.attachments ?? []) refs.push({ kind: 'cid', contentId: a.contentId, bytes: a.body });

  const unsigned = element(
    'soap:Envelope',
    [['xsi:schemaLocation', schemaLocationFor(type)]],
    `<soap:Header>${headers.join('')}</soap:Header>${body}`,
    NS_DECLS,
  );
  const block = input.signature?.block;
  const signature =
    input.signature &&
    prepareSignature(
      unsigned,
      SIGNATURE_PLACEHOLDER,
      (sig) =>
        element(
          `osci:${block}`,
          [
            ['Id', block!.toLowerCase()],
            ['soap:actor', 'http://schemas.xmlsoap.org/soap/actor/next'],
            ['soap:mustUnderstand', '1'],
          ],
          sig,
        ),
      refs,
      input.signature,
    );
  return {
    signature,
    complete: (value) => {
      if (signature && !value) throw new OsciError('INTERNAL', 'the signature value is missing');
      return frame(input, ctx, signature ? signature.complete(value!) : unsigned);
    },
  };
}

/** The envelope, then the inner MIME entity with the attachments, then the transport encryption. */
function frame(input: ComposeInput, ctx: BuildContext, envelopeXml: string): ComposedMessage {
  const envelopeBytes = Buffer.from(XML_DECLARATION + envelopeXml + '\r\n', 'utf8');
  const inner = buildMimeEntityChunks(newBoundary(ctx.random), [
    { contentId: 'osci@message', contentType: 'text/xml; charset=UTF-8', transferEncoding: '8bit', body: envelopeBytes },
    ...(input.attachments ?? []),
  ]);
  const chunks = input.transportRecipient ? encryptTransport(inner, input.transportRecipient, ctx) : inner;
  return { chunks, inner, envelopeXml };
}

export function assertBuild(condition: unknown, message: string): asserts condition {
  if (!condition) throw new OsciError('BUILD_INVALID_INPUT', message);
}
