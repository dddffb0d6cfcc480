import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { openContentLayer, type AttachmentRequest, type OpenedAttachment } from './content/open-content.js';
import { Base64StreamDecoder } from './lib/base64-stream.js';
import { AttachmentSinkFailure, callSink, OsciError, passSinkFailure, unwrapSinkFailure } from './lib/errors.js';
import { resolveLimits, type OsciLimits } from './lib/limits.js';
import { NS } from './lib/namespaces.js';
import type { MimeHeaders } from './mime/headers.js';
import { decodeTransferEncoding, findPart, parseMimeEntity, type MimeEntity, type MimePart } from './mime/parse.js';
import { MimeStreamParser } from './mime/stream.js';
import { completeOpen, openMessage, type OpenedMessage, type OpenOptions } from './open-message.js';
import { parseEnvelope, type OsciEnvelope } from './soap/envelope.js';
import { CONTENT_ORDERS } from './soap/message-types.js';
import {
  OSCI_ENC_CID,
  OSCI_MESSAGE_CID,
  prepareTransport,
  TRANSPORT_BASE64_IGNORED,
  transportDecryptFailed,
  type PreparedTransport,
} from './transport/open-transport.js';
import type { StreamDecryptor } from './xmlenc/algorithms/symmetric.js';
import { DIGEST_SHA256, digestHash, isDigestMethod } from './xmldsig/algorithms.js';

/** Options of {@link MessageStreamOpener}: those of openMessage; attachments are never retained, only streamed. */
export type StreamOpenOptions = Omit<OpenOptions, 'consumeInput' | 'retainAttachments'>;

const EMPTY = Buffer.alloc(0);
/** Whitespace dropped from base64 part bodies (as decodeTransferEncoding does). */
const MIME_BASE64_IGNORED = /[\r\n\t ]/g;

/**
 * Opens an OSCI message while it arrives, in memory bounded by the envelopes (not by the attachments): the outer
 * MIME entity is parsed as it comes, the transport ciphertext decrypted slice by slice, the inner entity parsed
 * from that plaintext, and every attachment part hashed for the order signature, decrypted with its content key and
 * hashed again for the content signatures — one pass — while its plaintext goes to `onAttachmentData`.
 *
 * Nothing is trusted before `finish`: it checks the transport tag, then runs exactly the checks of
 * {@link openMessage} in the same order (order signature over the digests taken in passing, content layer) and
 * returns the same result, or throws the same error. Attachment plaintext handed out before must be discarded when
 * `finish` throws or reports a content error. Messages of an unusual shape (no transport encryption, a legacy
 * transport cipher, parts in another order) are collected and opened by openMessage at `finish`.
 */
export class MessageStreamOpener {
  readonly #options: StreamOpenOptions;
  readonly #limits: OsciLimits;
  #received = 0;
  /** `outer`: reading the transport envelope; `stream`: decrypting as it comes; `collect`: keeping the input whole. */
  #mode: 'outer' | 'stream' | 'collect' = 'outer';
  #raw: Buffer[] = [];
  readonly #outer: MimeStreamParser;
  #outerError: unknown;
  #outerPart: 'envelope' | 'cipher' | 'other' = 'other';
  #transportEnvelope: Buffer[] = [];
  #transportEnvelopeBytes = 0;
  #transportEnvelopeHeaders: MimeHeaders | undefined;
  #transport: PreparedTransport | undefined;
  #cipherBase64: Base64StreamDecoder | undefined;
  #decryptor: StreamDecryptor | undefined;
  #transportError: unknown;
  #transportEnded = false;
  readonly #inner: InnerEntity;

