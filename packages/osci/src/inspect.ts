import { OsciError } from './lib/errors.js';
import type { OpenedContainer } from './content/open-content.js';
import { openMessage, type OpenOptions, type OpenedMessage } from './open-message.js';
import { openMessageFile, type StreamOpenOptions } from './open-stream.js';

/** JSON shape printed by `osci inspect` (stable field names; operators and conformance scripts read it). */
export interface InspectionResult {
  ok: boolean;
  orderType?: string;
  messageId?: string;
  subject?: string;
  transport?: { encrypted: boolean; algorithm?: string; ivLength?: number; keyTransport?: string; oaepDigest?: string; legacy?: boolean };
  signatures?: Array<{
    scope: string;
    containerId?: string;
    valid: boolean;
    signer?: string;
    algorithm: string;
    trusted?: boolean;
    timeValid?: boolean;
    problems?: readonly string[];
  }>;
  contents?: Array<{ id?: string; kind: string; sha256: string; size: number; container?: string }>;
  attachments?: Array<{ refId: string; contentType: string; encrypted: boolean; size: number; sha256: string }>;
  customHeaders?: Array<{ namespace: string | null; localName: string }>;
  /** Feedback codes of a response, or the `osci:Code` of a SOAP fault. */
  feedback?: string[];
  error?: { code: string; reason: string; layer: string; message: string; textDe: string };
}

/** Opens a message and summarises it without any plaintext content (only hashes and sizes). */
export function inspectMessage(raw: Buffer, options: OpenOptions): InspectionResult {
  let opened: OpenedMessage;
  try {
    opened = openMessage(raw, options);
  } catch (error) {
    return { ok: false, error: describeError(error) };
  }
  return summarise(opened);
}

/** As inspectMessage, for a message in a file: opened while it is read, so its size does not matter. */
export async function inspectMessageFile(path: string, options: StreamOpenOptions): Promise<InspectionResult> {
  let opened: OpenedMessage;
  try {
    opened = await openMessageFile(path, options);
  } catch (error) {
    return { ok: false, error: describeError(error) };
  }
  return summarise(opened);
}

function summarise(opened: OpenedMessage): InspectionResult {
  const result: InspectionResult = {
    ok: opened.content.ok,
    orderType: opened.messageType,
    ...(opened.messageId !== undefined ? { messageId: opened.messageId } : {}),
    ...(opened.subject !== undefined ? { subject: opened.subject } : {}),
    transport: {
      encrypted: opened.transport.encrypted,
      ...(opened.transport.algorithm
        ? { algorithm: opened.transport.algorithm, ivLength: opened.transport.ivLength!, keyTransport: opened.transport.keyTransport! }
        : {}),
      ...(opened.transport.oaepDigest ? { oaepDigest: opened.transport.oaepDigest } : {}),
      ...(opened.transport.legacy ? { legacy: true } : {}),
    },
    signatures: opened.signatures.map((s) => ({
      scope: s.scope,
      ...(s.containerId !== undefined ? { containerId: s.containerId } : {}),
      valid: s.valid,
      ...(s.signer !== undefined ? { signer: s.signer } : {}),
      algorithm: s.algorithm,
      ...(s.certificate ? { trusted: s.certificate.trusted, timeValid: s.certificate.timeValid } : {}),
      ...(s.problems.length > 0 ? { problems: s.problems } : {}),
    })),
    customHeaders: opened.envelope.customHeaders.map((h) => ({ namespace: h.namespace, localName: h.localName })),
  };
  const feedback = opened.envelope.fault ? [opened.envelope.fault.code ?? ''] : opened.envelope.order.feedback.map((f) => f.code);
  if (feedback.length > 0) result.feedback = feedback;
  if (opened.content.ok) {
    result.contents = [...flattenContents(opened.content.layer.containers)];
    result.attachments = opened.content.layer.attachments.map((a) => ({
      refId: a.refId,
      contentType: a.contentType,
      encrypted: a.encrypted,
      size: a.size,
      sha256: a.sha256,
    }));
  } else result.error = describeError(opened.content.error);
  return result;
}

function* flattenContents(containers: readonly OpenedContainer[]): Generator<NonNullable<InspectionResult['contents']>[number]> {
  for (const c of containers) {
    for (const content of c.contents) {
      if (content.container) {
        yield* flattenContents([content.container]);
        continue;
      }
      yield {
        ...(content.id !== undefined ? { id: content.id } : {}),
        kind: content.kind,
        sha256: content.sha256,
        size: content.size,
        ...(c.id ? { container: c.id } : {}),
      };
    }
  }
}

function describeError(error: unknown): NonNullable<InspectionResult['error']> {
  const e = error instanceof OsciError ? error : new OsciError('INTERNAL', (error as Error)?.message ?? String(error), { cause: error });
  return { code: e.code, reason: e.reason, layer: e.layer, message: e.message, textDe: e.germanText };
}
