import type { X509Certificate } from 'node:crypto';
import { SOAP_ACTOR_NONE } from '../lib/namespaces.js';
import { sha256Hex } from '../pki/keystore.js';
import { base64Lines, element, headerBlock } from './xml-writer.js';

export type NonIntermediaryRole =
  | 'CipherCertificateOriginator'
  | 'CipherCertificateOtherAuthor'
  | 'CipherCertificateAddressee'
  | 'CipherCertificateOtherReader'
  | 'SignatureCertificateOriginator'
  | 'SignatureCertificateOtherAuthor'
  | 'SignatureCertificateAddressee';
export type IntermediaryRole = 'CipherCertificateIntermediary' | 'SignatureCertificateIntermediary';

/** Schema order of the certificate elements inside their blocks (order.xsd). */
const ORDER: ReadonlyArray<NonIntermediaryRole | IntermediaryRole> = [
  'CipherCertificateOriginator',
  'CipherCertificateOtherAuthor',
  'CipherCertificateAddressee',
  'CipherCertificateOtherReader',
  'SignatureCertificateOriginator',
  'SignatureCertificateOtherAuthor',
  'SignatureCertificateAddressee',
  'CipherCertificateIntermediary',
  'SignatureCertificateIntermediary',
];

const PREFIX: Record<NonIntermediaryRole | IntermediaryRole, string> = {
  CipherCertificateOriginator: 'originator_cipher',
  CipherCertificateOtherAuthor: 'author{n}_cipher',
  CipherCertificateAddressee: 'addressee_cipher',
  CipherCertificateOtherReader: 'reader{n}_cipher',
  SignatureCertificateOriginator: 'originator_signature',
  SignatureCertificateOtherAuthor: 'author{n}_signature',
  SignatureCertificateAddressee: 'addressee_signature',
  CipherCertificateIntermediary: 'intermed_cipher',
  SignatureCertificateIntermediary: 'intermed_signature',
};

export interface CertificateEntryInput {
  readonly role: NonIntermediaryRole | IntermediaryRole;
  readonly certificate: X509Certificate;
  /** Index for OtherAuthor/OtherReader roles (Id `reader0_cipher_…`). */
  readonly index?: number;
}

/** `<role>_<cipher|signature>_<hex SHA-256 of the DER certificate>`, as OSCI peers name certificate elements. */
export function certificateId(entry: CertificateEntryInput): string {
  return `${PREFIX[entry.role].replace('{n}', String(entry.index ?? 0))}_${sha256Hex(entry.certificate.raw)}`;
}

export function certificatesBlock(block: 'NonIntermediaryCertificates' | 'IntermediaryCertificates', entries: readonly CertificateEntryInput[]): string {
  const sorted = [...entries].sort((a, b) => ORDER.indexOf(a.role) - ORDER.indexOf(b.role) || (a.index ?? 0) - (b.index ?? 0));
  const seen = new Set<string>();
  let inner = '';
  for (const e of sorted) {
    const id = certificateId(e);
    if (seen.has(id)) continue;
    seen.add(id);
    inner += element(`osci:${e.role}`, [['Id', id]], `<ds:X509Data><ds:X509Certificate>${base64Lines(e.certificate.raw)}</ds:X509Certificate></ds:X509Data>`);
  }
  return headerBlock(block, block.toLowerCase(), [], inner, SOAP_ACTOR_NONE);
}
