import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Delivery, DeliveryDocument } from '../contract/delivery.js';

const BLOCK = 64 * 1024;

function block(seed: string, index: number, length: number): Buffer {
  const b = Buffer.alloc(length);
  const base = createHash('sha256').update(seed).digest();
  for (let i = 0; i < length; i += 32) base.copy(b, i, 0, Math.min(32, length - i));
  b.writeUInt32BE(index >>> 0, 0);
  return b;
}

/**
 * A re-openable test document of `size` deterministic bytes, produced in 64 KiB blocks (never held whole), with an
 * optional delay between blocks to keep a delivery in flight.
 */
export function generatedDocument(name: string, size: number, options: { contentType?: string; delayMs?: number; role?: DeliveryDocument['role'] } = {}): DeliveryDocument & { sha256: string } {
  const hash = createHash('sha256');
  for (let i = 0, n = 0; i < size; i += BLOCK, n++) hash.update(block(name, n, Math.min(BLOCK, size - i)));
  return {
    name,
    contentType: options.contentType ?? 'application/octet-stream',
    role: options.role ?? 'primary',
    size,
    sha256: hash.digest('hex'),
    open() {
      let offset = 0;
      let n = 0;
      return new Readable({
        highWaterMark: BLOCK,
        read() {
          if (offset >= size) return void this.push(null);
          const chunk = block(name, n++, Math.min(BLOCK, size - offset));
          offset += chunk.length;
          if (options.delayMs) setTimeout(() => this.push(chunk), options.delayMs);
          else this.push(chunk);
        },
      });
    },
  };
}

export function bufferDocument(name: string, content: Buffer, contentType = 'application/octet-stream', role: DeliveryDocument['role'] = 'primary'): DeliveryDocument & { sha256: string } {
  return { name, contentType, role, size: content.length, sha256: createHash('sha256').update(content).digest('hex'), open: () => Readable.from([content]) };
}

let counter = 0;
export function testDelivery(documents: readonly DeliveryDocument[], overrides: Partial<Delivery> = {}): Delivery {
  counter++;
  const id = `${process.pid}-${Date.now()}-${counter}`;
  return {
    id: `delivery-${id}`,
    idempotencyKey: `key-${id}`,
    messageId: `msg-${id}`,
    tenant: 'musterstadt',
    procedure: 'xdomea-akte',
    subject: 'Gewerbeanmeldung',
    receivedAt: new Date('2026-11-23T10:00:00Z'),
    documents,
    ...overrides,
  };
}
