import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import type forge from 'node-forge';
import { nodeForge } from './forge.js';
import { identityFromPem, type KeyIdentity } from './keystore.js';

/** A self-contained demo PKI: one CA and the cipher/signature identities of the parties of an OSCI delivery. */
export interface DemoPki {
  readonly ca: X509Certificate;
  readonly caPem: string;
  readonly intermediaryCipher: KeyIdentity;
  readonly intermediarySignature: KeyIdentity;
  readonly authorityCipher: KeyIdentity;
  readonly authoritySignature: KeyIdentity;
  readonly senderCipher: KeyIdentity;
  readonly senderSignature: KeyIdentity;
  /** PEM (certificate + PKCS#8 key) per identity, for writing to disk. */
  readonly pem: Readonly<Record<string, { readonly certificate: string; readonly privateKey: string }>>;
}

/**
 * Creates a demo PKI with node-forge certificates over Node-generated RSA keys (3072 bit, the BSI TR-02102 minimum;
 * generation takes a few seconds). For demos and tests only: real deployments use the keys of their PKI.
 */
export function createDemoPki(options: { readonly bits?: number; readonly validDays?: number } = {}): DemoPki {
  const bits = options.bits ?? 3072;
  const days = options.validDays ?? 3650;
  const caKeys = rsa(bits);
  const caName = [
    { name: 'commonName', value: 'efa-gateway Demo CA' },
    { name: 'organizationName', value: 'efa-gateway demo' },
    { name: 'countryName', value: 'DE' },
  ];
  const caCert = certificate(caKeys, caName, caName, caKeys.privateKey, days, true, 1);
  const pem: Record<string, { certificate: string; privateKey: string }> = {};
  let serial = 2;
  const issue = (name: string, usage: 'cipher' | 'signature'): KeyIdentity => {
    const keys = rsa(bits);
    const subject = [
      { name: 'commonName', value: name },
      { name: 'organizationName', value: 'efa-gateway demo' },
      { name: 'countryName', value: 'DE' },
    ];
    const certPem = certificate(keys, subject, caName, caKeys.privateKey, days, false, serial++, usage);
    const id = name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
    pem[id] = { certificate: certPem, privateKey: keys.pkcs8 };
    return identityFromPem(certPem, keys.pkcs8);
  };
  return {
    ca: new X509Certificate(caCert),
    caPem: caCert,
    intermediaryCipher: issue('Demo Intermediary Cipher', 'cipher'),
    intermediarySignature: issue('Demo Intermediary Signature', 'signature'),
    authorityCipher: issue('Demo Authority Cipher', 'cipher'),
    authoritySignature: issue('Demo Authority Signature', 'signature'),
    senderCipher: issue('Demo Online Service Cipher', 'cipher'),
    senderSignature: issue('Demo Online Service Signature', 'signature'),
    pem,
  };
}

interface RsaKeys {
  readonly forgePublic: forge.pki.PublicKey;
  readonly privateKey: forge.pki.PrivateKey;
  readonly pkcs8: string;
}

function rsa(bits: number): RsaKeys {
  const forge = nodeForge();
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { forgePublic: forge.pki.publicKeyFromPem(publicKey), privateKey: forge.pki.privateKeyFromPem(privateKey), pkcs8: privateKey };
}

function certificate(
  keys: RsaKeys,
  subject: forge.pki.CertificateField[],
  issuer: forge.pki.CertificateField[],
  signer: forge.pki.PrivateKey,
  days: number,
  ca: boolean,
  serial: number,
  usage?: 'cipher' | 'signature',
): string {
  const forge = nodeForge();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.forgePublic;
  cert.serialNumber = serial.toString(16).padStart(2, '0');
  const now = new Date();
  cert.validity.notBefore = new Date(now.getTime() - 60_000);
  cert.validity.notAfter = new Date(now.getTime() + days * 86_400_000);
  cert.setSubject(subject);
  cert.setIssuer(issuer);
  const extensions: object[] = [{ name: 'basicConstraints', cA: ca, critical: true }];
  if (ca) extensions.push({ name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true });
  else if (usage === 'cipher') extensions.push({ name: 'keyUsage', keyEncipherment: true, dataEncipherment: true, critical: true });
  else extensions.push({ name: 'keyUsage', digitalSignature: true, nonRepudiation: true, critical: true });
  extensions.push({ name: 'subjectKeyIdentifier' });
  cert.setExtensions(extensions);
  cert.sign(signer as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

/** PKCS#12 (AES-256, SHA-256 MAC) of a PEM key and certificate, e.g. to write a demo identity to disk. */
export function toPkcs12(certificatePem: string, privateKeyPem: string, passphrase: string, chain: readonly string[] = []): Buffer {
  const forge = nodeForge();
  const key = forge.pki.privateKeyFromPem(privateKeyPem);
  const certs = [certificatePem, ...chain].map((p) => forge.pki.certificateFromPem(p));
  const asn1 = forge.pkcs12.toPkcs12Asn1(key, certs, passphrase, { algorithm: 'aes256', generateLocalKeyId: true, friendlyName: 'efa-gateway' });
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}
