import type { X509Certificate } from 'node:crypto';
import { OsciError } from '../lib/errors.js';
import type { KeyIdentity } from '../pki/keystore.js';
import { certificateId, type CertificateEntryInput } from './certificates.js';
import { composeMessage, type ComposedMessage, type ComposeInput, type CustomHeaderInput } from './compose.js';
import { buildContainer, IdSequence, type ContainerInput } from './content.js';
import { DEFAULT_BUILD_CONTEXT, osciDateTime, type BuildContext } from './context.js';
import { element, textElement } from './xml-writer.js';

/** The sender of an order: its cipher certificate (answers are encrypted for it) and optional signature key. */
export interface ClientIdentity {
  readonly cipherCertificate: X509Certificate;
  /** Orders are signed when given (recommended; intermediaries may require it). */
  readonly signature?: KeyIdentity;
  readonly signatureAlgorithm?: string;
}

/** State of an explicit dialog after the previous response. */
export interface DialogState {
  readonly conversationId: string;
  /** SequenceNumber of this request: one more than the last one sent in this dialog (the first order after InitDialog carries 1). */
  readonly sequenceNumber: number;
  /** The Challenge of the previous supplier response, echoed as Response. */
  readonly supplierChallenge: string;
}

export interface BuiltOrder {
  readonly message: ComposedMessage;
  /** Our fresh Challenge; the supplier must echo it as Response (check with `checkResponseControlBlock`). */
  readonly challenge: string;
}

interface CommonOrderOptions {
  readonly client: ClientIdentity;
  /** The intermediary's cipher certificate (transport encryption target). */
  readonly intermediaryCipher: X509Certificate;
  readonly customHeaders?: readonly CustomHeaderInput[];
  readonly context?: BuildContext;
}

function newChallenge(ctx: BuildContext): string {
  return ctx.random(10).toString('base64');
}

function clientCertificates(client: ClientIdentity, withCipher: boolean): CertificateEntryInput[] {
  const certs: CertificateEntryInput[] = [];
  if (withCipher) certs.push({ role: 'CipherCertificateOriginator', certificate: client.cipherCertificate });
  if (client.signature) certs.push({ role: 'SignatureCertificateOriginator', certificate: client.signature.certificate });
  return certs;
}

function clientSignature(client: ClientIdentity): ComposeInput['signature'] {
  if (!client.signature) return undefined;
  return {
    block: 'ClientSignature',
    identity: client.signature,
    certificateId: certificateId({ role: 'SignatureCertificateOriginator', certificate: client.signature.certificate }),
    ...(client.signatureAlgorithm ? { algorithm: client.signatureAlgorithm } : {}),
  };
}

function compose(input: Omit<ComposeInput, 'signature' | 'transportRecipient' | 'desiredLanguages'>, options: CommonOrderOptions): ComposedMessage {
  const signature = clientSignature(options.client);
  return composeMessage(
    {
      ...input,
      ...(signature ? { signature } : {}),
      desiredLanguages: ['de'],
      featureDescription: true,
      ...(options.customHeaders ? { customHeaders: options.customHeaders } : {}),
      transportRecipient: options.intermediaryCipher,
    },
    options.context ?? DEFAULT_BUILD_CONTEXT,
  );
}

/** Dialoginitialisierungsauftrag: opens an explicit dialog (Challenge only). */
export function buildInitDialog(options: CommonOrderOptions): BuiltOrder {
  const challenge = newChallenge(options.context ?? DEFAULT_BUILD_CONTEXT);
  const message = compose({ type: 'initDialog', controlBlock: { challenge }, orderInner: '', nonIntermediaryCertificates: clientCertificates(options.client, true) }, options);
  return { message, challenge };
}

function dialogControlBlock(dialog: DialogState, ctx: BuildContext) {
  return { conversationId: dialog.conversationId, sequenceNumber: dialog.sequenceNumber, response: dialog.supplierChallenge, challenge: newChallenge(ctx) };
}

/** Dialogendeauftrag: closes an explicit dialog. */
export function buildExitDialog(options: CommonOrderOptions & { readonly dialog: DialogState }): BuiltOrder {
  const controlBlock = dialogControlBlock(options.dialog, options.context ?? DEFAULT_BUILD_CONTEXT);
  const message = compose({ type: 'exitDialog', controlBlock, orderInner: '', nonIntermediaryCertificates: clientCertificates(options.client, false) }, options);
  return { message, challenge: controlBlock.challenge };
}

