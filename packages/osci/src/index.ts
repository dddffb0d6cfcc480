/**
 * @efa-gateway/osci — OSCI-Transport 1.2 for Node.js.
 * Open (decrypt, verify) what an intermediary sends and build what a passive recipient or postbox client answers.
 */
export { OsciError, OSCI_ERROR_REASONS, isOsciError, type OsciErrorReason, type OsciLayer } from './lib/errors.js';
export { FEEDBACK_CODES, feedbackInfo, isFeedbackCode, type FeedbackCode, type FeedbackCodeInfo } from './lib/feedback-codes.js';
export { DEFAULT_LIMITS, resolveLimits, type OsciLimits } from './lib/limits.js';
export { NS } from './lib/namespaces.js';

export { parseMimeEntity, findPart, type MimeEntity, type MimePart } from './mime/parse.js';
export { buildMimeEntity, buildMimeEntityChunks, newBoundary, type MimePartInput } from './mime/build.js';

export { loadPkcs12, loadCertificate, identityFromPem, sha256Hex, type KeyIdentity } from './pki/keystore.js';
export { TrustStore, formatName, type CertificateCheck } from './pki/trust.js';
export { createDemoPki, toPkcs12, type DemoPki } from './pki/demo-pki.js';

export { openMessage, envelopeOf, type OpenOptions, type OpenedMessage, type SignatureReport, type ContentOutcome } from './open-message.js';
export { openTransport, type TransportInfo } from './transport/open-transport.js';
export type { OpenedContainer, OpenedContent, OpenedAttachment, OpenedContentLayer } from './content/open-content.js';
export { parseEnvelope, type OsciEnvelope, type CustomHeader, type FeedbackEntry, type CertificateEntry, type ControlBlock } from './soap/envelope.js';
export { MESSAGE_TYPES, CONTENT_ORDERS, type MessageType, type OrderType } from './soap/message-types.js';
export type { ProcessCardBundle, Inspection, OsciTimestamp } from './soap/process-card.js';
export { checkResponseControlBlock } from './soap/control-block.js';
export { inspectMessage, inspectMessageFile, type InspectionResult } from './inspect.js';

export {
  buildResponseToAcceptDelivery,
  buildResponseToAcceptDeliveryAsync,
  buildResponseToProcessDelivery,
  buildResponseToProcessDeliveryAsync,
  buildSoapFault,
  type RecipientIdentity,
  type ResponseOptions,
  type ProcessResponseOptions,
} from './build/responses.js';
export {
  buildInitDialog,
  buildExitDialog,
  buildFetchProcessCard,
  buildFetchDelivery,
  buildStoreDelivery,
  buildAcceptDelivery,
  buildProcessDelivery,
  type ClientIdentity,
  type DialogState,
  type BuiltOrder,
  type SelectionRule,
  type IntermediaryDeliveryOptions,
} from './build/orders.js';
export type { ComposedMessage, CustomHeaderInput } from './build/compose.js';
export type { ContainerInput, ContentInput } from './build/content.js';
export { DEFAULT_BUILD_CONTEXT, deterministicContext, type BuildContext } from './build/context.js';
export { RSA_SHA256, RSA_PSS_SHA256 } from './xmldsig/algorithms.js';
export { MessageStreamOpener, openMessageFile, type StreamOpenOptions } from './open-stream.js';
export { MimeStreamParser, type MimeStreamHandler } from './mime/stream.js';
