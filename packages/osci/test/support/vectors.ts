import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCertificate, loadPkcs12, type KeyIdentity } from '../../src/pki/keystore.js';
import { TrustStore } from '../../src/pki/trust.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The shared conformance material, read in place (never copied into the project). */
export const SHARED_DIR = resolve(process.env.EFA_SHARED_DIR ?? join(here, '../../../../../shared'));
export const VECTORS_DIR = join(SHARED_DIR, 'osci-vectors');
export const PKI_DIR = join(VECTORS_DIR, 'pki');
export const SCHEMA_DIR = join(SHARED_DIR, 'schemas');
export const DEMO_PIN = '123456';

export interface VectorCase {
  case: string;
  kind: 'positive' | 'negative';
  order: string;
  dir: string;
  derived_from?: string;
}

export function vectorIndex(): VectorCase[] {
  return (JSON.parse(readFileSync(join(VECTORS_DIR, 'cases/index.json'), 'utf8')) as { cases: VectorCase[] }).cases;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function vectorMeta(c: VectorCase): any {
  return JSON.parse(readFileSync(join(VECTORS_DIR, 'cases', c.dir, 'meta.json'), 'utf8'));
}

export function vectorFile(c: VectorCase, name: string): Buffer {
  return readFileSync(join(VECTORS_DIR, 'cases', c.dir, name));
}

const keyCache = new Map<string, KeyIdentity>();
/** A demo PKI identity by file stem, e.g. `bob_cipher_4096`. */
export function demoKey(stem: string): KeyIdentity {
  let key = keyCache.get(stem);
  if (!key) {
    key = loadPkcs12(readFileSync(join(PKI_DIR, `${stem}.p12`)), DEMO_PIN);
    keyCache.set(stem, key);
  }
  return key;
}

export function demoCertificatePath(stem: string): string {
  return join(PKI_DIR, `${stem}.cer`);
}

export function demoCertificate(stem: string) {
  return loadCertificate(readFileSync(demoCertificatePath(stem)));
}

/** Trust anchored in the demo PKI's Governikus root, with its issuing CA as intermediate. */
export function demoTrust(): TrustStore {
  const pem = (name: string) => loadCertificate(readFileSync(join(PKI_DIR, 'pem', name)));
  return new TrustStore([pem('governikus_root_ca_3_pn.cert.pem')], [pem('governikus_ca_8_pn.cert.pem')]);
}

/** The keys of the party that receives a vector's order: the intermediary for StoreDelivery, bob otherwise. */
export function recipientKeys(c: VectorCase): KeyIdentity[] {
  return c.order === 'StoreDelivery' ? [demoKey('osci_manager_cipher_4096'), demoKey('bob_cipher_4096')] : [demoKey('bob_cipher_4096')];
}

export function camelOrder(order: string): string {
  return order.charAt(0).toLowerCase() + order.slice(1);
}
