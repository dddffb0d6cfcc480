import { OsciError } from '../lib/errors.js';
import type { OsciLimits } from '../lib/limits.js';
import { NS } from '../lib/namespaces.js';
import { elementChildren, is, parseXml } from '../lib/xml.js';
import { findPart, parseMimeEntity, type MimeEntity } from '../mime/parse.js';
import type { MimeHeaders } from '../mime/headers.js';
import type { SymmetricAlgorithm } from '../xmlenc/algorithms/symmetric.js';
import { findIdentityByCertificate, sha256Hex, type KeyIdentity } from '../pki/keystore.js';
import { isLegacyKeyTransport, unwrapKey } from '../xmlenc/algorithms/key-transport.js';
import { parseEncryptedData } from '../xmlenc/encrypted-data.js';

export const OSCI_MESSAGE_CID = 'osci@message';
export const OSCI_ENC_CID = 'osci_enc';

/** How the transport (intermediary) layer of a message was protected. */
export interface TransportInfo {
  readonly encrypted: boolean;
  readonly algorithm?: string;
  readonly ivLength?: number;
  readonly keyTransport?: string;
  readonly oaepDigest?: string;
  /** SHA-256 (hex) of the certificate the message was encrypted for. */
  readonly recipientCertificateSha256?: string;
  readonly legacy?: boolean;
}

export interface OpenedTransport {
  readonly info: TransportInfo;
  /** The inner MIME entity: order envelope plus attachment parts. */
  readonly inner: MimeEntity;
  /** Bytes of the inner entity (the transport plaintext). */
  readonly innerBytes: Buffer;
}

export interface TransportOptions {
  readonly keys: readonly KeyIdentity[];
  readonly allowLegacyAlgorithms: boolean;
  readonly allowUnencrypted: boolean;
  readonly limits: OsciLimits;
  /** Where the transport plaintext goes (a reusable scratch buffer inside `openMessage`); fresh memory by default. */
  readonly allocate?: (bytes: number) => Buffer;
  /**
   * Decrypt into the ciphertext's own memory (the caller gives up `raw`): plaintext slice k is written where
   * ciphertext slice k began, always behind the slice being read. No fresh memory for a large message.
   */
  readonly inPlace?: boolean;
}

/**
 * Opens the transport layer: parses the outer MIME entity, finds the EncryptedData whose EncryptedKey names
 * one of our cipher certificates (inline X509Certificate), unwraps the key and decrypts `cid:osci_enc`.
 * A message without transport encryption is returned as is (only if `allowUnencrypted`).
 */
export function openTransport(raw: Buffer, options: TransportOptions): OpenedTransport {
  if (raw.length > options.limits.maxMessageBytes) {
    throw new OsciError('INPUT_TOO_LARGE', `message of ${raw.length} bytes exceeds the limit of ${options.limits.maxMessageBytes}`);
  }
  const outer = parseMimeEntity(raw, options.limits);
  const envelopePart = findPart(outer, OSCI_MESSAGE_CID);
  if (!envelopePart) throw new OsciError('MIME_MISSING_PART', 'the message has no <osci@message> part');
  const prepared = prepareTransport(envelopePart.body, () => findPart(outer, OSCI_ENC_CID)?.headers, options);
  if (!prepared) return { info: { encrypted: false }, inner: outer, innerBytes: raw };
  const cipherPart = findPart(outer, OSCI_ENC_CID)!;
  // Decide base64 by the MIME part headers (older peers send text/base64), never by the ceremonial Transform.
  const cipherBytes = prepared.base64 ? Buffer.from(cipherPart.body.toString('latin1').replace(TRANSPORT_BASE64_IGNORED, ''), 'base64') : cipherPart.body;
  const { algorithm, key, ivLength } = prepared;
  let innerBytes: Buffer;
  try {
    const plaintextLength = algorithm.plaintextLength(cipherBytes.length, ivLength);
    const target = options.inPlace && !algorithm.legacy ? cipherBytes.subarray(0, plaintextLength) : (options.allocate ?? Buffer.allocUnsafeSlow)(plaintextLength);
    let at = 0;
    const length = algorithm.decryptChunks(key, cipherBytes, ivLength, (chunk) => {
      at += chunk.copy(target, at);
    });
    innerBytes = target.subarray(0, length);
  } catch (error) {
    throw transportDecryptFailed(error);
  }
  const inner = parseMimeEntity(innerBytes, options.limits);
  return { info: prepared.info, inner, innerBytes };
}

/** Whitespace dropped from a text/base64 transport part before decoding. */
export const TRANSPORT_BASE64_IGNORED = /\s+/g;

