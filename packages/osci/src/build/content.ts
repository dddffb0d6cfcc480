import type { X509Certificate } from 'node:crypto';
import { OsciError } from '../lib/errors.js';
import type { MimePartInput } from '../mime/build.js';
import { AES256_GCM, encryptGcm } from '../xmlenc/algorithms/symmetric.js';
import { DIGEST_URI_BY_HASH, MGF_URI_BY_HASH, RSA_OAEP, wrapKey } from '../xmlenc/algorithms/key-transport.js';
import type { BuildContext } from './context.js';
import { signDocument, type ReferenceSpec, type SignatureSpec } from './signer.js';
import { base64Lines, element, NS_DECLS } from './xml-writer.js';

export type ContentInput =
  | { readonly kind: 'base64'; readonly data: Buffer }
  /** Inline XML child content (well-formed XML without declaration). */
  | { readonly kind: 'xml'; readonly xml: string }
  | { readonly kind: 'attachment'; readonly refId: string; readonly contentType?: string; readonly data: Buffer };

export interface ContainerInput {
  readonly contents: readonly ContentInput[];
  /** Content (author) signature; `certificateId` names the signer's certificate element in the order header. */
  readonly author?: SignatureSpec;
  /** Readers the container is encrypted for (RSA-OAEP SHA-256, AES-256-GCM, 12-byte IV). Empty ⇒ not encrypted. */
  readonly readers?: ReadonlyArray<{ readonly certificate: X509Certificate; readonly certificateId: string }>;
}

export interface BuiltContent {
  /** What goes into `osci:ContentPackage`: an EncryptedData or a plain ContentContainer. */
  readonly xml: string;
  readonly attachments: readonly MimePartInput[];
}

/** Sequential Id source so that every Id of a message is unique. */
export class IdSequence {
  #n = 0;
  next(prefix: string): string {
    return `${prefix}${this.#n++}`;
  }
}

const IV_LENGTH = 12;

function ivLengthElement(): string {
  return element('osci128:IvLength', [['Value', IV_LENGTH]], '', 'xmlns:osci128="http://xoev.de/transport/osci12/8"');
}

export function gcmMethod(): string {
  return element('xenc:EncryptionMethod', [['Algorithm', AES256_GCM]], ivLengthElement());
}

export function oaepMethod(): string {
  return element(
    'xenc:EncryptionMethod',
    [['Algorithm', RSA_OAEP]],
    element('xenc11:MGF', [['Algorithm', MGF_URI_BY_HASH.sha256!]], '', 'xmlns:xenc11="http://www.w3.org/2009/xmlenc11#"') + element('ds:DigestMethod', [['Algorithm', DIGEST_URI_BY_HASH.sha256!]]),
  );
}

/** Builds one ContentContainer (signed if `author`, encrypted if `readers`) and its attachment parts. */
export function buildContainer(input: ContainerInput, ids: IdSequence, ctx: BuildContext): BuiltContent {
  const containerId = ids.next('contentcontainer');
  const encrypted = (input.readers?.length ?? 0) > 0;
  const attachments: MimePartInput[] = [];
  const references: ReferenceSpec[] = [];
  let contents = '';
  let attachmentData = '';
  for (const c of input.contents) {
    if (c.kind === 'base64') {
      const id = ids.next('content');
      contents += element('osci:Content', [], element('osci:Base64Content', [['Id', id]], base64Lines(c.data)));
      references.push({ kind: 'base64', id });
    } else if (c.kind === 'xml') {
      const id = ids.next('content');
      contents += element('osci:Content', [['Id', id]], c.xml);
      references.push({ kind: 'c14n', id });
    } else {
      if (!/^[A-Za-z0-9._@+-]{1,200}$/.test(c.refId)) throw new OsciError('BUILD_INVALID_INPUT', `attachment refId "${c.refId}" is not a usable Content-ID`);
      const id = ids.next('content');
      contents += element('osci:Content', [['Id', id], ['href', `cid:${c.refId}`]]);
      references.push({ kind: 'c14n', id }, { kind: 'cid', contentId: c.refId, bytes: c.data });
      let body = c.data;
      if (encrypted) {
        const key = ctx.random(32);
        body = encryptGcm(AES256_GCM, key, ctx.random(IV_LENGTH), c.data);
        attachmentData += element(
          'xenc:EncryptedData',
          [['Id', `Attachment${c.refId}`], ['MimeType', 'text/xml']],
          gcmMethod() +
            `<ds:KeyInfo><ds:MgmtData>${key.toString('base64')}</ds:MgmtData></ds:KeyInfo>` +
            `<xenc:CipherData>${element('xenc:CipherReference', [['URI', `cid:${c.refId}`]], `<xenc:Transforms>${element('ds:Transform', [['Algorithm', 'http://www.w3.org/2000/09/xmldsig#base64']])}</xenc:Transforms>`)}</xenc:CipherData>`,
        );
      }
      attachments.push({ contentId: c.refId, contentType: c.contentType ?? 'application/octet-stream', transferEncoding: 'binary', extraHeaders: [['Content-Length', String(body.length)]], body });
    }
  }
  const PLACEHOLDER = '<ds:Signature></ds:Signature>';
  let container = element('osci:ContentContainer', [['Id', containerId]], (input.author ? PLACEHOLDER : '') + contents + attachmentData, NS_DECLS);
  if (input.author) container = signDocument(container, PLACEHOLDER, (s) => s, references, input.author);
  if (!encrypted) return { xml: container, attachments };

  const key = ctx.random(32);
  const cipher = encryptGcm(AES256_GCM, key, ctx.random(IV_LENGTH), Buffer.from(container, 'utf8'));
  let keyInfo = '';
  for (const reader of input.readers!) {
    const wrapped = wrapKey(reader.certificate.publicKey, key);
    keyInfo += `<xenc:EncryptedKey>${oaepMethod()}<ds:KeyInfo>${element('ds:RetrievalMethod', [['Type', 'http://www.w3.org/2000/09/xmldsig#X509Data'], ['URI', `#${reader.certificateId}`]])}</ds:KeyInfo><xenc:CipherData><xenc:CipherValue>${base64Lines(wrapped)}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey>`;
  }
  const xml = element(
    'xenc:EncryptedData',
    [['Id', ids.next('encdata_')], ['MimeType', 'text/xml']],
    gcmMethod() + `<ds:KeyInfo>${keyInfo}</ds:KeyInfo><xenc:CipherData><xenc:CipherValue>${base64Lines(cipher)}</xenc:CipherValue></xenc:CipherData>`,
  );
  return { xml, attachments };
}
