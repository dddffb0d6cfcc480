import { NS, SOAP_ACTOR_NEXT } from '../lib/namespaces.js';
import { escapeAttr, escapeText } from '../lib/xml.js';

/**
 * The five namespace declarations the reference implementation writes on the Envelope and again on every
 * signed block, which makes the inclusive C14N of each block independent of its context.
 */
export const NS_DECLS = `xmlns:ds="${NS.ds}" xmlns:osci="${NS.osci}" xmlns:soap="${NS.soap}" xmlns:xenc="${NS.xenc}" xmlns:xsi="${NS.xsi}"`;

export type Attrs = ReadonlyArray<readonly [string, string | number | undefined]>;

/** `<name attrs>inner</name>`; empty elements are written as start/end pairs like the reference implementation. */
export function element(name: string, attrs: Attrs, inner = '', namespaceDeclarations?: string): string {
  let out = namespaceDeclarations ? `<${name} ${namespaceDeclarations}` : `<${name}`;
  for (const [k, v] of attrs) if (v !== undefined) out += ` ${k}="${escapeAttr(String(v))}"`;
  return `${out}>${inner}</${name}>`;
}

export function textElement(name: string, text: string, attrs: Attrs = []): string {
  return element(name, attrs, escapeText(text));
}

/** An OSCI SOAP header block with its own namespace declarations, Id, actor and mustUnderstand. */
export function headerBlock(localName: string, id: string, attrs: Attrs, inner: string, actor: string = SOAP_ACTOR_NEXT): string {
  return element(`osci:${localName}`, [['Id', id], ...attrs, ['soap:actor', actor], ['soap:mustUnderstand', '1']], inner, NS_DECLS);
}

/** Base64 with the 76-character line breaks OSCI peers write into element text. */
export function base64Lines(data: Buffer): string {
  const b64 = data.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return lines.join('\n');
}
