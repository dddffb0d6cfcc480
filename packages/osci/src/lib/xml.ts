import { ELEMENT_NODE, parseDocument, serializeNode, XmlSyntaxError, type Document, type Element, type Node } from './dom.js';
import { OsciError } from './errors.js';
import type { OsciLimits } from './limits.js';

export type { Document, Element, Node };

/**
 * Rejects DOCTYPE, entity declarations and processing instructions before any parser sees the text.
 * One linear scan; `<!--` comments and `<![CDATA[` sections are allowed.
 */
export function assertNoForbiddenXml(text: string): void {
  let at = text.indexOf('<!');
  while (at !== -1) {
    if (text.startsWith('<!--', at)) {
      const end = text.indexOf('-->', at + 4);
      if (end === -1) throw new OsciError('XML_MALFORMED', 'unterminated comment');
      at = text.indexOf('<!', end + 3);
      continue;
    }
    if (text.startsWith('<![CDATA[', at)) {
      const end = text.indexOf(']]>', at + 9);
      if (end === -1) throw new OsciError('XML_MALFORMED', 'unterminated CDATA section');
      at = text.indexOf('<!', end + 3);
      continue;
    }
    throw new OsciError('XML_FORBIDDEN_CONSTRUCT', 'DOCTYPE and entity declarations are not accepted');
  }
  let pi = text.indexOf('<?');
  while (pi !== -1) {
    const isDeclaration = pi === skipLeadingWhitespace(text) && /^<\?xml[\s?]/.test(text.slice(pi, pi + 6));
    if (!isDeclaration) throw new OsciError('XML_FORBIDDEN_CONSTRUCT', 'processing instructions are not accepted');
    pi = text.indexOf('<?', pi + 2);
  }
}

function skipLeadingWhitespace(text: string): number {
  let i = 0;
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  while (i < text.length && /\s/.test(text[i] ?? '')) i++;
  return i;
}

/** Parses one XML document under the given limits; never resolves entities or external resources. */
export function parseXml(
  input: Buffer | string,
  limits: Pick<OsciLimits, 'maxXmlBytes' | 'maxXmlDepth' | 'maxXmlNamespaceDeclarations'>,
  what = 'XML',
): Document {
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
  if (size > limits.maxXmlBytes) throw new OsciError('INPUT_TOO_LARGE', `${what} of ${size} bytes exceeds the limit of ${limits.maxXmlBytes}`);
  const text = typeof input === 'string' ? input : decodeUtf8Strict(input, what);
  assertNoForbiddenXml(text);
  try {
    return parseDocument(text, { maxDepth: limits.maxXmlDepth, maxNamespaceDeclarations: limits.maxXmlNamespaceDeclarations });
  } catch (error) {
    if (error instanceof XmlSyntaxError && error.reason === 'too-large') throw new OsciError('INPUT_TOO_LARGE', `${what} ${error.message}`);
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new OsciError('XML_MALFORMED', `${what} is not well-formed: ${message}`, { cause: error });
  }
}

function decodeUtf8Strict(bytes: Buffer, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch (error) {
    throw new OsciError('MIME_UNSUPPORTED_ENCODING', `${what} is not valid UTF-8`, { cause: error });
  }
}

export function isElement(node: Node | null | undefined): node is Element {
  return !!node && node.nodeType === ELEMENT_NODE;
}

export function elementChildren(el: Element): Element[] {
  const out: Element[] = [];
  for (let n = el.firstChild; n; n = n.nextSibling) if (isElement(n)) out.push(n);
  return out;
}

export function is(el: Element, ns: string, local: string): boolean {
  return el.namespaceURI === ns && el.localName === local;
}

export function childrenNamed(el: Element, ns: string, local: string): Element[] {
  return elementChildren(el).filter((c) => is(c, ns, local));
}

export function childNamed(el: Element, ns: string, local: string): Element | undefined {
  const all = childrenNamed(el, ns, local);
  if (all.length > 1) throw new OsciError('ENVELOPE_INVALID', `${qname(el)} has ${all.length} ${local} children, expected at most one`);
  return all[0];
}

export function requireChild(el: Element, ns: string, local: string): Element {
  const c = childNamed(el, ns, local);
  if (!c) throw new OsciError('ENVELOPE_INVALID', `${qname(el)} lacks required child ${local}`);
  return c;
}

export function textOf(el: Element): string {
  return el.textContent ?? '';
}

export function attr(el: Element, name: string): string | undefined {
  return el.hasAttribute(name) ? (el.getAttribute(name) ?? undefined) : undefined;
}

export function attrNS(el: Element, ns: string, local: string): string | undefined {
  return el.hasAttributeNS(ns, local) ? (el.getAttributeNS(ns, local) ?? undefined) : undefined;
}

export function qname(el: Element): string {
  return el.tagName;
}

/** Collects every element carrying an `Id` attribute; duplicate Ids are rejected (signature wrapping). */
export function collectIds(root: Element): Map<string, Element> {
  const ids = new Map<string, Element>();
  const stack: Element[] = [root];
  while (stack.length > 0) {
    const el = stack.pop()!;
    const id = el.getAttribute('Id');
    if (id) {
      if (ids.has(id)) throw new OsciError('ENVELOPE_DUPLICATE_ID', `Id "${id}" occurs more than once`);
      ids.set(id, el);
    }
    for (const c of elementChildren(el)) stack.push(c);
  }
  return ids;
}

export function serializeXml(node: Node): string {
  return serializeNode(node);
}

/** Kind of each ASCII character in base64 element text: 1 alphabet, 2 XML whitespace (line wrapping), 0 invalid. */
const BASE64_CHARS = (() => {
  const kinds = new Uint8Array(128);
  for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') kinds[c.charCodeAt(0)] = 1;
  for (const c of ' \t\r\n') kinds[c.charCodeAt(0)] = 2;
  return kinds;
})();

/**
 * Decodes base64 element text strictly: the alphabet, at most two `=` at the end, a multiple of four characters;
 * XML whitespace (the line wrapping of MIME-style base64) anywhere is ignored. One pass over the text, no copy.
 */
export function decodeBase64Text(text: string, what: string): Buffer {
  let count = 0;
  let padding = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const kind = c < 128 ? BASE64_CHARS[c]! : 0;
    if (kind === 2) continue;
    if (kind === 1 && padding === 0) count++;
    else if (c === 0x3d && padding < 2) {
      padding++;
      count++;
    } else throw new OsciError('ENVELOPE_INVALID', `${what} is not valid base64`);
  }
  if (count % 4 !== 0) throw new OsciError('ENVELOPE_INVALID', `${what} is not valid base64`);
  return Buffer.from(text, 'base64');
}

/** Escapes text for element content. */
export function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;');
}

/** Escapes text for a double-quoted attribute value. */
export function escapeAttr(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;').replace(/\t/g, '&#x9;').replace(/\n/g, '&#xA;').replace(/\r/g, '&#xD;');
}
