import { SaxesParser, type SaxesTagNS } from 'saxes';

/**
 * A small read-only DOM for the XML that OSCI carries: elements with resolved namespaces, attributes, text,
 * CDATA sections and comments. Built from the events of saxes (a strict, namespace-aware XML 1.0 parser), it
 * offers the part of the W3C DOM that this package and xml-crypto's canonicalizer read — nothing mutates it.
 *
 * Why not a full DOM: parsing the small reference message's 28 KB envelope into @xmldom/xmldom took ≈ 0.55 ms, into
 * this tree ≈ 0.25 ms (xmldom's tree is live and validated on every insertion); opening a small message parses two
 * such documents.
 */

export const ELEMENT_NODE = 1;
export const ATTRIBUTE_NODE = 2;
export const TEXT_NODE = 3;
export const CDATA_SECTION_NODE = 4;
export const COMMENT_NODE = 8;
export const DOCUMENT_NODE = 9;

const XMLNS_NAMESPACE = 'http://www.w3.org/2000/xmlns/';
const XML_NAMESPACE = 'http://www.w3.org/XML/1998/namespace';

export type ParentNode = Element | Document;
export type ChildNode = Element | CharacterData;
export type Node = Document | Element | CharacterData | Attr;

function readOnly(): never {
  throw new Error('this XML tree is read-only');
}

/** Members every node has; `appendChild`/`removeChild` exist (node-like for xml-crypto) but refuse. */
abstract class BaseNode {
  abstract readonly nodeType: number;
  abstract readonly nodeName: string;
  parentNode: ParentNode | null = null;
  nextSibling: ChildNode | null = null;
  previousSibling: ChildNode | null = null;
  appendChild(): never {
    return readOnly();
  }
  removeChild(): never {
    return readOnly();
  }
}

export class Attr {
  readonly nodeType = ATTRIBUTE_NODE;
  constructor(
    /** The qualified name as written, e.g. `xmlns:ds`, `Id`. */
    readonly name: string,
    readonly prefix: string | null,
    readonly localName: string,
    readonly namespaceURI: string | null,
    readonly value: string,
  ) {}
  get nodeName(): string {
    return this.name;
  }
}

/** Text (nodeType 3), a CDATA section (4) or a comment (8). */
export class CharacterData extends BaseNode {
  constructor(
    readonly nodeType: typeof TEXT_NODE | typeof CDATA_SECTION_NODE | typeof COMMENT_NODE,
    public data: string,
  ) {
    super();
  }
  get nodeName(): string {
    return this.nodeType === TEXT_NODE ? '#text' : this.nodeType === COMMENT_NODE ? '#comment' : '#cdata-section';
  }
  get textContent(): string {
    return this.data;
  }
}

abstract class ParentBase extends BaseNode {
  readonly childNodes: ChildNode[] = [];
  get firstChild(): ChildNode | null {
    return this.childNodes[0] ?? null;
  }
  get lastChild(): ChildNode | null {
    return this.childNodes[this.childNodes.length - 1] ?? null;
  }

  /** Descendant elements (not this node) in document order; `'*'` matches any namespace or local name. */
  getElementsByTagNameNS(namespaceURI: string | null, localName: string): Element[] {
    const ns = namespaceURI === '' ? null : namespaceURI;
    const out: Element[] = [];
    const visit = (parent: ParentBase): void => {
      for (const child of parent.childNodes) {
        if (child.nodeType !== ELEMENT_NODE) continue;
        if ((ns === '*' || child.namespaceURI === ns) && (localName === '*' || child.localName === localName)) out.push(child);
        visit(child);
      }
    };
    visit(this);
    return out;
  }

  /** @internal used while building */
  append(child: ChildNode): void {
    const last = this.childNodes[this.childNodes.length - 1];
    if (last) {
      last.nextSibling = child;
      child.previousSibling = last;
    }
    child.parentNode = this as unknown as ParentNode;
    this.childNodes.push(child);
  }
}

