import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';

export interface TestTls {
  readonly caPem: string;
  readonly server: { readonly cert: string; readonly key: string };
  readonly client: { readonly cert: string; readonly key: string };
  readonly otherClient: { readonly cert: string; readonly key: string };
}

function keys() {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  return { pub: forge.pki.publicKeyFromPem(publicKey), priv: forge.pki.privateKeyFromPem(privateKey), pem: privateKey };
}

function cert(subject: string, pub: forge.pki.PublicKey, issuer: string, signer: forge.pki.PrivateKey, extensions: object[], serial: string): string {
  const c = forge.pki.createCertificate();
  c.publicKey = pub;
  c.serialNumber = serial;
  c.validity.notBefore = new Date(Date.now() - 60_000);
  c.validity.notAfter = new Date(Date.now() + 86_400_000);
  c.setSubject([{ name: 'commonName', value: subject }]);
  c.setIssuer([{ name: 'commonName', value: issuer }]);
  c.setExtensions(extensions);
  c.sign(signer as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(c);
}

/** A throw-away CA with a server certificate for 127.0.0.1/localhost and two client certificates (one from another CA). */
export function createTestTls(): TestTls {
  const ca = keys();
  const caPem = cert('efa test CA', ca.pub, 'efa test CA', ca.priv, [{ name: 'basicConstraints', cA: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true }], '01');
  const s = keys();
  const server = cert('localhost', s.pub, 'efa test CA', ca.priv, [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }, { name: 'extKeyUsage', serverAuth: true }], '02');
  const c = keys();
  const client = cert('fachverfahren-client', c.pub, 'efa test CA', ca.priv, [{ name: 'extKeyUsage', clientAuth: true }], '03');
  const other = keys();
  const rogueCa = keys();
  const otherClient = cert('rogue-client', other.pub, 'rogue CA', rogueCa.priv, [{ name: 'extKeyUsage', clientAuth: true }], '04');
  return { caPem, server: { cert: server, key: s.pem }, client: { cert: client, key: c.pem }, otherClient: { cert: otherClient, key: other.pem } };
}
