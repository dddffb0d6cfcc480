import { OsciError } from '../lib/errors.js';
import { NS } from '../lib/namespaces.js';
import { attr, childNamed, decodeBase64Text, elementChildren, is, requireChild, textOf, type Element } from '../lib/xml.js';
import { isLegacyKeyTransport, type KeyTransportParams } from './algorithms/key-transport.js';
import { symmetricAlgorithm, type SymmetricAlgorithm } from './algorithms/symmetric.js';

/** Where the recipient of an EncryptedKey is named. */
export type KeyRecipientRef =
  | { readonly kind: 'certificate'; readonly der: Buffer }
  | { readonly kind: 'retrieval'; readonly uri: string }
  | { readonly kind: 'none' };

export interface EncryptedKeyInfo {
  readonly transport: KeyTransportParams;
  readonly recipient: KeyRecipientRef;
  readonly cipherValue: Buffer;
}

export type CipherSource = { readonly kind: 'value'; readonly value: Buffer } | { readonly kind: 'reference'; readonly uri: string };

/** A parsed `xenc:EncryptedData`, ready to be decrypted once the cipher bytes and a key are at hand. */
export interface EncryptedDataInfo {
  readonly element: Element;
  readonly id: string | undefined;
  readonly mimeType: string | undefined;
  readonly algorithm: SymmetricAlgorithm;
  /** GCM IV length from `osci128:IvLength` (absent ⇒ 16, as OSCI 1.2 Korrigenda 6 prescribes). */
  readonly ivLength: number;
  readonly ivLengthExplicit: boolean;
  readonly encryptedKeys: readonly EncryptedKeyInfo[];
  /** Raw symmetric key carried in `ds:KeyInfo/ds:MgmtData` (OSCI attachments). */
  readonly mgmtKey: Buffer | undefined;
  readonly cipher: CipherSource;
}

export function parseEncryptedData(el: Element): EncryptedDataInfo {
  if (!is(el, NS.xenc, 'EncryptedData')) throw new OsciError('ENVELOPE_INVALID', `expected xenc:EncryptedData, found ${el.tagName}`);
  const method = requireChild(el, NS.xenc, 'EncryptionMethod');
  const algorithmUri = attr(method, 'Algorithm');
  if (!algorithmUri) throw new OsciError('ENVELOPE_INVALID', 'EncryptionMethod has no Algorithm');
  const algorithm = symmetricAlgorithm(algorithmUri);
  const ivEl = childNamed(method, NS.osci128, 'IvLength');
  let ivLength = algorithm.legacy ? (algorithmUri.endsWith('tripledes-cbc') ? 8 : 16) : 16;
  if (ivEl) {
    const v = Number(attr(ivEl, 'Value'));
    if (v !== 12 && v !== 16) throw new OsciError('ENVELOPE_INVALID', `IvLength ${attr(ivEl, 'Value')} is not 12 or 16`);
    ivLength = v;
  }
  const keyInfo = childNamed(el, NS.ds, 'KeyInfo');
  const encryptedKeys: EncryptedKeyInfo[] = [];
  let mgmtKey: Buffer | undefined;
  if (keyInfo) {
    for (const c of elementChildren(keyInfo)) {
      if (is(c, NS.xenc, 'EncryptedKey')) encryptedKeys.push(parseEncryptedKey(c));
      else if (is(c, NS.ds, 'MgmtData')) mgmtKey = decodeBase64Text(textOf(c), 'MgmtData');
    }
  }
  return {
    element: el,
    id: attr(el, 'Id'),
    mimeType: attr(el, 'MimeType'),
    algorithm,
    ivLength,
    ivLengthExplicit: ivEl !== undefined,
    encryptedKeys,
    mgmtKey,
    cipher: parseCipherData(requireChild(el, NS.xenc, 'CipherData')),
  };
}

function parseEncryptedKey(el: Element): EncryptedKeyInfo {
  const method = requireChild(el, NS.xenc, 'EncryptionMethod');
  const algorithm = attr(method, 'Algorithm');
  if (!algorithm) throw new OsciError('ENVELOPE_INVALID', 'EncryptedKey/EncryptionMethod has no Algorithm');
  const digest = childNamed(method, NS.ds, 'DigestMethod');
  const mgf = childNamed(method, NS.xenc11, 'MGF');
  let recipient: KeyRecipientRef = { kind: 'none' };
  const keyInfo = childNamed(el, NS.ds, 'KeyInfo');
  if (keyInfo) {
    const x509 = childNamed(keyInfo, NS.ds, 'X509Data');
    const retrieval = childNamed(keyInfo, NS.ds, 'RetrievalMethod');
    if (x509) recipient = { kind: 'certificate', der: decodeBase64Text(textOf(requireChild(x509, NS.ds, 'X509Certificate')), 'X509Certificate') };
    else if (retrieval) recipient = { kind: 'retrieval', uri: attr(retrieval, 'URI') ?? '' };
  }
  const cipher = parseCipherData(requireChild(el, NS.xenc, 'CipherData'));
  if (cipher.kind !== 'value') throw new OsciError('ENVELOPE_INVALID', 'EncryptedKey must carry a CipherValue');
  return {
    transport: { algorithm, digestMethod: digest ? attr(digest, 'Algorithm') : undefined, mgf: mgf ? attr(mgf, 'Algorithm') : undefined },
    recipient,
    cipherValue: cipher.value,
  };
}

function parseCipherData(el: Element): CipherSource {
  const value = childNamed(el, NS.xenc, 'CipherValue');
  if (value) return { kind: 'value', value: decodeBase64Text(textOf(value), 'CipherValue') };
  const ref = childNamed(el, NS.xenc, 'CipherReference');
  const uri = ref ? attr(ref, 'URI') : undefined;
  if (!uri) throw new OsciError('ENVELOPE_INVALID', 'CipherData has neither CipherValue nor CipherReference URI');
  return { kind: 'reference', uri };
}

/** Whether decrypting this EncryptedData needs a deprecated algorithm. */
export function usesLegacyAlgorithm(info: EncryptedDataInfo, key?: EncryptedKeyInfo): boolean {
  return info.algorithm.legacy || (key !== undefined && isLegacyKeyTransport(key.transport.algorithm));
}
