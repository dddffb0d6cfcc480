import type { XmlDocument, XmlElement } from 'libxml2-wasm';
import { libxml } from './libxml.js';

/** Largest XML document the framework parses (input or output). */
export const MAX_XML_BYTES = 32 * 1024 * 1024;

export class XmlInputError extends Error {
  override readonly name = 'XmlInputError';
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

/**
 * Parses XML with libxml2: no DOCTYPE (so no entities, internal or external), no network, bounded size.
 * The caller disposes the document.
 */
export function parseXml(data: Buffer | string, url?: string): XmlDocument {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  if (buf.length > MAX_XML_BYTES) throw new XmlInputError(`XML document larger than ${MAX_XML_BYTES} bytes`);
  const head = buf.subarray(0, Math.min(buf.length, 4096)).toString('latin1');
  if (/<!DOCTYPE/i.test(head) || buf.includes('<!DOCTYPE') || buf.includes('<!ENTITY')) throw new XmlInputError('DOCTYPE and entity declarations are not accepted');
  const { XmlDocument, XmlLibError, ParseOption } = libxml();
  try {
    return XmlDocument.fromBuffer(buf, { ...(url ? { url } : {}), option: ParseOption.XML_PARSE_NONET });
  } catch (error) {
    if (error instanceof XmlLibError) {
      const first = error.details[0];
      throw new XmlInputError(`not well-formed XML: ${first?.message.trim() ?? error.message}`, first?.line);
    }
    throw error;
  }
}

export function elementChildren(el: XmlElement): XmlElement[] {
  const { XmlElement } = libxml();
  const out: XmlElement[] = [];
  for (let n = el.firstChild; n; n = n.next) if (n instanceof XmlElement) out.push(n);
  return out;
}

function qualified(el: XmlElement): string {
  return el.prefix ? `${el.prefix}:${el.name}` : el.name;
}

/**
 * Maps source lines to the XPath of the first element starting there, for turning libxml2's line numbers into
 * paths a person can find (`/xdomea:Abgabe.Abgabe.0401/xdomea:Kopf[1]/xdomea:Absender[1]`).
 */
export function xpathsByLine(doc: XmlDocument): Map<number, string> {
  const byLine = new Map<number, string>();
  const walk = (el: XmlElement, path: string): void => {
    if (!byLine.has(el.line)) byLine.set(el.line, path);
    const counts = new Map<string, number>();
    for (const child of elementChildren(el)) {
      const name = qualified(child);
      const n = (counts.get(name) ?? 0) + 1;
      counts.set(name, n);
      walk(child, `${path}/${name}[${n}]`);
    }
  };
  walk(doc.root, `/${qualified(doc.root)}`);
  return byLine;
}