export type SelectionRule =
  | { readonly kind: 'ReceptionOfDelivery' | 'RecentModification'; readonly since: Date }
  | { readonly kind: 'MessageId'; readonly messageIds: readonly string[] };

function selectionRuleXml(rule: SelectionRule | undefined): string {
  if (!rule) return '';
  const inner =
    rule.kind === 'MessageId'
      ? rule.messageIds.map((id) => textElement('osci:MessageId', Buffer.from(id, 'utf8').toString('base64'))).join('')
      : textElement(`osci:${rule.kind}`, osciDateTime(rule.since));
  return element('osci:SelectionRule', [], inner);
}

/** Laufzettelabholauftrag: fetch process cards (Laufzettel) in an explicit dialog. */
export function buildFetchProcessCard(options: CommonOrderOptions & { readonly dialog: DialogState; readonly selection?: SelectionRule; readonly limit?: number }): BuiltOrder {
  if (options.selection?.kind === 'MessageId' && options.selection.messageIds.length === 0) throw new OsciError('BUILD_INVALID_INPUT', 'a MessageId selection needs at least one id');
  const controlBlock = dialogControlBlock(options.dialog, options.context ?? DEFAULT_BUILD_CONTEXT);
  const inner = selectionRuleXml(options.selection) + (options.limit !== undefined ? element('osci:Quantity', [['Limit', options.limit]]) : '');
  const message = compose({ type: 'fetchProcessCard', controlBlock, orderInner: inner, nonIntermediaryCertificates: clientCertificates(options.client, false) }, options);
  return { message, challenge: controlBlock.challenge };
}

/** Zustellungsabholauftrag: fetch one delivery from the postbox in an explicit dialog. */
export function buildFetchDelivery(options: CommonOrderOptions & { readonly dialog: DialogState; readonly selection?: SelectionRule }): BuiltOrder {
  if (options.selection?.kind === 'RecentModification') throw new OsciError('BUILD_INVALID_INPUT', 'fetchDelivery selects by ReceptionOfDelivery or MessageId');
  const controlBlock = dialogControlBlock(options.dialog, options.context ?? DEFAULT_BUILD_CONTEXT);
  const message = compose({ type: 'fetchDelivery', controlBlock, orderInner: selectionRuleXml(options.selection), nonIntermediaryCertificates: clientCertificates(options.client, false) }, options);
  return { message, challenge: controlBlock.challenge };
}

export interface StoreDeliveryOptions extends CommonOrderOptions {
  /** The addressee's cipher certificate (content is encrypted for it). */
  readonly addresseeCipher: X509Certificate;
  readonly messageId: string;
  readonly subject?: string;
  readonly content: Omit<ContainerInput, 'readers' | 'author'>;
  /** Sign the content as author with the client's signature key. @defaultValue true when the client has one */
  readonly signContent?: boolean;
  /** Explicit dialog; without it the order is sent in an implicit dialog (SequenceNumber 0, Challenge only). */
  readonly dialog?: DialogState;
}

/** Zustellungsauftrag: store a delivery in the addressee's postbox, content end-to-end encrypted for the addressee. */
export function buildStoreDelivery(options: StoreDeliveryOptions): BuiltOrder {
  const ctx = options.context ?? DEFAULT_BUILD_CONTEXT;
  const controlBlock = options.dialog ? dialogControlBlock(options.dialog, ctx) : { sequenceNumber: 0, challenge: newChallenge(ctx) };
  const certs = clientCertificates(options.client, true);
  const built = contentFor(options.client, options.addresseeCipher, options.content, options.signContent, certs, ctx);
  const orderInner = textElement('osci:MessageId', Buffer.from(options.messageId, 'utf8').toString('base64')) + (options.subject !== undefined ? textElement('osci:Subject', options.subject) : '');
  const message = compose(
    {
      type: 'storeDelivery',
      controlBlock,
      qualityOfTimestamp: [
        { service: 'creation', quality: 'plain' },
        { service: 'reception', quality: 'plain' },
      ],
      orderInner,
      nonIntermediaryCertificates: certs,
      contentPackage: built.xml,
      attachments: built.attachments,
    },
    options,
  );
  return { message, challenge: controlBlock.challenge };
}

