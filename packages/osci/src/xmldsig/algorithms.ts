import { constants, createHash, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { OsciError } from '../lib/errors.js';

/** Digest algorithms allowed by OSCI 1.2 (SHA-1 and RIPEMD-160 were removed by Korrigenda 3/4). */
const DIGESTS: Record<string, string> = {
  'http://www.w3.org/2001/04/xmlenc#sha256': 'sha256',
  'http://www.w3.org/2001/04/xmlenc#sha512': 'sha512',
  'http://www.w3.org/2007/05/xmldsig-more#sha3-256': 'sha3-256',
  'http://www.w3.org/2007/05/xmldsig-more#sha3-384': 'sha3-384',
  'http://www.w3.org/2007/05/xmldsig-more#sha3-512': 'sha3-512',
};

export const DIGEST_SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';

/** Whether `uri` names a digest algorithm OSCI 1.2 allows. */
export function isDigestMethod(uri: string): boolean {
  return Object.hasOwn(DIGESTS, uri);
}

export function digestHash(uri: string): string {
  const hash = isDigestMethod(uri) ? DIGESTS[uri] : undefined; // own keys only: not "constructor" …
  if (!hash) throw new OsciError('SIGNATURE_ALGORITHM_UNSUPPORTED', `digest algorithm ${uri} is not allowed`);
  return hash;
}

export function digest(uri: string, data: Buffer | string): Buffer {
  return createHash(digestHash(uri)).update(data).digest();
}

export interface SignatureAlgorithm {
  readonly uri: string;
  readonly hash: string;
  readonly kind: 'rsa-pkcs1' | 'rsa-pss' | 'ecdsa';
}

export const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
export const RSA_PSS_SHA256 = 'http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1';

const SIGNATURES: readonly SignatureAlgorithm[] = [
  { uri: RSA_SHA256, hash: 'sha256', kind: 'rsa-pkcs1' },
  { uri: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512', hash: 'sha512', kind: 'rsa-pkcs1' },
  { uri: RSA_PSS_SHA256, hash: 'sha256', kind: 'rsa-pss' },
  { uri: 'http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1', hash: 'sha512', kind: 'rsa-pss' },
  { uri: 'http://www.w3.org/2007/05/xmldsig-more#sha3-256-rsa-MGF1', hash: 'sha3-256', kind: 'rsa-pss' },
  { uri: 'http://www.w3.org/2007/05/xmldsig-more#sha3-384-rsa-MGF1', hash: 'sha3-384', kind: 'rsa-pss' },
  { uri: 'http://www.w3.org/2007/05/xmldsig-more#sha3-512-rsa-MGF1', hash: 'sha3-512', kind: 'rsa-pss' },
  { uri: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256', hash: 'sha256', kind: 'ecdsa' },
  { uri: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512', hash: 'sha512', kind: 'ecdsa' },
];

export function signatureAlgorithm(uri: string): SignatureAlgorithm {
  const alg = SIGNATURES.find((a) => a.uri === uri);
  if (!alg) throw new OsciError('SIGNATURE_ALGORITHM_UNSUPPORTED', `signature algorithm ${uri} is not allowed`);
  return alg;
}

const HASH_BYTES: Record<string, number> = { sha256: 32, sha512: 64, 'sha3-256': 32, 'sha3-384': 48, 'sha3-512': 64 };

function keyOptions(alg: SignatureAlgorithm, key: KeyObject) {
  switch (alg.kind) {
    case 'rsa-pkcs1':
      return { key, padding: constants.RSA_PKCS1_PADDING };
    case 'rsa-pss':
      return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_BYTES[alg.hash] ?? 32 };
    case 'ecdsa':
      // XML-DSig carries ECDSA signatures as r ‖ s (RFC 4050 / RFC 6931), not DER.
      return { key, dsaEncoding: 'ieee-p1363' as const };
  }
}

export function verifySignatureValue(alg: SignatureAlgorithm, key: KeyObject, data: Buffer, signature: Buffer): boolean {
  try {
    return cryptoVerify(alg.hash, data, keyOptions(alg, key), signature);
  } catch {
    return false;
  }
}

export function createSignatureValue(alg: SignatureAlgorithm, key: KeyObject, data: Buffer): Buffer {
  return cryptoSign(alg.hash, data, keyOptions(alg, key));
}

/**
 * `createSignatureValue` on libuv's thread pool: the calling thread goes on with other work (e.g. decrypting a
 * message's content layer) while the private-key operation runs on another core.
 */
export function createSignatureValueAsync(alg: SignatureAlgorithm, key: KeyObject, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => cryptoSign(alg.hash, data, keyOptions(alg, key), (error, value) => (error ? reject(error) : resolve(value))));
}
