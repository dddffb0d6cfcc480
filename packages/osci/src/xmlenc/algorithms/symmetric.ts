import { createCipheriv, createDecipheriv, type CipherGCMTypes, type DecipherGCM } from 'node:crypto';
import { OsciError } from '../../lib/errors.js';

/** Block/stream cipher of an `xenc:EncryptedData`, identified by its algorithm URI. */
export interface SymmetricAlgorithm {
  readonly uri: string;
  readonly keyBytes: number;
  /** Deprecated algorithms are decrypted only behind `allowLegacyAlgorithms` and never produced. */
  readonly legacy: boolean;
  /** `data` = IV ‖ ciphertext (‖ tag for GCM). `ivLength` applies to GCM only. */
  decrypt(key: Buffer, data: Buffer, ivLength: number): Buffer;
  /**
   * Decrypts in slices and hands each plaintext slice to `emit` (valid only during the call). For GCM the tag is
   * checked after the last slice: on failure this throws and the emitted plaintext must be discarded.
   * @returns the plaintext length
   */
  decryptChunks(key: Buffer, data: Buffer, ivLength: number, emit: (chunk: Buffer) => void): number;
  /** Plaintext length for a ciphertext of `length` bytes (an upper bound for padded modes). */
  plaintextLength(length: number, ivLength: number): number;
  /**
   * Decryption of `IV ‖ ciphertext (‖ tag)` arriving in slices of any size. For GCM the plaintext is handed on as it
   * is decrypted and the tag checked by `final` (discard the plaintext if it throws); legacy modes collect the
   * ciphertext and decrypt it in `final`.
   */
  createDecryptor(key: Buffer, ivLength: number): StreamDecryptor;
}

export interface StreamDecryptor {
  update(chunk: Buffer, emit: (plaintext: Buffer) => void): void;
  /** Checks the tag (GCM) or padding (CBC); throws on failure. @returns the plaintext length */
  final(emit: (plaintext: Buffer) => void): number;
}

/** Slice size for chunked processing: large enough for full cipher speed, small enough to stay in cache. */
export const CHUNK_BYTES = 64 * 1024;

const GCM_TAG_BYTES = 16;

function gcm(uri: string, keyBytes: number): SymmetricAlgorithm {
  const name = `aes-${keyBytes * 8}-gcm` as CipherGCMTypes;
  return {
    uri,
    keyBytes,
    legacy: false,
    decrypt(key, data, ivLength) {
      if (data.length < ivLength + GCM_TAG_BYTES) throw new OsciError('CONTENT_DECRYPT_FAILED', 'GCM ciphertext shorter than IV and tag');
      const decipher = createDecipheriv(name, key, data.subarray(0, ivLength), { authTagLength: GCM_TAG_BYTES });
      decipher.setAuthTag(data.subarray(data.length - GCM_TAG_BYTES));
      const body = data.subarray(ivLength, data.length - GCM_TAG_BYTES);
      const out = decipher.update(body);
      const rest = decipher.final();
      return rest.length === 0 ? out : Buffer.concat([out, rest]);
    },
    decryptChunks(key, data, ivLength, emit) {
      if (data.length < ivLength + GCM_TAG_BYTES) throw new OsciError('CONTENT_DECRYPT_FAILED', 'GCM ciphertext shorter than IV and tag');
      const decipher = createDecipheriv(name, key, data.subarray(0, ivLength), { authTagLength: GCM_TAG_BYTES });
      decipher.setAuthTag(data.subarray(data.length - GCM_TAG_BYTES));
      const end = data.length - GCM_TAG_BYTES;
      for (let at = ivLength; at < end; at += CHUNK_BYTES) emit(decipher.update(data.subarray(at, Math.min(end, at + CHUNK_BYTES))));
      const rest = decipher.final();
      if (rest.length > 0) emit(rest);
      return end - ivLength;
    },
    plaintextLength: (length, ivLength) => Math.max(0, length - ivLength - GCM_TAG_BYTES),
    createDecryptor(key, ivLength) {
      return new GcmDecryptor(name, key, ivLength);
    },
  };
}

/** GCM over a stream: the IV is the first `ivLength` bytes, the last 16 bytes (held back until `final`) the tag. */
class GcmDecryptor implements StreamDecryptor {
  readonly #name: CipherGCMTypes;
  readonly #key: Buffer;
  readonly #ivLength: number;
  #head: Buffer = Buffer.alloc(0);
  #decipher: DecipherGCM | undefined;
  /** The last bytes seen: the tag once the input ends. */
  #tail: Buffer = Buffer.alloc(0);
  #length = 0;

  constructor(name: CipherGCMTypes, key: Buffer, ivLength: number) {
    this.#name = name;
    this.#key = key;
    this.#ivLength = ivLength;
  }

