import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import type forge from 'node-forge';
import { nodeForge } from './forge.js';
import { OsciError } from '../lib/errors.js';

/** A private key with its certificate, e.g. one tenant's cipher or signature identity. */
export interface KeyIdentity {
  readonly certificate: X509Certificate;
  /** DER bytes of the certificate. */
  readonly certificateDer: Buffer;
  /** Lower-case hex SHA-256 of the DER certificate (OSCI builds certificate-element Ids from it). */
  readonly certificateSha256: string;
  readonly privateKey: KeyObject;
  /** PKCS#1 v1.5 RSA decryption for legacy `rsa-1_5` key transport (Node refuses it since 20.11). */
  readonly legacyRsaDecrypt: (ciphertext: Buffer) => Buffer;
}

export function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Loads a PKCS#12 file (as OSCI PKIs ship them, including the legacy RC2-40 certificate bags that
 * OpenSSL 3 refuses without `-legacy`) and returns the private key with the certificate that matches it.
 */
export function loadPkcs12(data: Buffer, passphrase: string): KeyIdentity {
  const forge = nodeForge();
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    const asn1 = forge.asn1.fromDer(forge.util.createBuffer(data.toString('binary')));
    p12 = forge.pkcs12.pkcs12FromAsn1(asn1, false, passphrase);
  } catch (error) {
    throw new OsciError('KEYSTORE_INVALID', 'PKCS#12 could not be opened (wrong passphrase or unsupported format)', { cause: error });
  }
  const bagsOf = (oid: string | undefined) => (oid ? (p12.getBags({ bagType: oid })[oid] ?? []) : []);
  const keyBags = [...bagsOf(forge.pki.oids.pkcs8ShroudedKeyBag), ...bagsOf(forge.pki.oids.keyBag)];
  const certBags = bagsOf(forge.pki.oids.certBag);
  const forgeKey = keyBags.find((b) => b.key)?.key as forge.pki.rsa.PrivateKey | undefined;
  if (!forgeKey) throw new OsciError('KEYSTORE_INVALID', 'PKCS#12 contains no (RSA) private key');
  const privateKey = createPrivateKey(forge.pki.privateKeyToPem(forgeKey));
  for (const bag of certBags) {
    if (!bag.cert) continue;
    const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(bag.cert)).getBytes(), 'binary');
    const certificate = new X509Certificate(der);
    if (certificate.checkPrivateKey(privateKey)) return identity(certificate, der, privateKey, () => forgeKey);
  }
  throw new OsciError('KEYSTORE_INVALID', 'PKCS#12 contains no certificate matching its private key');
}

/** Builds an identity from PEM/DER material (keys generated at run time, tests). */
export function identityFromPem(certificatePem: string | Buffer, privateKeyPem: string): KeyIdentity {
  const certificate = new X509Certificate(certificatePem);
  const privateKey = createPrivateKey(privateKeyPem);
  if (!certificate.checkPrivateKey(privateKey)) throw new OsciError('KEYSTORE_INVALID', 'certificate does not match the private key');
  let forgeKey: forge.pki.rsa.PrivateKey | undefined;
  return identity(certificate, certificate.raw, privateKey, () => (forgeKey ??= nodeForge().pki.privateKeyFromPem(privateKeyPem) as forge.pki.rsa.PrivateKey));
}

function identity(certificate: X509Certificate, der: Buffer, privateKey: KeyObject, forgeKey: () => forge.pki.rsa.PrivateKey): KeyIdentity {
  return Object.freeze({
    certificate,
    certificateDer: der,
    certificateSha256: sha256Hex(der),
    privateKey,
    legacyRsaDecrypt: (ciphertext: Buffer) => Buffer.from(forgeKey().decrypt(ciphertext.toString('binary'), 'RSAES-PKCS1-V1_5'), 'binary'),
  });
}

/** Reads a DER or PEM certificate. */
export function loadCertificate(data: Buffer): X509Certificate {
  try {
    return new X509Certificate(data);
  } catch (error) {
    throw new OsciError('CERTIFICATE_INVALID', 'certificate could not be parsed', { cause: error });
  }
}

/** Finds the identity whose certificate is byte-identical to `der`. */
export function findIdentityByCertificate(identities: readonly KeyIdentity[], der: Buffer): KeyIdentity | undefined {
  return identities.find((k) => k.certificateDer.equals(der));
}
