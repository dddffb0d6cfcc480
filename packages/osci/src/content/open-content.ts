import { createHash, type Hash } from 'node:crypto';
import { CHUNK_BYTES } from '../xmlenc/algorithms/symmetric.js';
import { DIGEST_SHA256, digestHash } from '../xmldsig/algorithms.js';
import { callSink, OsciError, passSinkFailure } from '../lib/errors.js';
import type { OsciLimits } from '../lib/limits.js';
import { NS } from '../lib/namespaces.js';
import { attr, childNamed, collectIds, elementChildren, is, parseXml, serializeXml, textOf, type Element } from '../lib/xml.js';
import type { MimeEntity } from '../mime/parse.js';
import { findIdentityByCertificate, type KeyIdentity } from '../pki/keystore.js';
import type { OsciEnvelope } from '../soap/envelope.js';
import { unwrapKey } from '../xmlenc/algorithms/key-transport.js';
import { parseEncryptedData, usesLegacyAlgorithm, type EncryptedDataInfo } from '../xmlenc/encrypted-data.js';
import { verifySignature, type SignatureVerification } from '../xmldsig/verify.js';

export type ContentKind = 'base64' | 'xml' | 'attachment' | 'container';

export interface OpenedContent {
  /** Id of the osci:Content (or of its Base64Content for base64 contents, as the reference library writes it). */
  readonly id: string | undefined;
  readonly kind: ContentKind;
  /**
   * Plaintext bytes (base64: decoded; xml: the serialized children; attachment: the decrypted part, absent when
   * attachments are streamed to `onAttachmentData` instead of being retained).
   */
  readonly data: Buffer | undefined;
  readonly size: number;
  readonly sha256: string;
  readonly attachmentRef?: string;
  readonly container?: OpenedContainer;
}

export interface OpenedContainer {
  readonly id: string | undefined;
  /** The content-layer EncryptedData this container was decrypted from, if it was encrypted. */
  readonly encryption?: { readonly id: string | undefined; readonly algorithm: string; readonly ivLength: number; readonly keyTransport: string };
  readonly signatures: readonly SignatureVerification[];
  readonly contents: readonly OpenedContent[];
}

export interface OpenedAttachment {
  readonly refId: string;
  readonly contentType: string;
  readonly encrypted: boolean;
  /** The plaintext, unless attachments are streamed (`retainAttachments: false`). */
  readonly data: Buffer | undefined;
  readonly size: number;
  readonly sha256: string;
  /** Digests of the plaintext computed in the decryption pass, by digest-method URI. */
  readonly digests: ReadonlyMap<string, Buffer>;
}

export interface OpenedContentLayer {
  readonly containers: readonly OpenedContainer[];
  readonly attachments: readonly OpenedAttachment[];
}

export interface ContentOptions {
  readonly keys: readonly KeyIdentity[];
  readonly allowLegacyAlgorithms: boolean;
  readonly limits: OsciLimits;
  /** Keep attachment plaintext in memory (`data`). @defaultValue true */
  readonly retainAttachments?: boolean;
  /**
   * Receives attachment plaintext slice by slice while it is decrypted and hashed (one pass over the payload), e.g.
   * to write it to disk re-encrypted. A slice is valid only during the call. If opening fails afterwards (tag or
   * signature check), everything received must be discarded.
   */
  readonly onAttachmentData?: (refId: string, chunk: Buffer) => void;
  /**
   * The attachment parts' memory may be overwritten: retained plaintext is decrypted into the ciphertext's place
   * and returned as a view (no fresh memory, no copy). Set by `openMessage` when the caller consumes its input.
   */
  readonly attachmentsInPlace?: boolean;
  /**
   * Supplies attachments instead of reading them from the MIME parts (a streaming opener processed them while they
   * arrived). Called with the attachment's key; returns the processed attachment, or undefined if there is no such
   * part. Errors it throws are the attachment's errors.
   */
  readonly resolveAttachment?: AttachmentResolver;
  /** Unwrapped content keys by EncryptedKey, so that a second pass over the same layer needs no RSA operation. */
  readonly keyMemo?: Map<string, Buffer>;
}