  update(chunk: Buffer, emit: (plaintext: Buffer) => void): void {
    let data = chunk;
    if (!this.#decipher) {
      const need = this.#ivLength - this.#head.length;
      this.#head = Buffer.concat([this.#head, data.subarray(0, need)]);
      data = data.subarray(need);
      if (this.#head.length < this.#ivLength) return;
      this.#decipher = createDecipheriv(this.#name, this.#key, this.#head, { authTagLength: GCM_TAG_BYTES });
    }
    if (data.length === 0) return;
    if (data.length < GCM_TAG_BYTES) {
      // Not enough to release the held-back bytes as a whole: shift them.
      const joined = Buffer.concat([this.#tail, data]);
      const cut = Math.max(0, joined.length - GCM_TAG_BYTES);
      if (cut > 0) this.#emit(joined.subarray(0, cut), emit);
      this.#tail = Buffer.from(joined.subarray(cut));
      return;
    }
    // The held-back bytes are ciphertext after all; the last 16 bytes of `data` are held back instead. No copy of
    // `data` itself.
    if (this.#tail.length > 0) this.#emit(this.#tail, emit);
    this.#emit(data.subarray(0, data.length - GCM_TAG_BYTES), emit);
    this.#tail = Buffer.from(data.subarray(data.length - GCM_TAG_BYTES));
  }

  /** Decrypts in slices of at most CHUNK_BYTES: small outputs reuse freed memory instead of touching fresh pages. */
  #emit(ciphertext: Buffer, emit: (plaintext: Buffer) => void): void {
    for (let at = 0; at < ciphertext.length; at += CHUNK_BYTES) {
      const plaintext = this.#decipher!.update(ciphertext.subarray(at, Math.min(ciphertext.length, at + CHUNK_BYTES)));
      this.#length += plaintext.length;
      emit(plaintext);
    }
  }

  final(emit: (plaintext: Buffer) => void): number {
    if (!this.#decipher || this.#tail.length < GCM_TAG_BYTES) throw new OsciError('CONTENT_DECRYPT_FAILED', 'GCM ciphertext shorter than IV and tag');
    this.#decipher.setAuthTag(this.#tail);
    const rest = this.#decipher.final();
    if (rest.length > 0) emit(rest);
    return this.#length + rest.length;
  }
}

function cbc(uri: string, cipher: string, keyBytes: number, ivBytes: number): SymmetricAlgorithm {
  return {
    uri,
    keyBytes,
    legacy: true,
    decrypt(key, data) {
      if (data.length < ivBytes * 2 || (data.length - ivBytes) % ivBytes !== 0) {
        throw new OsciError('CONTENT_DECRYPT_FAILED', 'CBC ciphertext length is not a multiple of the block size');
      }
      const decipher = createDecipheriv(cipher, key, data.subarray(0, ivBytes));
      decipher.setAutoPadding(false);
      const padded = Buffer.concat([decipher.update(data.subarray(ivBytes)), decipher.final()]);
      // XML-Enc (ISO 10126) padding: only the last byte is significant.
      const pad = padded[padded.length - 1] ?? 0;
      if (pad < 1 || pad > ivBytes) throw new OsciError('CONTENT_DECRYPT_FAILED', 'CBC padding is invalid');
      return padded.subarray(0, padded.length - pad);
    },
    decryptChunks(key, data, ivLength, emit) {
      const plain = this.decrypt(key, data, ivLength);
      emit(plain);
      return plain.length;
    },
    plaintextLength: (length) => Math.max(0, length - ivBytes),
    createDecryptor(key, ivLength) {
      // Legacy, opt-in and small in practice: collected and decrypted at once.
      const chunks: Buffer[] = [];
      return {
        update: (chunk) => void chunks.push(Buffer.from(chunk)),
        final: (emit) => {
          const plain = this.decrypt(key, Buffer.concat(chunks), ivLength);
          emit(plain);
          return plain.length;
        },
      };
    },
  };
}

export const AES128_GCM = 'http://www.w3.org/2009/xmlenc11#aes128-gcm';
export const AES192_GCM = 'http://www.w3.org/2009/xmlenc11#aes192-gcm';
export const AES256_GCM = 'http://www.w3.org/2009/xmlenc11#aes256-gcm';

const ALGORITHMS: readonly SymmetricAlgorithm[] = [
  gcm(AES128_GCM, 16),
  gcm(AES192_GCM, 24),
  gcm(AES256_GCM, 32),
  cbc('http://www.w3.org/2001/04/xmlenc#aes128-cbc', 'aes-128-cbc', 16, 16),
  cbc('http://www.w3.org/2001/04/xmlenc#aes192-cbc', 'aes-192-cbc', 24, 16),
  cbc('http://www.w3.org/2001/04/xmlenc#aes256-cbc', 'aes-256-cbc', 32, 16),
  cbc('http://www.w3.org/2001/04/xmlenc#tripledes-cbc', 'des-ede3-cbc', 24, 8),
];

export function symmetricAlgorithm(uri: string): SymmetricAlgorithm {
  const alg = ALGORITHMS.find((a) => a.uri === uri);
  if (!alg) throw new OsciError('ALGORITHM_UNSUPPORTED', `encryption algorithm ${uri} is not supported`);
  return alg;
}

/** AES-GCM encryption as OSCI writes it: IV ‖ ciphertext ‖ 128-bit tag, no AAD. */
export function encryptGcm(uri: string, key: Buffer, iv: Buffer, plaintext: Buffer | readonly Buffer[]): Buffer {
  const alg = symmetricAlgorithm(uri);
  if (alg.legacy) throw new OsciError('BUILD_INVALID_INPUT', `${uri} is never produced`);
  if (key.length !== alg.keyBytes) throw new OsciError('BUILD_INVALID_INPUT', `key for ${uri} must have ${alg.keyBytes} bytes`);
  const cipher = createCipheriv(`aes-${alg.keyBytes * 8}-gcm` as CipherGCMTypes, key, iv, { authTagLength: GCM_TAG_BYTES });
  const chunks: Buffer[] = [iv];
  for (const part of Array.isArray(plaintext) ? plaintext : [plaintext as Buffer]) chunks.push(cipher.update(part));
  chunks.push(cipher.final(), cipher.getAuthTag());
  return Buffer.concat(chunks);
}