export class Element extends ParentBase {
  readonly nodeType = ELEMENT_NODE;
  constructor(
    readonly tagName: string,
    readonly prefix: string | null,
    readonly localName: string,
    readonly namespaceURI: string | null,
    readonly attributes: readonly Attr[],
    readonly ownerDocument: Document,
  ) {
    super();
  }
  get nodeName(): string {
    return this.tagName;
  }
  /** Concatenated text and CDATA of all descendants (comments excluded), as in the DOM. */
  get textContent(): string {
    let out = '';
    const visit = (el: Element): void => {
      for (const c of el.childNodes) {
        if (c.nodeType === ELEMENT_NODE) visit(c);
        else if (c.nodeType !== COMMENT_NODE) out += c.data;
      }
    };
    visit(this);
    return out;
  }
  /** Attribute by qualified name, `null` when absent. */
  getAttribute(name: string): string | null {
    for (const a of this.attributes) if (a.name === name) return a.value;
    return null;
  }
  hasAttribute(name: string): boolean {
    return this.getAttribute(name) !== null;
  }
  getAttributeNS(namespaceURI: string | null, localName: string): string | null {
    const ns = namespaceURI === '' ? null : namespaceURI;
    for (const a of this.attributes) if (a.namespaceURI === ns && a.localName === localName) return a.value;
    return null;
  }
  hasAttributeNS(namespaceURI: string | null, localName: string): boolean {
    return this.getAttributeNS(namespaceURI, localName) !== null;
  }
}

export class Document extends ParentBase {
  readonly nodeType = DOCUMENT_NODE;
  readonly nodeName = '#document';
  documentElement: Element | null = null;
  get textContent(): null {
    return null;
  }
}

export interface ParseOptions {
  /** Deepest element nesting accepted. */
  readonly maxDepth: number;
  /** Most namespace declarations (`xmlns`, `xmlns:p` attributes) accepted in the document. */
  readonly maxNamespaceDeclarations: number;
}

/** Thrown for input that is not well-formed namespace-aware XML 1.0, or beyond a bound (depth, declarations). */
export class XmlSyntaxError extends Error {
  constructor(
    message: string,
    readonly reason: 'malformed' | 'too-large',
  ) {
    super(message);
    this.name = 'XmlSyntaxError';
  }
}

/**
 * Parses a whole document. Entities other than the five predefined ones and character references are errors
 * (saxes resolves nothing else); DOCTYPE and processing instructions are refused here too, whatever the caller
 * checked before.
 */
export function parseDocument(text: string, options: ParseOptions): Document {
  const doc = new Document();
  const parser = new SaxesParser({ xmlns: true, position: false });
  let current: ParentBase = doc;
  let depth = 0;
  let declarations = 0;
  let failure: XmlSyntaxError | undefined;
  const fail = (message: string, reason: 'malformed' | 'too-large' = 'malformed'): void => {
    failure ??= new XmlSyntaxError(message, reason);
    throw failure;
  };
  const appendCharacters = (type: typeof TEXT_NODE | typeof CDATA_SECTION_NODE | typeof COMMENT_NODE, data: string): void => {
    if (current === doc) return; // whitespace and comments around the root element are not kept
    if (data === '' && type !== COMMENT_NODE) return;
    const last = current.childNodes[current.childNodes.length - 1];
    if (type === TEXT_NODE && last && last.nodeType === TEXT_NODE) last.data += data;
    else current.append(new CharacterData(type, data));
  };
  parser.on('opentag', (tag: SaxesTagNS) => {
    if (++depth > options.maxDepth) fail(`elements nest deeper than ${options.maxDepth}`, 'too-large');
    const attributes: Attr[] = [];
    for (const name in tag.attributes) {
      const a = tag.attributes[name]!;
      if (a.uri === XMLNS_NAMESPACE) {
        if (++declarations > options.maxNamespaceDeclarations) fail(`declares more than ${options.maxNamespaceDeclarations} namespaces`, 'too-large');
        // saxes binds the trimmed value, a conformant parser the value itself: refuse what they would read differently.
        if (a.value !== a.value.trim()) fail(`the namespace name of ${a.name} has surrounding whitespace`);
      }
      attributes.push(new Attr(a.name, a.prefix || null, a.local, a.uri || null, a.value));
    }
    const el = new Element(tag.name, tag.prefix || null, tag.local, tag.uri || null, attributes, doc);
    if (current === doc) doc.documentElement = el;
    current.append(el);
    current = el;
  });
  parser.on('closetag', () => {
    depth--;
    current = current.parentNode as unknown as ParentBase;
  });
  parser.on('text', (text) => appendCharacters(TEXT_NODE, text));
  parser.on('cdata', (text) => appendCharacters(CDATA_SECTION_NODE, text));
  parser.on('comment', (text) => appendCharacters(COMMENT_NODE, text));
  parser.on('doctype', () => fail('DOCTYPE is not accepted'));
  parser.on('processinginstruction', () => fail('processing instructions are not accepted'));
  parser.on('error', (error) => fail(error.message));
  parser.write(text).close();
  if (failure) throw failure;
  if (!doc.documentElement) throw new XmlSyntaxError('no root element', 'malformed');
  return doc;
}

