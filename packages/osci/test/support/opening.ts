import { MessageStreamOpener } from '../../src/open-stream.js';
import type { OpenedMessage, OpenOptions } from '../../src/open-message.js';

/** Everything a caller can observe of an opening, as plain data (or the error's code and reason). */
export function observe(run: () => OpenedMessage): unknown {
  let opened: OpenedMessage;
  try {
    opened = run();
  } catch (error) {
    const e = error as { code?: string; reason?: string; name?: string };
    return { error: { name: e.name, code: e.code, reason: e.reason } };
  }
  return {
    messageType: opened.messageType,
    messageId: opened.messageId,
    subject: opened.subject,
    transport: opened.transport,
    signatures: opened.signatures.map((s) => ({
      scope: s.scope,
      containerId: s.containerId,
      valid: s.valid,
      algorithm: s.algorithm,
      signer: s.signer,
      problems: s.problems,
      trusted: s.certificate?.trusted,
    })),
    content: opened.content.ok
      ? {
          containers: JSON.stringify(opened.content.layer.containers, (k, v: unknown) => (k === 'signatures' || k === 'data' ? undefined : v)),
          attachments: opened.content.layer.attachments.map((a) => ({
            refId: a.refId,
            contentType: a.contentType,
            encrypted: a.encrypted,
            size: a.size,
            sha256: a.sha256,
            digests: [...a.digests.keys()].sort(),
          })),
        }
      : { error: { code: opened.content.error.code, reason: opened.content.error.reason } },
  };
}

export function streamed(raw: Buffer, slice: number, options: OpenOptions, received?: Map<string, Buffer[]>) {
  const opener = new MessageStreamOpener({
    ...options,
    onAttachmentData: (refId, chunk) => {
      if (!received) return;
      const list = received.get(refId) ?? [];
      list.push(Buffer.from(chunk));
      received.set(refId, list);
    },
  });
  // One reused buffer, as a file reader would pass it: the opener must not keep views into it.
  const reused = Buffer.alloc(slice);
  for (let at = 0; at < raw.length; at += slice) {
    const n = raw.copy(reused, 0, at, Math.min(raw.length, at + slice));
    opener.push(reused.subarray(0, n));
  }
  return { opener, opened: () => opener.finish() };
}