export interface AttachmentRequest {
  readonly refId: string;
  /** Media type of the part when the layer knows it (parts not referenced by any container). */
  readonly contentType: string | undefined;
  /** How the attachment is encrypted; undefined for a plain part. */
  readonly encryption: EncryptedDataInfo | undefined;
  /** Unwraps the attachment's key (throws the content layer's key errors); call it only for a part that exists. */
  readonly key: () => Buffer | undefined;
  /** Digests of the plaintext the content signatures need (SHA-256 is always computed). */
  readonly digestMethods: ReadonlySet<string>;
}

export type AttachmentResolver = (request: AttachmentRequest) => OpenedAttachment | undefined;

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * Opens the content layer of an order: decrypts each `xenc:EncryptedData` of the ContentPackage for the reader
 * whose key we hold (EncryptedKey → RetrievalMethod → certificate Id in the order header), reads the
 * ContentContainers, decrypts `cid:` attachments with the keys from `ds:MgmtData` and verifies content signatures
 * (digests over plaintext).
 */
export function openContentLayer(envelope: OsciEnvelope, inner: MimeEntity, options: ContentOptions): OpenedContentLayer {
  const attachments = new Map<string, OpenedAttachment>();
  const containers: OpenedContainer[] = [];
  const pkg = envelope.contentPackage;
  if (!pkg) return { containers, attachments: [] };
  const ctx: Ctx = { envelope, inner, options, attachments, keys: options.keyMemo ?? new Map(), unwrapped: { count: 0 } };
  for (const el of elementChildren(pkg)) {
    if (is(el, NS.xenc, 'EncryptedData')) containers.push(decryptContainer(el, ctx, 1));
    else if (is(el, NS.osci, 'ContentContainer')) containers.push(readContainer(el, envelope.ids, ctx, 1, undefined));
    else throw new OsciError('CONTENT_INVALID', `unexpected ${el.tagName} in ContentPackage`);
  }
  // Attachment parts that no container refers to are still reported (they were signed by the order signature).
  for (const part of inner.parts) {
    const id = part.contentId;
    if (!id || id === 'osci@message' || attachments.has(id)) continue;
    const resolve = options.resolveAttachment;
    if (resolve) {
      const record = resolve({ refId: id, contentType: part.headers.mediaType ?? 'application/octet-stream', encryption: undefined, key: () => undefined, digestMethods: new Set() });
      if (record) attachments.set(id, record);
      continue;
    }
    attachments.set(id, processAttachment(id, part.headers.mediaType ?? 'application/octet-stream', part.body, undefined, new Set(), ctx));
  }
  return { containers, attachments: [...attachments.values()] };
}

interface Ctx {
  readonly envelope: OsciEnvelope;
  readonly inner: MimeEntity;
  readonly options: ContentOptions;
  readonly attachments: Map<string, OpenedAttachment>;
  /** Content keys decrypted so far, by reader, algorithm and wrapped key (the caller's memo if it passed one). */
  readonly keys: Map<string, Buffer>;
  /** Private-key operations for content keys so far (bounded by `limits.maxContentKeys`). */
  readonly unwrapped: { count: number };
}

function decryptContainer(el: Element, ctx: Ctx, depth: number): OpenedContainer {
  const info = parseEncryptedData(el);
  const { key, keyTransport } = contentKey(info, ctx);
  if (info.cipher.kind !== 'value') throw new OsciError('CONTENT_INVALID', 'an encrypted ContentContainer must carry its CipherValue inline');
  let plaintext: Buffer;
  try {
    plaintext = info.algorithm.decrypt(key, info.cipher.value, info.ivLength);
  } catch (error) {
    throw new OsciError('CONTENT_DECRYPT_FAILED', `EncryptedData ${info.id ?? ''} does not decrypt`, { cause: error });
  }
  const doc = parseXml(plaintext, ctx.options.limits, 'decrypted ContentContainer');
  const root = doc.documentElement!;
  if (!is(root, NS.osci, 'ContentContainer')) throw new OsciError('CONTENT_INVALID', `decrypted content is ${root.tagName}, expected osci:ContentContainer`);
  return readContainer(root, collectIds(root), ctx, depth, {
    id: info.id,
    algorithm: info.algorithm.uri,
    ivLength: info.ivLength,
    keyTransport,
  });
}

