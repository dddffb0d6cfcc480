import type { X509Certificate } from 'node:crypto';
import { OsciError } from '../lib/errors.js';
import { NS } from '../lib/namespaces.js';
import { attr, childrenNamed, decodeBase64Text, elementChildren, is, textOf, type Document, type Element } from '../lib/xml.js';
import { formatName } from '../pki/trust.js';
import { parseCertificateCached } from '../pki/certificate-cache.js';
import { digest, signatureAlgorithm, verifySignatureValue } from './algorithms.js';
import { C14N_INCLUSIVE, canonicalize } from './c14n.js';

const TRANSFORM_BASE64 = 'http://www.w3.org/2000/09/xmldsig#base64';

export interface ReferenceResult {
  readonly uri: string;
  readonly valid: boolean;
  readonly problem?: string;
}

export interface SignatureVerification {
  /** SignatureValue and every reference digest verified. */
  readonly valid: boolean;
  readonly algorithm: string;
  readonly signer: X509Certificate | undefined;
  readonly signerName: string | undefined;
  readonly references: readonly ReferenceResult[];
  readonly problems: readonly string[];
  /** Ids of elements whose digest verified: consumers must only use what is listed here. */
  readonly verifiedIds: ReadonlySet<string>;
  /** `cid:` Content-IDs whose bytes verified. */
  readonly verifiedCids: ReadonlySet<string>;
}

export interface SignatureContext {
  /** Id → element of the document(s) the signature may reference. Built with duplicate detection. */
  readonly ids: ReadonlyMap<string, Element>;
  /**
   * Digest of the bytes a `cid:` reference covers (transmitted part for order signatures, plaintext for content
   * signatures), computed by the caller so that large attachments are hashed in the same pass that decrypts them.
   */
  readonly digestCid: (contentId: string, digestMethod: string) => Buffer | undefined;
  /** Certificate elements a `ds:RetrievalMethod` may point to (certificate blocks of the envelope). */
  readonly resolveCertificateElement: (id: string) => Element | undefined;
  readonly maxReferences: number;
  /**
   * Digests of referenced elements computed by earlier signatures over the same document, by element and by
   * transform and digest method: several signatures over one Content canonicalize it once. Pass one map to every
   * signature of a document to share them.
   */
  readonly digests?: Map<Element, Map<string, Buffer>>;
}

/**
 * Verifies one `ds:Signature` as OSCI uses it: inclusive C14N 1.0 of SignedInfo, `#id` references with
 * C14N (or base64 for Base64Content), `cid:` references over raw bytes. Structural ambiguity (several
 * SignedInfo, unknown transforms, references resolving to nothing) makes the signature invalid.
 * The signer certificate comes from the message and is NOT trusted here: check it with a TrustStore.
 */