  constructor(options: StreamOpenOptions) {
    this.#options = options;
    this.#limits = resolveLimits(options.limits);
    this.#inner = new InnerEntity(options, this.#limits);
    this.#outer = new MimeStreamParser(
      {
        partStart: (index, headers) => this.#outerPartStart(index, headers),
        partData: (chunk) => this.#outerPartData(chunk),
        partEnd: () => this.#outerPartEnd(),
      },
      this.#limits,
    );
  }

  /** True once the transport ciphertext is being decrypted as it arrives (false: the message is collected whole). */
  get streaming(): boolean {
    return this.#mode === 'stream';
  }

  /** True once the message turned out to need collecting whole (an unusual shape): it will be opened at `finish`. */
  get collecting(): boolean {
    return this.#mode === 'collect';
  }

  /** Feeds the next slice of the message. The slice may be reused by the caller afterwards. */
  push(chunk: Buffer): void {
    this.#received += chunk.length;
    if (this.#received > this.#limits.maxMessageBytes) {
      throw new OsciError('INPUT_TOO_LARGE', `message of more than ${this.#limits.maxMessageBytes} bytes exceeds the limit of ${this.#limits.maxMessageBytes}`);
    }
    if (this.#mode !== 'stream') this.#raw.push(Buffer.from(chunk));
    if (this.#mode === 'collect' || this.#outerError !== undefined) return;
    try {
      this.#outer.push(chunk);
    } catch (error) {
      if (error instanceof AttachmentSinkFailure) throw unwrapSinkFailure(error);
      if (this.#mode === 'outer') this.#collect();
      else this.#outerError = error;
    }
  }

  /** The message is complete: the verdict of openMessage for the same bytes. */
  finish(): OpenedMessage {
    try {
      return this.#finish();
    } catch (error) {
      throw unwrapSinkFailure(error);
    }
  }

  #finish(): OpenedMessage {
    if (this.#mode !== 'stream') return openMessage(Buffer.concat(this.#raw), { ...this.#options, retainAttachments: false });
    try {
      this.#outer.end();
    } catch (error) {
      passSinkFailure(error);
      this.#outerError ??= error;
    }
    if (this.#outerError !== undefined) throw this.#outerError;
    if (!this.#transportEnded) throw new OsciError('MIME_MALFORMED', 'the <osci_enc> part is not closed');
    if (this.#transportError !== undefined) throw this.#transportError;
    return this.#inner.finish(this.#transport!.info);
  }

  #collect(): void {
    this.#mode = 'collect';
    this.#transportEnvelope = [];
  }

  #outerPartStart(index: number, headers: MimeHeaders): void {
    this.#outerPart = 'other';
    if (this.#mode === 'outer') {
      if (index === 0 && headers.contentId === OSCI_MESSAGE_CID) {
        this.#outerPart = 'envelope';
        this.#transportEnvelopeHeaders = headers;
        return;
      }
      if (index === 1 && headers.contentId === OSCI_ENC_CID && this.#startStreaming(headers)) this.#outerPart = 'cipher';
      else this.#collect();
      return;
    }
  }

  /** Decides at the start of `osci_enc`: stream if the transport envelope opens with an AES-GCM key for us. */
  #startStreaming(cipherHeaders: MimeHeaders): boolean {
    try {
      const envelope = decodeTransferEncoding(this.#transportEnvelopeHeaders!, Buffer.concat(this.#transportEnvelope));
      const prepared = prepareTransport(envelope, () => cipherHeaders, {
        keys: this.#options.keys,
        allowLegacyAlgorithms: this.#options.allowLegacyAlgorithms ?? false,
        allowUnencrypted: this.#options.allowUnencrypted ?? false,
        limits: this.#limits,
      });
      if (!prepared || prepared.algorithm.legacy) return false;
      this.#transport = prepared;
      this.#decryptor = prepared.algorithm.createDecryptor(prepared.key, prepared.ivLength);
      if (prepared.base64) this.#cipherBase64 = new Base64StreamDecoder(TRANSPORT_BASE64_IGNORED);
      this.#mode = 'stream';
      this.#raw = [];
      this.#transportEnvelope = [];
      return true;
    } catch {
      // openMessage reports it, with the same precedence as for any other message.
      return false;
    }
  }

  #outerPartData(chunk: Buffer): void {
    if (this.#outerPart === 'envelope' && this.#mode === 'outer') {
      this.#transportEnvelope.push(Buffer.from(chunk));
      this.#transportEnvelopeBytes += chunk.length;
      if (this.#transportEnvelopeBytes > 2 * this.#limits.maxXmlBytes) this.#collect();
    } else if (this.#outerPart === 'cipher') this.#decrypt(this.#cipherBase64 ? this.#cipherBase64.update(chunk) : chunk);
  }

  #outerPartEnd(): void {
    if (this.#outerPart !== 'cipher') return;
    this.#outerPart = 'other';
    this.#transportEnded = true;
    try {
      if (this.#cipherBase64) this.#decrypt(this.#cipherBase64.final());
      this.#decryptor!.final((plaintext) => this.#inner.push(plaintext));
    } catch (error) {
      passSinkFailure(error);
      this.#transportError = transportDecryptFailed(error);
      return;
    }
    this.#inner.end();
  }

  #decrypt(ciphertext: Buffer): void {
    if (this.#transportError !== undefined || ciphertext.length === 0) return;
    try {
      this.#decryptor!.update(ciphertext, (plaintext) => this.#inner.push(plaintext));
    } catch (error) {
      passSinkFailure(error);
      this.#transportError = transportDecryptFailed(error);
    }
  }
}

interface StreamedAttachment {
  readonly refId: string;
  readonly headers: MimeHeaders;
  readonly base64: Base64StreamDecoder | undefined;
  readonly orderHashes: Map<string, Hash>;
  /** Content processing, absent when the content layer cannot be opened (then only the order digests count). */
  readonly content:
    | { readonly decryptor: StreamDecryptor | undefined; readonly sha256: Hash; readonly hashes: Map<string, Hash>; readonly encrypted: boolean; size: number }
    | undefined;
}

interface AttachmentNeed {
  readonly encryption: AttachmentRequest['encryption'];
  readonly key: Buffer | undefined;
  /** Its key could not be unwrapped: the layer fails on it, nothing of it is decrypted. */
  readonly keyFailed: boolean;
  readonly methods: Set<string>;
}

/**
 * The transport plaintext: the inner MIME entity, parsed as it is decrypted. Errors are kept and reported by
 * `finish` in openMessage's order (MIME structure, then the envelope, then signatures and content).
 */
class InnerEntity {
  readonly #options: StreamOpenOptions;
  readonly #limits: OsciLimits;
  readonly #parser: MimeStreamParser;
  #headers: MimeHeaders | undefined;
  #boundary = '';
  readonly #parts: MimePart[] = [];
  #mimeError: unknown;
  /** Plaintext kept until the first part shows it is the envelope; kept whole if not (opened as openMessage does). */
  #retained: Buffer[] | undefined = [];
  #fallback = false;
  #envelopeChunks: Buffer[] = [];
  #envelopeBytes = 0;
  #envelope: OsciEnvelope | undefined;
  #envelopeError: unknown;
  /** Digest methods the order signature uses per Content-ID. */
  readonly #orderMethods = new Map<string, Set<string>>();
  /** What the content layer needs of each attachment (learnt before the attachments arrive; see #scanContent). */
  #needs = new Map<string, AttachmentNeed>();
  readonly #keyMemo = new Map<string, Buffer>();
  #current: StreamedAttachment | undefined;
  readonly #orderDigests = new Map<string, Map<string, Buffer>>();
  readonly #attachments = new Map<string, OpenedAttachment | OsciError>();

  constructor(options: StreamOpenOptions, limits: OsciLimits) {
    this.#options = options;
    this.#limits = limits;
    this.#parser = new MimeStreamParser(
      {
        entity: (headers, boundary) => {
          this.#headers = headers;
          this.#boundary = boundary;
        },
        partStart: (index, headers) => this.#partStart(index, headers),
        partData: (chunk) => this.#partData(chunk),
        partEnd: (index) => this.#partEnd(index),
      },
      limits,
    );
  }

  push(plaintext: Buffer): void {
    if (this.#retained) this.#retained.push(Buffer.from(plaintext));
    if (this.#fallback || this.#mimeError !== undefined) return;
    try {
      this.#parser.push(plaintext);
    } catch (error) {
      passSinkFailure(error);
      this.#fail(error);
    }
  }

  end(): void {
    if (this.#fallback || this.#mimeError !== undefined) return;
    try {
      this.#parser.end();
    } catch (error) {
      passSinkFailure(error);
      this.#fail(error);
    }
  }

  #fail(error: unknown): void {
    this.#mimeError = error;
    this.#retained = undefined;
  }

  finish(info: PreparedTransport['info']): OpenedMessage {
    const options = { ...this.#options, retainAttachments: false };
    if (this.#mimeError !== undefined) throw this.#mimeError;
    if (this.#fallback) {
      const inner = parseMimeEntity(Buffer.concat(this.#retained ?? []), this.#limits);
      const envelopePart = findPart(inner, OSCI_MESSAGE_CID);
      if (!envelopePart) throw new OsciError('MIME_MISSING_PART', 'the inner entity has no <osci@message> part');
      return completeOpen(parseEnvelope(envelopePart.body, this.#limits), { info, inner }, options, {});
    }
    if (this.#envelopeError !== undefined) throw this.#envelopeError;
    if (!this.#envelope) throw new OsciError('MIME_MISSING_PART', 'the inner entity has no <osci@message> part');
    const inner: MimeEntity = { headers: this.#headers!, boundary: this.#boundary, parts: this.#parts };
    return completeOpen(this.#envelope, { info, inner }, options, {
      orderDigest: (cid, method) => this.#orderDigests.get(cid)?.get(method),
      keyMemo: this.#keyMemo,
      resolveAttachment: (request) => {
        // As openMessage: no part, no attachment; for a part, an unsupported digest method first, then its key (the
        // layer's own errors).
        if (!this.#parts.some((p) => p.contentId === request.refId)) return undefined;
        for (const method of request.digestMethods) digestHash(method);
        request.key();
        const streamed = this.#attachments.get(request.refId);
        if (streamed instanceof OsciError) throw streamed;
        if (!streamed) throw new OsciError('INTERNAL', `attachment ${request.refId} was not processed while it arrived`);
        for (const method of request.digestMethods) {
          if (!streamed.digests.has(method)) throw new OsciError('INTERNAL', `digest ${method} of attachment ${request.refId} was not taken while it arrived`);
        }
        return streamed;
      },
    });
  }

  #partStart(index: number, headers: MimeHeaders): void {
    const cid = headers.contentId;
    if (index === 0) {
      if (cid !== OSCI_MESSAGE_CID) {
        this.#fallback = true;
        return;
      }
      this.#retained = undefined;
    }
    const known = index > 0 && this.#parts.some((p) => p.contentId === cid);
    this.#parts.push({ headers, contentId: cid, body: EMPTY, transmitted: EMPTY });
    if (index === 0 || !cid || known) return;
    this.#current = this.#startAttachment(cid, headers);
  }

  #startAttachment(refId: string, headers: MimeHeaders): StreamedAttachment {
    const orderHashes = new Map<string, Hash>();
    for (const method of this.#orderMethods.get(refId) ?? []) orderHashes.set(method, createHash(digestHash(method)));
    const base64 =
      (headers.get('content-transfer-encoding') ?? '').trim().toLowerCase() === 'base64' ? new Base64StreamDecoder(MIME_BASE64_IGNORED) : undefined;
    const need = this.#needs.get(refId);
    if (!this.#envelope || need?.keyFailed) return { refId, headers, base64, orderHashes, content: undefined };
    const hashes = new Map<string, Hash>();
    for (const method of need?.methods ?? []) {
      if (method === DIGEST_SHA256 || !isDigestMethod(method)) continue; // an unsupported one fails the content layer in `finish`
      hashes.set(method, createHash(digestHash(method)));
    }
    const decryptor = need?.encryption && need.key ? need.encryption.algorithm.createDecryptor(need.key, need.encryption.ivLength) : undefined;
    return {
      refId,
      headers,
      base64,
      orderHashes,
      content: { decryptor, sha256: createHash('sha256'), hashes, encrypted: need?.encryption !== undefined, size: 0 },
    };
  }

  #partData(chunk: Buffer): void {
    if (this.#parts.length === 1) {
      this.#envelopeBytes += chunk.length;
      if (this.#envelopeBytes <= 2 * this.#limits.maxXmlBytes) this.#envelopeChunks.push(Buffer.from(chunk));
      return;
    }
    const current = this.#current;
    if (!current) return;
    const body = current.base64 ? current.base64.update(chunk) : chunk;
    this.#attachmentBytes(current, body);
  }

  #attachmentBytes(current: StreamedAttachment, body: Buffer): void {
    if (body.length === 0) return;
    for (const h of current.orderHashes.values()) h.update(body);
    const content = current.content;
    if (!content || this.#attachments.has(current.refId)) return;
    try {
      if (content.decryptor) content.decryptor.update(body, (plaintext) => this.#plaintext(current, plaintext));
      else this.#plaintext(current, body);
    } catch (error) {
      passSinkFailure(error);
      this.#attachments.set(current.refId, attachmentError(current.refId, error));
    }
  }

  #plaintext(current: StreamedAttachment, plaintext: Buffer): void {
    const content = current.content!;
    content.sha256.update(plaintext);
    for (const h of content.hashes.values()) h.update(plaintext);
    content.size += plaintext.length;
    callSink(this.#options.onAttachmentData, current.refId, plaintext);
  }

  #partEnd(index: number): void {
    if (index === 0) return this.#envelopeEnd();
    const current = this.#current;
    this.#current = undefined;
    if (!current) return;
    if (current.base64) this.#attachmentBytes(current, current.base64.final());
    const digests = new Map<string, Buffer>();
    for (const [method, h] of current.orderHashes) digests.set(method, h.digest());
    this.#orderDigests.set(current.refId, digests);
    const content = current.content;
    if (!content || this.#attachments.has(current.refId)) return;
    try {
      content.decryptor?.final((plaintext) => this.#plaintext(current, plaintext));
    } catch (error) {
      passSinkFailure(error);
      this.#attachments.set(current.refId, attachmentError(current.refId, error));
      return;
    }
    const sha = content.sha256.digest();
    const plainDigests = new Map<string, Buffer>([[DIGEST_SHA256, sha]]);
    for (const [method, h] of content.hashes) plainDigests.set(method, h.digest());
    this.#attachments.set(current.refId, {
      refId: current.refId,
      contentType: current.headers.mediaType ?? 'application/octet-stream',
      encrypted: content.encrypted,
      data: undefined,
      size: content.size,
      sha256: sha.toString('hex'),
      digests: plainDigests,
    });
  }

  /** The order envelope is complete: parse it and learn what the attachments that follow need. */
  #envelopeEnd(): void {
    const part = this.#parts[0]!;
    let body: Buffer;
    try {
      if (this.#envelopeBytes > 2 * this.#limits.maxXmlBytes) {
        throw new OsciError('INPUT_TOO_LARGE', `order envelope of ${this.#envelopeBytes} bytes exceeds the limit of ${this.#limits.maxXmlBytes}`);
      }
      body = decodeTransferEncoding(part.headers, Buffer.concat(this.#envelopeChunks));
      this.#envelopeChunks = [];
      this.#parts[0] = { ...part, body, transmitted: body };
      this.#envelope = parseEnvelope(body, this.#limits);
    } catch (error) {
      this.#envelopeError = error;
      return;
    }
    const envelope = this.#envelope;
    const signature = envelope.signatureBlock?.signature;
    if (signature) {
      for (const ref of signature.getElementsByTagNameNS(NS.ds, 'Reference')) {
        const uri = ref.getAttribute('URI') ?? '';
        const method = ref.getElementsByTagNameNS(NS.ds, 'DigestMethod')[0]?.getAttribute('Algorithm');
        if (!uri.startsWith('cid:') || !method) continue;
        if (!isDigestMethod(method)) continue; // verifySignature reports the algorithm
        const cid = uri.slice(4);
        this.#orderMethods.set(cid, (this.#orderMethods.get(cid) ?? new Set()).add(method));
      }
    }
    const own = this.#orderMethods.get(OSCI_MESSAGE_CID);
    if (own) this.#orderDigests.set(OSCI_MESSAGE_CID, new Map([...own].map((m) => [m, createHash(digestHash(m)).update(body).digest()])));
    this.#needs = this.#scanContent(envelope);
  }

  /**
   * A dry run of the content layer before the attachments arrive: which attachments it reads, with which keys and
   * digests. Its verdicts do not count (`finish` runs the layer again with the real digests). Where it fails, it has
   * learnt what the layer reads before the failure — exactly what `finish` will ask for before failing the same way.
   */
  #scanContent(envelope: OsciEnvelope): Map<string, AttachmentNeed> {
    const needs = new Map<string, AttachmentNeed>();
    if (!CONTENT_ORDERS.has(envelope.messageType) || !envelope.contentPackage) return needs;
    try {
      openContentLayer(
        envelope,
        { headers: this.#headers!, boundary: this.#boundary, parts: this.#parts.slice(0, 1) },
        {
          keys: this.#options.keys,
          allowLegacyAlgorithms: this.#options.allowLegacyAlgorithms ?? false,
          limits: this.#limits,
          retainAttachments: false,
          keyMemo: this.#keyMemo,
          resolveAttachment: (request) => {
            let need = needs.get(request.refId);
            if (!need) {
              // Whether the part exists is not known yet: a key error counts only if it does (as in openMessage).
              let key: Buffer | undefined;
              let keyFailed = false;
              try {
                key = request.key();
              } catch {
                keyFailed = true;
              }
              need = { encryption: request.encryption, key, keyFailed, methods: new Set<string>() };
            }
            for (const m of request.digestMethods) need.methods.add(m);
            needs.set(request.refId, need);
            const digests = new Map<string, Buffer>([[DIGEST_SHA256, EMPTY]]);
            for (const m of need.methods) digests.set(m, EMPTY);
            return {
              refId: request.refId,
              contentType: 'application/octet-stream',
              encrypted: request.encryption !== undefined,
              data: undefined,
              size: 0,
              sha256: '',
              digests,
            };
          },
        },
      );
    } catch {
      // The layer fails here; `finish` reports it.
    }
    return needs;
  }
}

function attachmentError(refId: string, error: unknown): OsciError {
  return error instanceof OsciError ? error : new OsciError('CONTENT_DECRYPT_FAILED', `attachment ${refId} does not decrypt`, { cause: error });
}

/** Reads of this size into two buffers used in turn (the next read runs while the previous slice is processed). */
const READ_BYTES = 1024 * 1024;
/** Slices handed to the opener: small enough that what is derived from them reuses freed memory. */
const PUSH_BYTES = 64 * 1024;

/**
 * Opens the message in a file with a {@link MessageStreamOpener}: read in 1 MiB slices into two reused buffers, so
 * memory stays bounded by the envelopes whatever the size of the attachments, and reading overlaps the CPU work.
 */
export async function openMessageFile(path: string, options: StreamOpenOptions): Promise<OpenedMessage> {
  const opener = new MessageStreamOpener(options);
  const file = await open(path, 'r');
  const buffers = [Buffer.allocUnsafe(READ_BYTES), Buffer.allocUnsafe(READ_BYTES)];
  const read = (turn: number) => file.read(buffers[turn]!, 0, READ_BYTES, null).then(({ bytesRead }) => ({ bytesRead, buffer: buffers[turn]! }));
  let reading = read(0);
  try {
    for (let turn = 1; ; turn ^= 1) {
      const { bytesRead, buffer } = await reading;
      if (bytesRead === 0) break;
      reading = read(turn);
      for (let at = 0; at < bytesRead; at += PUSH_BYTES) opener.push(buffer.subarray(at, Math.min(bytesRead, at + PUSH_BYTES)));
    }
  } finally {
    await reading.catch(() => undefined); // a read still running when the opener gave up
    await file.close();
  }
  return opener.finish();
}