function contentKey(info: EncryptedDataInfo, ctx: Ctx): { key: Buffer; keyTransport: string } {
  if (info.mgmtKey) return { key: info.mgmtKey, keyTransport: 'MgmtData' };
  for (const ek of info.encryptedKeys) {
    let der: Buffer | undefined;
    if (ek.recipient.kind === 'certificate') der = ek.recipient.der;
    else if (ek.recipient.kind === 'retrieval' && ek.recipient.uri.startsWith('#')) {
      const refId = ek.recipient.uri.slice(1);
      const certEl = ctx.envelope.certificates.find((c) => c.id === refId && c.role.startsWith('CipherCertificate'));
      der = certEl?.der;
    }
    const identity = der ? findIdentityByCertificate(ctx.options.keys, der) : undefined;
    if (!identity) continue;
    if (usesLegacyAlgorithm(info, ek) && !ctx.options.allowLegacyAlgorithms) {
      throw new OsciError('ALGORITHM_LEGACY_REFUSED', `content uses ${info.algorithm.uri} / ${ek.transport.algorithm}; enable legacy algorithms to accept it`);
    }
    const memoKey = `${identity.certificateSha256}:${ek.transport.algorithm}:${ek.cipherValue.toString('base64')}`;
    let key = ctx.keys.get(memoKey);
    if (!key) {
      if (++ctx.unwrapped.count > ctx.options.limits.maxContentKeys) {
        throw new OsciError('INPUT_TOO_LARGE', `the content layer needs more than ${ctx.options.limits.maxContentKeys} content keys decrypted`);
      }
      key = unwrapKey(ek.transport, identity, ek.cipherValue, 'CONTENT_DECRYPT_FAILED');
      ctx.keys.set(memoKey, key);
    }
    if (key.length !== info.algorithm.keyBytes) throw new OsciError('CONTENT_DECRYPT_FAILED', 'the unwrapped content key has the wrong length');
    return { key, keyTransport: ek.transport.algorithm };
  }
  throw new OsciError('CONTENT_NO_KEY', `EncryptedData ${info.id ?? ''} is not encrypted for any configured reader key`);
}

