import { randomBytes } from 'node:crypto';
import type { Delivery } from '../contract/delivery.js';
import { safeSegment } from '../lib/naming.js';
import { chunksOf } from '../lib/streams.js';

export interface RequestBody {
  readonly contentType: string;
  /** Known when every document declares its size. */
  readonly length: number | undefined;
  /** A fresh stream of the body each time it is called. */
  chunks(signal: AbortSignal): AsyncGenerator<Buffer>;
}

function metadataOf(delivery: Delivery) {
  return {
    deliveryId: delivery.id,
    idempotencyKey: delivery.idempotencyKey,
    messageId: delivery.messageId,
    tenant: delivery.tenant,
    procedure: delivery.procedure ?? null,
    subject: delivery.subject ?? null,
    receivedAt: delivery.receivedAt.toISOString(),
    metadata: delivery.metadata ?? {},
  };
}

/** multipart/form-data: `metadata` (JSON) then one `document` file part per document, streamed. */
export function multipartBody(delivery: Delivery, boundary = `efa-${randomBytes(12).toString('hex')}`): RequestBody {
  const meta = Buffer.from(JSON.stringify({ ...metadataOf(delivery), documents: delivery.documents.map((d) => ({ name: d.name, contentType: d.contentType, role: d.role, size: d.size ?? null })) }));
  const metaHead = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\nContent-Type: application/json\r\n\r\n`);
  const heads = delivery.documents.map((d) =>
    Buffer.from(
      `\r\n--${boundary}\r\nContent-Disposition: form-data; name="document"; filename="${safeSegment(d.name, 'document name').replace(/"/g, '_')}"\r\nContent-Type: ${d.contentType.replace(/[\r\n]/g, '')}\r\n\r\n`,
    ),
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const sizes = delivery.documents.map((d) => d.size);
  const length = sizes.every((s) => s !== undefined) ? metaHead.length + meta.length + heads.reduce((a, h) => a + h.length, 0) + sizes.reduce((a, s) => a! + s!, 0)! + tail.length : undefined;
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    length,
    async *chunks(signal) {
      yield metaHead;
      yield meta;
      for (const [i, doc] of delivery.documents.entries()) {
        yield heads[i]!;
        yield* chunksOf(doc.open(), signal);
      }
      yield tail;
    },
  };
}

/** One JSON object; each document's bytes are base64-encoded on the fly in 48 KiB (multiple of 3) slices. */
export function jsonBody(delivery: Delivery): RequestBody {
  const meta = metadataOf(delivery);
  const head = JSON.stringify(meta).slice(0, -1) + ',"documents":[';
  return {
    contentType: 'application/json',
    length: undefined,
    async *chunks(signal) {
      yield Buffer.from(head);
      for (const [i, doc] of delivery.documents.entries()) {
        const docHead = `${i > 0 ? ',' : ''}${JSON.stringify({ name: doc.name, contentType: doc.contentType, role: doc.role, size: doc.size ?? null }).slice(0, -1)},"contentBase64":"`;
        yield Buffer.from(docHead);
        let carry = Buffer.alloc(0);
        for await (const chunk of chunksOf(doc.open(), signal)) {
          const data = carry.length ? Buffer.concat([carry, chunk]) : chunk;
          const usable = data.length - (data.length % 3);
          if (usable > 0) yield Buffer.from(data.subarray(0, usable).toString('base64'));
          carry = Buffer.from(data.subarray(usable));
        }
        if (carry.length) yield Buffer.from(carry.toString('base64'));
        yield Buffer.from('"}');
      }
      yield Buffer.from(']}');
    },
  };
}
