import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Opened content at rest, encrypted with the spool's local key (AES-256-GCM, AAD = spool id): a manifest and the
 * parts back to back. Personal data never lies on disk in plaintext.
 */
export interface ContentBundle {
  readonly contents: Array<{ id: string | undefined; kind: 'base64' | 'xml'; data: Buffer }>;
  readonly attachments: Array<{ refId: string; contentType: string; data: Buffer }>;
}

interface Manifest {
  contents: Array<{ id: string | null; kind: 'base64' | 'xml'; size: number }>;
  attachments: Array<{ refId: string; contentType: string; size: number }>;
}

export function sealContent(key: Buffer, id: string, bundle: ContentBundle): Buffer {
  const manifest: Manifest = {
    contents: bundle.contents.map((c) => ({ id: c.id ?? null, kind: c.kind, size: c.data.length })),
    attachments: bundle.attachments.map((a) => ({ refId: a.refId, contentType: a.contentType, size: a.data.length })),
  };
  const m = Buffer.from(JSON.stringify(manifest));
  const len = Buffer.alloc(4);
  len.writeUInt32BE(m.length);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(id));
  const out = [iv, cipher.update(len), cipher.update(m)];
  for (const c of bundle.contents) out.push(cipher.update(c.data));
  for (const a of bundle.attachments) out.push(cipher.update(a.data));
  out.push(cipher.final(), cipher.getAuthTag());
  return Buffer.concat(out);
}

export function openContent(key: Buffer, id: string, sealed: Buffer): ContentBundle {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  decipher.setAAD(Buffer.from(id));
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  const plain = Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
  const mlen = plain.readUInt32BE(0);
  const manifest = JSON.parse(plain.subarray(4, 4 + mlen).toString('utf8')) as Manifest;
  let at = 4 + mlen;
  const take = (n: number) => plain.subarray(at, (at += n));
  return {
    contents: manifest.contents.map((c) => ({ id: c.id ?? undefined, kind: c.kind, data: take(c.size) })),
    attachments: manifest.attachments.map((a) => ({ refId: a.refId, contentType: a.contentType, data: take(a.size) })),
  };
}
