/**
 * A small document model for mapped output: elements with attributes, text or children, serialised with one
 * element per line (so validator line numbers map to single elements). Absent values (`undefined`, `null`, '')
 * drop the element, which keeps mapping code free of `if`s around optional fields.
 */
export interface XmlNode {
  readonly name: string;
  readonly attrs?: Readonly<Record<string, string | undefined>>;
  readonly text?: string;
  readonly children?: readonly XmlNode[];
}

export type Child = XmlNode | undefined | null | false | readonly Child[];

function flatten(children: readonly Child[]): XmlNode[] {
  const out: XmlNode[] = [];
  for (const c of children) {
    if (!c) continue;
    if (Array.isArray(c)) out.push(...flatten(c as readonly Child[]));
    else out.push(c as XmlNode);
  }
  return out;
}

/** An element with children (omitted when it ends up with no children and no attributes). */
export function el(name: string, attrs: Readonly<Record<string, string | undefined>> | null, ...children: Child[]): XmlNode | undefined {
  const kids = flatten(children);
  const hasAttrs = attrs && Object.values(attrs).some((v) => v !== undefined);
  if (kids.length === 0 && !hasAttrs) return undefined;
  return { name, ...(attrs ? { attrs } : {}), children: kids };
}

/** An element that is written even when empty (a required empty element such as `<xdomea:Version/>`). */
export function empty(name: string, attrs?: Readonly<Record<string, string | undefined>>): XmlNode {
  return { name, ...(attrs ? { attrs } : {}), children: [] };
}

/** A leaf element with text; dropped when the value is absent or empty. */
export function leaf(name: string, value: string | number | boolean | undefined | null, attrs?: Readonly<Record<string, string | undefined>>): XmlNode | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  return { name, ...(attrs ? { attrs } : {}), text: String(value) };
}

const TEXT_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#13;' };
const ATTR_ESCAPES: Record<string, string> = { ...TEXT_ESCAPES, '"': '&quot;', '\n': '&#10;', '\t': '&#9;' };

// XML 1.0 forbids most C0 controls even as character references; they are dropped from text.
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

export function escapeText(s: string): string {
  return s.replace(FORBIDDEN, '').replace(/[&<>\r]/g, (c) => TEXT_ESCAPES[c]!);
}

function escapeAttr(s: string): string {
  return s.replace(FORBIDDEN, '').replace(/[&<>"\r\n\t]/g, (c) => ATTR_ESCAPES[c]!);
}

function attrString(attrs: XmlNode['attrs']): string {
  if (!attrs) return '';
  let s = '';
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) s += ` ${k}="${escapeAttr(v)}"`;
  return s;
}

/** Serialises a document: XML declaration, then the tree indented by two spaces, UTF-8. */
export function serialize(root: XmlNode): Buffer {
  const parts: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n'];
  const write = (node: XmlNode, depth: number): void => {
    const pad = '  '.repeat(depth);
    const open = `${pad}<${node.name}${attrString(node.attrs)}`;
    if (node.text !== undefined) parts.push(`${open}>${escapeText(node.text)}</${node.name}>\n`);
    else if (!node.children || node.children.length === 0) parts.push(`${open}/>\n`);
    else {
      parts.push(`${open}>\n`);
      for (const c of node.children) write(c, depth + 1);
      parts.push(`${pad}</${node.name}>\n`);
    }
  };
  write(root, 0);
  return Buffer.from(parts.join(''), 'utf8');
}