function readContainer(el: Element, ids: ReadonlyMap<string, Element>, ctx: Ctx, depth: number, encryption: OpenedContainer['encryption']): OpenedContainer {
  if (depth > ctx.options.limits.maxContainerDepth) throw new OsciError('INPUT_TOO_LARGE', `ContentContainers nest deeper than ${ctx.options.limits.maxContainerDepth}`);
  const signatures: Element[] = [];
  const contentEls: Element[] = [];
  const encrypted: Element[] = [];
  for (const c of elementChildren(el)) {
    if (is(c, NS.ds, 'Signature')) signatures.push(c);
    else if (is(c, NS.osci, 'Content')) contentEls.push(c);
    else if (is(c, NS.xenc, 'EncryptedData')) encrypted.push(c);
    else throw new OsciError('CONTENT_INVALID', `unexpected ${c.tagName} in ContentContainer`);
  }
  // EncryptedData in a container: attachment keys (CipherReference cid:) or encrypted nested containers.
  const attachmentKeys = new Map<string, EncryptedDataInfo>();
  const nested: OpenedContent[] = [];
  for (const e of encrypted) {
    const info = parseEncryptedData(e);
    if (info.cipher.kind === 'reference' && info.cipher.uri.startsWith('cid:')) attachmentKeys.set(info.cipher.uri.slice(4), info);
    else {
      const container = decryptContainer(e, ctx, depth + 1);
      nested.push({ id: info.id, kind: 'container', data: undefined, size: 0, sha256: sha256(Buffer.alloc(0)), container });
    }
  }
  // Digests the signatures of this container need over attachment plaintext: computed in the decryption pass.
  const wanted = new Map<string, Set<string>>();
  for (const sig of signatures) {
    for (const ref of sig.getElementsByTagNameNS(NS.ds, 'Reference')) {
      const uri = ref.getAttribute('URI') ?? '';
      const method = ref.getElementsByTagNameNS(NS.ds, 'DigestMethod')[0]?.getAttribute('Algorithm');
      if (uri.startsWith('cid:') && method) wanted.set(uri.slice(4), (wanted.get(uri.slice(4)) ?? new Set()).add(method));
    }
  }
  const contents: OpenedContent[] = [];
  for (const c of contentEls) contents.push(readContent(c, ids, ctx, depth, attachmentKeys, wanted));
  contents.push(...nested);

  const digests = new Map<Element, Map<string, Buffer>>();
  const verifications = signatures.map((sig) =>
    verifySignature(sig, {
      digests,
      ids,
      digestCid: (cid, method) => attachmentPlaintext(cid, ctx, attachmentKeys, new Set([method]))?.digests.get(method),
      resolveCertificateElement: (id) => ctx.envelope.certificates.find((c) => c.id === id)?.element,
      maxReferences: ctx.options.limits.maxSignatureReferences,
    }),
  );
  return { id: attr(el, 'Id'), ...(encryption ? { encryption } : {}), signatures: verifications, contents };
}

function readContent(
  el: Element,
  ids: ReadonlyMap<string, Element>,
  ctx: Ctx,
  depth: number,
  keys: Map<string, EncryptedDataInfo>,
  wanted: ReadonlyMap<string, ReadonlySet<string>>,
): OpenedContent {
  const href = attr(el, 'href');
  if (href !== undefined) {
    if (!href.startsWith('cid:')) throw new OsciError('CONTENT_INVALID', `Content href "${href}" is not a cid: reference`);
    const refId = href.slice(4);
    const att = attachmentPlaintext(refId, ctx, keys, wanted.get(refId) ?? new Set());
    if (!att) throw new OsciError('CONTENT_ATTACHMENT_MISSING', `attachment ${refId} has no MIME part`);
    return { id: attr(el, 'Id'), kind: 'attachment', data: att.data, size: att.size, sha256: att.sha256, attachmentRef: refId };
  }
  const kids = elementChildren(el);
  const b64 = childNamed(el, NS.osci, 'Base64Content');
  if (b64 && kids.length === 1) {
    const data = Buffer.from(textOf(b64).replace(/\s+/g, ''), 'base64');
    return { id: attr(b64, 'Id') ?? attr(el, 'Id'), kind: 'base64', data, size: data.length, sha256: sha256(data) };
  }
  const nested = childNamed(el, NS.osci, 'ContentContainer');
  if (nested && kids.length === 1) {
    const container = readContainer(nested, ids, ctx, depth + 1, undefined);
    return { id: attr(el, 'Id'), kind: 'container', data: undefined, size: 0, sha256: sha256(Buffer.alloc(0)), container };
  }
  // Inline XML content: the child elements as transmitted.
  const data = Buffer.from(kids.map((k) => serializeXml(k)).join(''), 'utf8');
  return { id: attr(el, 'Id'), kind: 'xml', data, size: data.length, sha256: sha256(data) };
}