export function verifySignature(signature: Element, ctx: SignatureContext): SignatureVerification {
  const problems: string[] = [];
  const references: ReferenceResult[] = [];
  const verifiedIds = new Set<string>();
  const verifiedCids = new Set<string>();
  const fail = (problem: string, algorithm = ''): SignatureVerification => ({
    valid: false,
    algorithm,
    signer: undefined,
    signerName: undefined,
    references,
    problems: [...problems, problem],
    verifiedIds: new Set(),
    verifiedCids: new Set(),
  });

  const signedInfos = childrenNamed(signature, NS.ds, 'SignedInfo');
  const values = childrenNamed(signature, NS.ds, 'SignatureValue');
  if (signedInfos.length !== 1 || values.length !== 1) return fail('a signature must have exactly one SignedInfo and one SignatureValue');
  const signedInfo = signedInfos[0]!;
  const c14nMethods = childrenNamed(signedInfo, NS.ds, 'CanonicalizationMethod');
  if (c14nMethods.length !== 1 || attr(c14nMethods[0]!, 'Algorithm') !== C14N_INCLUSIVE) return fail('SignedInfo must use inclusive C14N 1.0');
  const methods = childrenNamed(signedInfo, NS.ds, 'SignatureMethod');
  if (methods.length !== 1) return fail('SignedInfo must have one SignatureMethod');
  const algorithmUri = attr(methods[0]!, 'Algorithm') ?? '';
  let alg;
  try {
    alg = signatureAlgorithm(algorithmUri);
  } catch (error) {
    return fail((error as Error).message, algorithmUri);
  }

  const signer = resolveSigner(signature, ctx);
  if (!signer) return fail('the signer certificate could not be resolved from KeyInfo', algorithmUri);
  let signatureValue: Buffer;
  try {
    signatureValue = decodeBase64Text(textOf(values[0]!), 'SignatureValue');
  } catch {
    return fail('SignatureValue is not base64', algorithmUri);
  }
  const canonicalSignedInfo = Buffer.from(canonicalize(signedInfo), 'utf8');
  const valueOk = verifySignatureValue(alg, signer.publicKey, canonicalSignedInfo, signatureValue);
  if (!valueOk) problems.push('SignatureValue does not verify with the signer certificate');

  const refEls = childrenNamed(signedInfo, NS.ds, 'Reference');
  if (refEls.length === 0) problems.push('SignedInfo has no Reference');
  if (refEls.length > ctx.maxReferences) return fail(`more than ${ctx.maxReferences} references`, algorithmUri);
  const overlap = overlappingReference(refEls, ctx.ids);
  if (overlap) return fail(overlap, algorithmUri);
  const seenUris = new Set<string>();
  for (const ref of refEls) {
    const result = verifyReference(ref, ctx, seenUris);
    references.push(result);
    if (!result.valid) problems.push(`reference ${result.uri}: ${result.problem ?? 'invalid'}`);
    else if (valueOk) {
      if (result.uri.startsWith('#')) verifiedIds.add(result.uri.slice(1));
      else verifiedCids.add(result.uri.slice(4));
    }
  }
  const valid = valueOk && problems.length === 0;
  return {
    valid,
    algorithm: algorithmUri,
    signer,
    signerName: formatName(signer.subject),
    references,
    problems,
    verifiedIds: valid ? verifiedIds : new Set(),
    verifiedCids: valid ? verifiedCids : new Set(),
  };
}

/**
 * The problem to report when one `#id` reference of a SignedInfo targets an element inside another's target;
 * undefined when the targets are disjoint. Each reference is canonicalized and digested on its own, so nested
 * targets would make the work grow with the number of references times the document size (50 nested references to a
 * 4 MB element: ≈ 17 s of CPU), before anyone has checked who signed. OSCI signs disjoint blocks (header blocks, the
 * Body, Content elements); with disjoint targets all references together cover each byte of the document once.
 */
function overlappingReference(refEls: readonly Element[], ids: ReadonlyMap<string, Element>): string | undefined {
  const targets = new Map<Element | Document, string>();
  for (const ref of refEls) {
    const uri = attr(ref, 'URI') ?? '';
    const target = uri.startsWith('#') ? ids.get(uri.slice(1)) : undefined;
    if (target && !targets.has(target)) targets.set(target, uri);
  }
  for (const [target, uri] of targets) {
    for (let up = target.parentNode; up; up = up.parentNode) {
      const outer = targets.get(up);
      if (outer) return `reference ${uri} lies inside the element of reference ${outer}: signed elements must not overlap`;
    }
  }
  return undefined;
}

