import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSignatureValue, signatureAlgorithm, verifySignatureValue, digest } from '../src/xmldsig/algorithms.js';
import { AES128_GCM, AES192_GCM, AES256_GCM, encryptGcm, symmetricAlgorithm } from '../src/xmlenc/algorithms/symmetric.js';
import { oaepHash, RSA_OAEP, unwrapKey, wrapKey } from '../src/xmlenc/algorithms/key-transport.js';
import { demoKey } from './support/vectors.js';

describe('signature algorithms', () => {
  const data = Buffer.from('<ds:SignedInfo>…</ds:SignedInfo>');
  it.each([
    ['http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256', 'P-256', 64],
    ['http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512', 'P-521', 132],
  ])('%s signs as r‖s (XML-DSig encoding) and verifies', (uri, curve, length) => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
    const alg = signatureAlgorithm(uri);
    const value = createSignatureValue(alg, privateKey, data);
    expect(value.length).toBe(length);
    expect(verifySignatureValue(alg, publicKey, data, value)).toBe(true);
    expect(verifySignatureValue(alg, publicKey, Buffer.from('other'), value)).toBe(false);
  });

  it.each(['http://www.w3.org/2001/04/xmldsig-more#rsa-sha512', 'http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1', 'http://www.w3.org/2007/05/xmldsig-more#sha3-256-rsa-MGF1'])(
    '%s round-trips with an RSA key',
    (uri) => {
      const key = demoKey('alice_signature_4096');
      const alg = signatureAlgorithm(uri);
      expect(verifySignatureValue(alg, key.certificate.publicKey, data, createSignatureValue(alg, key.privateKey, data))).toBe(true);
    },
  );

  it('looks algorithm URIs up among its own entries only: "constructor", "__proto__" … are unsupported, not Object members', () => {
    for (const uri of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expect(() => digest(uri, 'x'), uri).toThrow(expect.objectContaining({ reason: 'SIGNATURE_ALGORITHM_UNSUPPORTED' }));
      expect(() => signatureAlgorithm(uri), uri).toThrow(expect.objectContaining({ reason: 'SIGNATURE_ALGORITHM_UNSUPPORTED' }));
      expect(() => symmetricAlgorithm(uri), uri).toThrow(expect.objectContaining({ reason: 'ALGORITHM_UNSUPPORTED' }));
      expect(() => oaepHash({ algorithm: RSA_OAEP, digestMethod: uri, mgf: uri }), uri).toThrow(expect.objectContaining({ reason: 'ALGORITHM_UNSUPPORTED' }));
    }
  });

  it('refuses SHA-1 signatures and digests (removed by OSCI Korrigenda)', () => {
    expect(() => signatureAlgorithm('http://www.w3.org/2000/09/xmldsig#rsa-sha1')).toThrow(expect.objectContaining({ reason: 'SIGNATURE_ALGORITHM_UNSUPPORTED' }));
    expect(() => digest('http://www.w3.org/2000/09/xmldsig#sha1', 'x')).toThrow(expect.objectContaining({ reason: 'SIGNATURE_ALGORITHM_UNSUPPORTED' }));
  });
});

describe('encryption algorithms', () => {
  it.each([
    [AES128_GCM, 16, 12],
    [AES192_GCM, 24, 12],
    [AES256_GCM, 32, 16],
  ])('%s with IV %i… decrypts what it encrypts, whole and in slices, and detects tampering', (uri, keyBytes, ivLength) => {
    const key = randomBytes(keyBytes);
    const plain = randomBytes(200_000);
    const sealed = encryptGcm(uri, key, randomBytes(ivLength), plain);
    const alg = symmetricAlgorithm(uri);
    expect(alg.decrypt(key, sealed, ivLength).equals(plain)).toBe(true);
    const slices: Buffer[] = [];
    expect(alg.decryptChunks(key, sealed, ivLength, (c) => slices.push(Buffer.from(c)))).toBe(plain.length);
    expect(Buffer.concat(slices).equals(plain)).toBe(true);
    sealed[sealed.length - 20]! ^= 1;
    expect(() => alg.decrypt(key, sealed, ivLength)).toThrow();
  });

  it('RSA-OAEP uses one hash for digest and MGF1 and refuses mixed ones', () => {
    expect(oaepHash({ algorithm: RSA_OAEP, digestMethod: 'http://www.w3.org/2001/04/xmlenc#sha512', mgf: 'http://www.w3.org/2009/xmlenc11#mgf1sha512' })).toBe('sha512');
    expect(() => oaepHash({ algorithm: RSA_OAEP, digestMethod: 'http://www.w3.org/2001/04/xmlenc#sha256', mgf: 'http://www.w3.org/2009/xmlenc11#mgf1sha1' })).toThrow(
      expect.objectContaining({ reason: 'ALGORITHM_UNSUPPORTED' }),
    );
    const bob = demoKey('bob_cipher_4096');
    const key = randomBytes(32);
    const wrapped = wrapKey(bob.certificate.publicKey, key, 'sha512');
    const params = { algorithm: RSA_OAEP, digestMethod: 'http://www.w3.org/2001/04/xmlenc#sha512', mgf: 'http://www.w3.org/2009/xmlenc11#mgf1sha512' };
    expect(unwrapKey(params, bob, wrapped, 'TRANSPORT_DECRYPT_FAILED').equals(key)).toBe(true);
    expect(() => unwrapKey({ ...params, digestMethod: 'http://www.w3.org/2001/04/xmlenc#sha256', mgf: 'http://www.w3.org/2009/xmlenc11#mgf1sha256' }, bob, wrapped, 'TRANSPORT_DECRYPT_FAILED')).toThrow(
      expect.objectContaining({ code: '9202' }),
    );
  });

  it('never produces legacy algorithms', () => {
    expect(() => encryptGcm('http://www.w3.org/2001/04/xmlenc#aes256-cbc', randomBytes(32), randomBytes(16), Buffer.alloc(1))).toThrow(expect.objectContaining({ reason: 'BUILD_INVALID_INPUT' }));
  });
});