function attachmentPlaintext(refId: string, ctx: Ctx, keys: Map<string, EncryptedDataInfo>, digestMethods: ReadonlySet<string>): OpenedAttachment | undefined {
  const known = ctx.attachments.get(refId);
  if (known && [...digestMethods].every((m) => known.digests.has(m))) return known;
  if (known?.data) {
    // A further digest method over plaintext we hold: hash it (its ciphertext may have been decrypted in place).
    const digests = new Map(known.digests);
    for (const m of digestMethods) if (!digests.has(m)) digests.set(m, createHash(digestHash(m)).update(known.data).digest());
    const record = { ...known, digests };
    ctx.attachments.set(refId, record);
    return record;
  }
  const resolve = ctx.options.resolveAttachment;
  if (resolve) {
    const info = keys.get(refId);
    if (info?.algorithm.legacy && !ctx.options.allowLegacyAlgorithms) throw new OsciError('ALGORITHM_LEGACY_REFUSED', `attachment ${refId} uses ${info.algorithm.uri}`);
    const methods = new Set([...digestMethods, ...(known?.digests.keys() ?? [])]);
    const record = resolve({ refId, contentType: undefined, encryption: info, key: () => (info ? contentKey(info, ctx).key : undefined), digestMethods: methods });
    if (record) ctx.attachments.set(refId, record);
    return record;
  }
  const part = ctx.inner.parts.find((p) => p.contentId === refId);
  if (!part) return undefined;
  const info = keys.get(refId);
  if (info?.algorithm.legacy && !ctx.options.allowLegacyAlgorithms) throw new OsciError('ALGORITHM_LEGACY_REFUSED', `attachment ${refId} uses ${info.algorithm.uri}`);
  const methods = new Set([...digestMethods, ...(known?.digests.keys() ?? [])]);
  // Read before without keeping its plaintext, and now wanted with a further digest method: one more pass, which
  // hashes only — the sink has had the plaintext already.
  const record = processAttachment(refId, part.headers.mediaType ?? 'application/octet-stream', part.body, info, methods, ctx, known === undefined);
  ctx.attachments.set(refId, record);
  return record;
}

/**
 * One pass over an attachment: decrypt slice by slice, hash every slice (SHA-256 for the report plus the digests
 * content signatures ask for), and retain the plaintext and/or hand it to `onAttachmentData` (unless `toSink` is
 * false: a further pass over an attachment the sink has had).
 */
function processAttachment(
  refId: string,
  contentType: string,
  body: Buffer,
  info: EncryptedDataInfo | undefined,
  digestMethods: ReadonlySet<string>,
  ctx: Ctx,
  toSink = true,
): OpenedAttachment {
  const report = createHash('sha256');
  const hashes = new Map<string, Hash>();
  for (const method of digestMethods) if (method !== DIGEST_SHA256) hashes.set(method, createHash(digestHash(method)));
  const retain = ctx.options.retainAttachments ?? true;
  const onData = toSink ? ctx.options.onAttachmentData : undefined;
  const key = info ? contentKey(info, ctx).key : undefined;
  const expected = info ? info.algorithm.plaintextLength(body.length, info.ivLength) : body.length;
  // In place: plaintext slice k goes where ciphertext slice k began, behind the slice being read (or, unencrypted,
  // it is already there).
  const inPlace = retain && (ctx.options.attachmentsInPlace ?? false) && !info?.algorithm.legacy;
  const out = !retain ? undefined : inPlace ? body.subarray(0, expected) : Buffer.allocUnsafeSlow(expected);
  let at = 0;
  const emit = (chunk: Buffer) => {
    report.update(chunk);
    for (const h of hashes.values()) h.update(chunk);
    if (out && !(inPlace && !info)) chunk.copy(out, at);
    at += chunk.length;
    callSink(onData, refId, chunk);
  };
  try {
    if (info && key) info.algorithm.decryptChunks(key, body, info.ivLength, emit);
    else for (let i = 0; i < body.length; i += CHUNK_BYTES) emit(body.subarray(i, Math.min(body.length, i + CHUNK_BYTES)));
  } catch (error) {
    passSinkFailure(error);
    throw error instanceof OsciError ? error : new OsciError('CONTENT_DECRYPT_FAILED', `attachment ${refId} does not decrypt`, { cause: error });
  }
  const sha = report.digest();
  const digests = new Map<string, Buffer>([[DIGEST_SHA256, sha]]);
  for (const [method, h] of hashes) digests.set(method, h.digest());
  return { refId, contentType, encrypted: info !== undefined, data: out?.subarray(0, at), size: at, sha256: sha.toString('hex'), digests };
}
