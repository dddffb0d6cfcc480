import { constants, privateDecrypt, publicEncrypt, type KeyObject } from 'node:crypto';
import { OsciError } from '../../lib/errors.js';
import type { KeyIdentity } from '../../pki/keystore.js';

export const RSA_OAEP = 'http://www.w3.org/2009/xmlenc11#rsa-oaep';
export const RSA_OAEP_MGF1P = 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p';
export const RSA_1_5 = 'http://www.w3.org/2001/04/xmlenc#rsa-1_5';

const DIGESTS: Record<string, string> = {
  'http://www.w3.org/2000/09/xmldsig#sha1': 'sha1',
  'http://www.w3.org/2001/04/xmlenc#sha256': 'sha256',
  'http://www.w3.org/2001/04/xmldsig-more#sha384': 'sha384',
  'http://www.w3.org/2001/04/xmlenc#sha512': 'sha512',
};
const MGFS: Record<string, string> = {
  'http://www.w3.org/2009/xmlenc11#mgf1sha1': 'sha1',
  'http://www.w3.org/2009/xmlenc11#mgf1sha256': 'sha256',
  'http://www.w3.org/2009/xmlenc11#mgf1sha384': 'sha384',
  'http://www.w3.org/2009/xmlenc11#mgf1sha512': 'sha512',
};

export const DIGEST_URI_BY_HASH: Record<string, string> = { sha256: 'http://www.w3.org/2001/04/xmlenc#sha256', sha512: 'http://www.w3.org/2001/04/xmlenc#sha512' };
export const MGF_URI_BY_HASH: Record<string, string> = { sha256: 'http://www.w3.org/2009/xmlenc11#mgf1sha256', sha512: 'http://www.w3.org/2009/xmlenc11#mgf1sha512' };

export interface KeyTransportParams {
  readonly algorithm: string;
  readonly digestMethod?: string | undefined;
  readonly mgf?: string | undefined;
}

export function isLegacyKeyTransport(algorithm: string): boolean {
  return algorithm === RSA_1_5;
}

/** The OAEP hash a key transport method resolves to (digest and MGF1 must agree: Node uses one hash for both). */
export function oaepHash(params: KeyTransportParams): string {
  const defaultDigest = 'sha1';
  // Own keys only: an algorithm URI such as "constructor" must not find Object's members.
  const digest = params.digestMethod ? (Object.hasOwn(DIGESTS, params.digestMethod) ? DIGESTS[params.digestMethod] : undefined) : defaultDigest;
  if (!digest) throw new OsciError('ALGORITHM_UNSUPPORTED', `OAEP digest ${params.digestMethod} is not supported`);
  const mgf = params.algorithm === RSA_OAEP_MGF1P ? 'sha1' : params.mgf ? (Object.hasOwn(MGFS, params.mgf) ? MGFS[params.mgf] : undefined) : 'sha1';
  if (!mgf) throw new OsciError('ALGORITHM_UNSUPPORTED', `OAEP mask generation ${params.mgf} is not supported`);
  if (mgf !== digest) throw new OsciError('ALGORITHM_UNSUPPORTED', `OAEP with digest ${digest} and MGF1-${mgf} is not supported`);
  return digest;
}

/** Unwraps a symmetric key. Throws OsciError(failure) on any RSA failure, without telling padding errors apart. */
export function unwrapKey(params: KeyTransportParams, identity: KeyIdentity, wrapped: Buffer, failure: 'TRANSPORT_DECRYPT_FAILED' | 'CONTENT_DECRYPT_FAILED'): Buffer {
  if (params.algorithm === RSA_1_5) {
    try {
      return identity.legacyRsaDecrypt(wrapped);
    } catch (error) {
      throw new OsciError(failure, 'the encrypted key could not be decrypted', { cause: error });
    }
  }
  if (params.algorithm !== RSA_OAEP && params.algorithm !== RSA_OAEP_MGF1P) {
    throw new OsciError('ALGORITHM_UNSUPPORTED', `key transport ${params.algorithm} is not supported`);
  }
  const hash = oaepHash(params);
  try {
    return privateDecrypt({ key: identity.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, wrapped);
  } catch (error) {
    throw new OsciError(failure, 'the encrypted key could not be decrypted', { cause: error });
  }
}

/** RSA-OAEP key wrap for building messages (never rsa-1_5). */
export function wrapKey(publicKey: KeyObject, key: Buffer, hash: 'sha256' | 'sha512' = 'sha256'): Buffer {
  return publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, key);
}