function contentFor(
  author: ClientIdentity,
  addresseeCipher: X509Certificate,
  content: Omit<ContainerInput, 'readers' | 'author'>,
  sign: boolean | undefined,
  certs: CertificateEntryInput[],
  ctx: BuildContext,
) {
  const addressee: CertificateEntryInput = { role: 'CipherCertificateAddressee', certificate: addresseeCipher };
  const reader: CertificateEntryInput = { role: 'CipherCertificateOtherReader', certificate: addresseeCipher, index: 0 };
  certs.push(addressee, reader);
  const signWith = (sign ?? true) ? author.signature : undefined;
  return buildContainer(
    {
      ...content,
      readers: [{ certificate: addresseeCipher, certificateId: certificateId(reader) }],
      ...(signWith
        ? { author: { identity: signWith, certificateId: certificateId({ role: 'SignatureCertificateOriginator', certificate: signWith.certificate }), ...(author.signatureAlgorithm ? { algorithm: author.signatureAlgorithm } : {}) } }
        : {}),
    },
    new IdSequence(),
    ctx,
  );
}

/** What an intermediary knows when it forwards a delivery to a passive recipient. */
export interface IntermediaryDeliveryOptions {
  /** The intermediary: signs the order, its cipher certificate receives the encrypted answer. */
  readonly intermediary: { readonly signature: KeyIdentity; readonly cipherCertificate: X509Certificate; readonly signatureAlgorithm?: string };
  /** The original sender (author of the content). Its signature key signs the content when given. */
  readonly originator: ClientIdentity;
  readonly addresseeCipher: X509Certificate;
  readonly messageId: string;
  readonly subject?: string;
  readonly content: Omit<ContainerInput, 'readers' | 'author'>;
  readonly customHeaders?: readonly CustomHeaderInput[];
  readonly context?: BuildContext;
}

function processCardBundle(messageId: string, subject: string | undefined, at: Date): string {
  const ts = osciDateTime(at);
  const plain = (name: string) => element(`osci:${name}`, [], textElement('osci:Plain', ts));
  return element(
    'osci:ProcessCardBundle',
    [],
    textElement('osci:MessageId', Buffer.from(messageId, 'utf8').toString('base64')) +
      element('osci:ProcessCard', [['RecentModification', ts]], plain('Creation') + plain('Forwarding') + (subject !== undefined ? textElement('osci:Subject', subject) : '')) +
      element('osci:InspectionReport', []),
  );
}

function intermediaryDelivery(type: 'acceptDelivery' | 'processDelivery', options: IntermediaryDeliveryOptions, extraInner: string): BuiltOrder {
  const ctx = options.context ?? DEFAULT_BUILD_CONTEXT;
  const challenge = newChallenge(ctx);
  const certs = clientCertificates(options.originator, true);
  const built = contentFor(options.originator, options.addresseeCipher, options.content, undefined, certs, ctx);
  const sigEntry: CertificateEntryInput = { role: 'SignatureCertificateIntermediary', certificate: options.intermediary.signature.certificate };
  const message = composeMessage(
    {
      type,
      controlBlock: { challenge },
      signature: {
        block: 'ClientSignature',
        identity: options.intermediary.signature,
        certificateId: certificateId(sigEntry),
        ...(options.intermediary.signatureAlgorithm ? { algorithm: options.intermediary.signatureAlgorithm } : {}),
      },
      desiredLanguages: ['de'],
      orderInner: extraInner + processCardBundle(options.messageId, options.subject, ctx.now()),
      intermediaryCertificates: [{ role: 'CipherCertificateIntermediary', certificate: options.intermediary.cipherCertificate }, sigEntry],
      nonIntermediaryCertificates: certs,
      featureDescription: true,
      ...(options.customHeaders ? { customHeaders: options.customHeaders } : {}),
      contentPackage: built.xml,
      attachments: built.attachments,
      transportRecipient: options.addresseeCipher,
    },
    ctx,
  );
  return { message, challenge };
}

/** Annahmeauftrag as an intermediary sends it to a passive recipient (used by the test sender and integrators). */
export function buildAcceptDelivery(options: IntermediaryDeliveryOptions): BuiltOrder {
  return intermediaryDelivery('acceptDelivery', options, '');
}

/** Bearbeitungsauftrag (request/response) as an intermediary sends it to a passive recipient. */
export function buildProcessDelivery(options: IntermediaryDeliveryOptions & { readonly messageIdResponse?: string }): BuiltOrder {
  const extra = options.messageIdResponse !== undefined ? textElement('osci:MessageIdResponse', Buffer.from(options.messageIdResponse, 'utf8').toString('base64')) : '';
  return intermediaryDelivery('processDelivery', options, extra);
}