export function transportDecryptFailed(cause: unknown): OsciError {
  return new OsciError('TRANSPORT_DECRYPT_FAILED', 'the transport ciphertext does not decrypt (authentication failed or data truncated)', { cause });
}

/** What decrypting the `osci_enc` part takes: the unwrapped key and its algorithm. */
export interface PreparedTransport {
  readonly info: TransportInfo & { readonly encrypted: true };
  readonly algorithm: SymmetricAlgorithm;
  readonly key: Buffer;
  readonly ivLength: number;
  /** The cipher part is text/base64 (older peers). */
  readonly base64: boolean;
}

/**
 * Reads the transport envelope (the `osci@message` part of the outer entity), picks our key by the recipient
 * certificate and unwraps the symmetric key. `undefined`: the message is not transport-encrypted (allowed by the
 * options). `cipherPartHeaders` gives the headers of the `osci_enc` part, or undefined if it is missing.
 */
export function prepareTransport(envelopeBody: Buffer, cipherPartHeaders: () => MimeHeaders | undefined, options: Omit<TransportOptions, 'allocate' | 'inPlace'>): PreparedTransport | undefined {
  const doc = parseXml(envelopeBody, options.limits, 'transport envelope');
  const root = doc.documentElement!;
  const body = is(root, NS.soap, 'Envelope') ? elementChildren(root).find((e) => is(e, NS.soap, 'Body')) : undefined;
  const bodyChildren = body ? elementChildren(body) : [];
  const hasHeader = elementChildren(root).some((e) => is(e, NS.soap, 'Header'));
  const encryptedData = !hasHeader && bodyChildren.length === 1 && bodyChildren[0] && is(bodyChildren[0], NS.xenc, 'EncryptedData') ? bodyChildren[0] : undefined;

  if (!encryptedData) {
    if (!options.allowUnencrypted) throw new OsciError('TRANSPORT_DECRYPT_FAILED', 'the message is not transport-encrypted and unencrypted transport is not allowed');
    return undefined;
  }

  const info = parseEncryptedData(encryptedData);
  const candidates = info.encryptedKeys.filter((k) => k.recipient.kind === 'certificate');
  if (candidates.length === 0) throw new OsciError('TRANSPORT_NO_KEY', 'the transport EncryptedKey names no recipient certificate');
  let chosen: { key: (typeof candidates)[number]; identity: KeyIdentity } | undefined;
  for (const key of candidates) {
    const identity = key.recipient.kind === 'certificate' ? findIdentityByCertificate(options.keys, key.recipient.der) : undefined;
    if (identity) {
      chosen = { key, identity };
      break;
    }
  }
  if (!chosen) {
    const first = candidates[0]!;
    const sha = first.recipient.kind === 'certificate' ? sha256Hex(first.recipient.der) : '?';
    throw new OsciError('TRANSPORT_NO_KEY', `the message is encrypted for certificate sha256=${sha}, for which no private key is configured`);
  }
  const legacy = info.algorithm.legacy || isLegacyKeyTransport(chosen.key.transport.algorithm);
  if (legacy && !options.allowLegacyAlgorithms) {
    throw new OsciError('ALGORITHM_LEGACY_REFUSED', `transport uses ${info.algorithm.uri} / ${chosen.key.transport.algorithm}; enable legacy algorithms to accept it`);
  }
  if (info.cipher.kind !== 'reference' || info.cipher.uri !== `cid:${OSCI_ENC_CID}`) {
    throw new OsciError('ENVELOPE_INVALID', 'the transport EncryptedData must reference cid:osci_enc');
  }
  const cipherHeaders = cipherPartHeaders();
  if (!cipherHeaders) throw new OsciError('TRANSPORT_CIPHER_PART_MISSING', 'the <osci_enc> part referenced by the transport envelope is missing');

  const symmetricKey = unwrapKey(chosen.key.transport, chosen.identity, chosen.key.cipherValue, 'TRANSPORT_DECRYPT_FAILED');
  if (symmetricKey.length !== info.algorithm.keyBytes) throw new OsciError('TRANSPORT_DECRYPT_FAILED', 'the unwrapped transport key has the wrong length');
  return {
    info: {
      encrypted: true,
      algorithm: info.algorithm.uri,
      ivLength: info.ivLength,
      keyTransport: chosen.key.transport.algorithm,
      ...(chosen.key.transport.digestMethod ? { oaepDigest: chosen.key.transport.digestMethod } : {}),
      recipientCertificateSha256: chosen.identity.certificateSha256,
      legacy,
    },
    algorithm: info.algorithm,
    key: symmetricKey,
    ivLength: info.ivLength,
    base64: cipherHeaders.mediaType === 'text/base64',
  };
}