interface VisibleNamespace {
  readonly prefix: string;
  readonly namespace: string;
}

const TEXT_ESCAPES: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', '\r': '&#13;' };
const ATTRIBUTE_ESCAPES: Record<string, string> = { ...TEXT_ESCAPES, '"': '&quot;', '\t': '&#9;', '\n': '&#10;' };

/**
 * Serializes a node with the rules of the DOM Parsing and Serialization spec as @xmldom/xmldom applies them: a
 * subtree taken out of its document declares the namespaces its element and attribute names use but whose
 * declarations lie outside it; empty elements are written `<x/>`; CDATA stays CDATA; comments are kept. Unlike
 * xmldom, a carriage return in text is written as `&#13;`, so that parsing the output gives the same text.
 */
export function serializeNode(node: Node): string {
  const out: string[] = [];
  const write = (n: Node, visible: VisibleNamespace[]): void => {
    switch (n.nodeType) {
      case DOCUMENT_NODE:
        for (const c of n.childNodes) write(c, visible);
        return;
      case ATTRIBUTE_NODE:
        out.push(
          ' ',
          n.name,
          '="',
          n.value.replace(/[<>&"\t\n\r]/g, (c) => ATTRIBUTE_ESCAPES[c]!),
          '"',
        );
        return;
      case TEXT_NODE:
        // A carriage return is written as a reference: as a character, the next parser would turn it into a line feed.
        out.push(n.data.replace(/[<&>\r]/g, (c) => TEXT_ESCAPES[c]!));
        return;
      case CDATA_SECTION_NODE:
        out.push('<![CDATA[', n.data.replace(/]]>/g, ']]]]><![CDATA[>'), ']]>');
        return;
      case COMMENT_NODE:
        out.push('<!--', n.data, '-->');
        return;
      case ELEMENT_NODE:
        writeElement(n, visible);
    }
  };
  const writeElement = (el: Element, visible: VisibleNamespace[]): void => {
    let name = el.tagName;
    if (!el.prefix && el.namespaceURI) {
      // An unprefixed element whose namespace is not the default in scope borrows a prefix bound to it.
      let defaultNamespace = el.attributes.find((a) => a.name === 'xmlns')?.value;
      if (!defaultNamespace) defaultNamespace = findLast(visible, (v) => v.prefix === '' && v.namespace === el.namespaceURI)?.namespace;
      if (defaultNamespace !== el.namespaceURI) {
        const bound = findLast(visible, (v) => v.namespace === el.namespaceURI);
        if (bound?.prefix) name = `${bound.prefix}:${el.tagName}`;
      }
    }
    out.push('<', name);
    const scope = visible.slice();
    for (const a of el.attributes) {
      if (a.prefix === 'xmlns') scope.push({ prefix: a.localName, namespace: a.value });
      else if (a.name === 'xmlns') scope.push({ prefix: '', namespace: a.value });
    }
    for (const a of el.attributes) {
      if (needsDeclaration(a.prefix, a.namespaceURI, scope)) {
        declare(a.prefix ?? '', a.namespaceURI!, scope);
      }
      write(a, scope);
    }
    if (name === el.tagName && needsDeclaration(el.prefix, el.namespaceURI, scope)) declare(el.prefix ?? '', el.namespaceURI!, scope);
    if (el.childNodes.length === 0) {
      out.push('/>');
      return;
    }
    out.push('>');
    for (const c of el.childNodes) write(c, scope);
    out.push('</', name, '>');
  };
  const declare = (prefix: string, namespace: string, scope: VisibleNamespace[]): void => {
    write(new Attr(prefix ? `xmlns:${prefix}` : 'xmlns', null, '', null, namespace), scope);
    scope.push({ prefix, namespace });
  };
  write(node, []);
  return out.join('');
}

function needsDeclaration(prefix: string | null, namespace: string | null, visible: readonly VisibleNamespace[]): boolean {
  if (!namespace) return false;
  const p = prefix ?? '';
  if ((p === 'xml' && namespace === XML_NAMESPACE) || namespace === XMLNS_NAMESPACE) return false;
  for (let i = visible.length - 1; i >= 0; i--) if (visible[i]!.prefix === p) return visible[i]!.namespace !== namespace;
  return true;
}

function findLast<T>(items: readonly T[], test: (item: T) => boolean): T | undefined {
  for (let i = items.length - 1; i >= 0; i--) if (test(items[i]!)) return items[i];
  return undefined;
}