function verifyReference(ref: Element, ctx: SignatureContext, seen: Set<string>): ReferenceResult {
  const uri = attr(ref, 'URI') ?? '';
  const bad = (problem: string): ReferenceResult => ({ uri, valid: false, problem });
  if (seen.has(uri)) return bad('referenced twice');
  seen.add(uri);
  const digestMethods = childrenNamed(ref, NS.ds, 'DigestMethod');
  const digestValues = childrenNamed(ref, NS.ds, 'DigestValue');
  if (digestMethods.length !== 1 || digestValues.length !== 1) return bad('needs one DigestMethod and one DigestValue');
  const transformsEl = childrenNamed(ref, NS.ds, 'Transforms');
  if (transformsEl.length > 1) return bad('more than one Transforms element');
  const transforms = transformsEl[0] ? elementChildren(transformsEl[0]).map((t) => (is(t, NS.ds, 'Transform') ? (attr(t, 'Algorithm') ?? '') : '?')) : [];

  const digestMethod = attr(digestMethods[0]!, 'Algorithm') ?? '';
  let data: (() => Buffer | string) | undefined;
  let precomputed: Buffer | undefined;
  let cache: { readonly entries: Map<string, Buffer>; readonly key: string } | undefined;
  if (uri.startsWith('#')) {
    const target = ctx.ids.get(uri.slice(1));
    if (!target) return bad('resolves to no element');
    if (transforms.length === 0 || (transforms.length === 1 && transforms[0] === C14N_INCLUSIVE)) data = () => canonicalize(target);
    else if (transforms.length === 1 && transforms[0] === TRANSFORM_BASE64) data = () => Buffer.from(textOf(target).replace(/\s+/g, ''), 'base64');
    else return bad(`unsupported transforms ${transforms.join(', ')}`);
    if (ctx.digests) {
      let entries = ctx.digests.get(target);
      if (!entries) ctx.digests.set(target, (entries = new Map()));
      cache = { entries, key: `${transforms[0] ?? C14N_INCLUSIVE} ${digestMethod}` };
      precomputed = entries.get(cache.key);
    }
  } else if (uri.startsWith('cid:')) {
    if (transforms.length > 0) return bad('cid: references must not have transforms');
    try {
      precomputed = ctx.digestCid(uri.slice(4), digestMethod);
    } catch (error) {
      return bad((error as Error).message);
    }
    if (!precomputed) return bad('the referenced MIME part is missing');
  } else return bad('only #id and cid: references are allowed');

  let expected: Buffer;
  let actual: Buffer;
  try {
    expected = decodeBase64Text(textOf(digestValues[0]!), 'DigestValue');
    actual = precomputed ?? digest(digestMethod, data!());
    cache?.entries.set(cache.key, actual);
  } catch (error) {
    return bad((error as Error).message);
  }
  return actual.equals(expected) ? { uri, valid: true } : bad('digest mismatch');
}

function resolveSigner(signature: Element, ctx: SignatureContext): X509Certificate | undefined {
  const keyInfos = childrenNamed(signature, NS.ds, 'KeyInfo');
  if (keyInfos.length !== 1) return undefined;
  const keyInfo = keyInfos[0]!;
  const retrieval = childrenNamed(keyInfo, NS.ds, 'RetrievalMethod');
  let holder: Element | undefined = keyInfo;
  if (retrieval.length === 1) {
    const uri = attr(retrieval[0]!, 'URI') ?? '';
    if (!uri.startsWith('#')) return undefined;
    holder = ctx.resolveCertificateElement(uri.slice(1));
    if (!holder) return undefined;
  }
  return certificateFromHolder(holder);
}

/** Reads the single certificate of an element holding `ds:X509Data/ds:X509Certificate`. */
export function certificateFromHolder(holder: Element): X509Certificate | undefined {
  const der = certificateDerFromHolder(holder);
  if (!der) return undefined;
  try {
    return parseCertificateCached(der);
  } catch {
    return undefined;
  }
}

/** The DER bytes of the single `ds:X509Data/ds:X509Certificate` of an element (not yet parsed). */
export function certificateDerFromHolder(holder: Element): Buffer | undefined {
  const x509Data = childrenNamed(holder, NS.ds, 'X509Data');
  if (x509Data.length !== 1) return undefined;
  const certs = childrenNamed(x509Data[0]!, NS.ds, 'X509Certificate');
  if (certs.length !== 1) return undefined;
  try {
    return decodeBase64Text(textOf(certs[0]!), 'X509Certificate');
  } catch {
    return undefined;
  }
}

export function assertSignatureValid(result: SignatureVerification, scope: string): void {
  if (!result.valid) throw new OsciError('SIGNATURE_INVALID', `${scope} signature: ${result.problems.join('; ')}`);
}
