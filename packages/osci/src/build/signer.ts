import { OsciError } from '../lib/errors.js';
import { NS } from '../lib/namespaces.js';
import { childNamed, collectIds, parseXml, type Element } from '../lib/xml.js';
import { DEFAULT_LIMITS } from '../lib/limits.js';
import type { KeyIdentity } from '../pki/keystore.js';
import type { KeyObject } from 'node:crypto';
import { createSignatureValue, digest, DIGEST_SHA256, RSA_SHA256, signatureAlgorithm, type SignatureAlgorithm } from '../xmldsig/algorithms.js';
import { C14N_INCLUSIVE, canonicalize } from '../xmldsig/c14n.js';
import { base64Lines, element } from './xml-writer.js';

const TRANSFORM_BASE64 = 'http://www.w3.org/2000/09/xmldsig#base64';

export interface SignatureSpec {
  readonly identity: KeyIdentity;
  /** Signature algorithm URI. @defaultValue rsa-sha256 */
  readonly algorithm?: string;
  /** Id of the certificate element (in NonIntermediary/IntermediaryCertificates) holding the signer certificate. */
  readonly certificateId: string;
}

export type ReferenceSpec =
  | { readonly kind: 'c14n'; readonly id: string }
  | { readonly kind: 'base64'; readonly id: string }
  | { readonly kind: 'cid'; readonly contentId: string; readonly bytes: Buffer };

/**
 * A signature prepared up to its value: the canonical SignedInfo to sign with `key`, and `complete`, which places the
 * value and returns the signed document. Lets the private-key operation run elsewhere (see createSignatureValueAsync).
 */
export interface PendingSignature {
  readonly algorithm: SignatureAlgorithm;
  readonly key: KeyObject;
  readonly signedInfo: Buffer;
  complete(value: Buffer): string;
}

/**
 * Signs a document given as text: `placeholder` (an empty element string occurring exactly once) is replaced by
 * `wrap(<ds:Signature>…)`. Reference digests are computed on the parsed document with the same inclusive C14N
 * the verifier uses; SignedInfo is canonicalized in its final position.
 */
export function signDocument(
  xml: string,
  placeholder: string,
  wrap: (signature: string) => string,
  references: readonly ReferenceSpec[],
  spec: SignatureSpec,
): string {
  const pending = prepareSignature(xml, placeholder, wrap, references, spec);
  return pending.complete(createSignatureValue(pending.algorithm, pending.key, pending.signedInfo));
}

/** `signDocument` without the private-key operation: everything before it, and what follows it as `complete`. */
export function prepareSignature(
  xml: string,
  placeholder: string,
  wrap: (signature: string) => string,
  references: readonly ReferenceSpec[],
  spec: SignatureSpec,
): PendingSignature {
  const first = xml.indexOf(placeholder);
  if (first === -1 || xml.indexOf(placeholder, first + 1) !== -1) throw new OsciError('BUILD_INVALID_INPUT', 'signature placeholder must occur exactly once');
  const algorithm = spec.algorithm ?? RSA_SHA256;
  const alg = signatureAlgorithm(algorithm);
  const doc = parseXml(xml, DEFAULT_LIMITS, 'document to sign');
  const ids = collectIds(doc.documentElement!);

  let signedInfo = `<ds:SignedInfo>\n${element('ds:CanonicalizationMethod', [['Algorithm', C14N_INCLUSIVE]])}\n${element('ds:SignatureMethod', [['Algorithm', algorithm]])}\n`;
  for (const ref of references) {
    let uri: string;
    let transform: string | undefined;
    let data: Buffer | string;
    if (ref.kind === 'cid') {
      uri = `cid:${ref.contentId}`;
      data = ref.bytes;
    } else {
      const target = ids.get(ref.id);
      if (!target) throw new OsciError('BUILD_INVALID_INPUT', `nothing to sign with Id ${ref.id}`);
      uri = `#${ref.id}`;
      transform = ref.kind === 'c14n' ? C14N_INCLUSIVE : TRANSFORM_BASE64;
      data = ref.kind === 'c14n' ? canonicalize(target) : Buffer.from((target.textContent ?? '').replace(/\s+/g, ''), 'base64');
    }
    signedInfo += `<ds:Reference URI="${uri}">\n`;
    if (transform) signedInfo += `<ds:Transforms>\n${element('ds:Transform', [['Algorithm', transform]])}\n</ds:Transforms>\n`;
    signedInfo += `${element('ds:DigestMethod', [['Algorithm', DIGEST_SHA256]])}\n<ds:DigestValue>${digest(DIGEST_SHA256, data).toString('base64')}</ds:DigestValue>\n</ds:Reference>\n`;
  }
  signedInfo += '</ds:SignedInfo>';

  const VALUE_MARK = 'SIGNATURE-VALUE-PENDING';
  const keyInfo = `<ds:KeyInfo>${element('ds:RetrievalMethod', [['URI', `#${spec.certificateId}`]])}</ds:KeyInfo>`;
  const signature = `<ds:Signature>${signedInfo}<ds:SignatureValue>${VALUE_MARK}</ds:SignatureValue>${keyInfo}</ds:Signature>`;
  const withSignedInfo = xml.replace(placeholder, () => wrap(signature));
  const placed = parseXml(withSignedInfo, DEFAULT_LIMITS, 'signed document');
  const signedInfoEl = findSignedInfo(placed.documentElement!, VALUE_MARK);
  return {
    algorithm: alg,
    key: spec.identity.privateKey,
    signedInfo: Buffer.from(canonicalize(signedInfoEl), 'utf8'),
    complete: (value) => withSignedInfo.replace(VALUE_MARK, base64Lines(value)),
  };
}

function findSignedInfo(root: Element, mark: string): Element {
  for (const v of root.getElementsByTagNameNS(NS.ds, 'SignatureValue')) {
    if (v.textContent === mark) {
      const si = childNamed(v.parentNode as Element, NS.ds, 'SignedInfo');
      if (si) return si;
    }
  }
  throw new OsciError('INTERNAL', 'SignedInfo not found after placing the signature');
}
