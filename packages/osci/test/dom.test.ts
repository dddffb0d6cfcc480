import { describe, expect, it } from 'vitest';
import { CDATA_SECTION_NODE, COMMENT_NODE, parseDocument, serializeNode, TEXT_NODE, XmlSyntaxError, type Element } from '../src/lib/dom.js';
import { canonicalize } from '../src/xmldsig/c14n.js';

const parse = (xml: string, maxDepth = 50, maxNamespaceDeclarations = 50) => parseDocument(xml, { maxDepth, maxNamespaceDeclarations });
const only = (root: Element, ns: string | null, local: string): Element => {
  const found = root.getElementsByTagNameNS(ns, local);
  expect(found).toHaveLength(1);
  return found[0]!;
};

describe('read-only XML tree', () => {
  it('resolves element and attribute namespaces as the DOM does', () => {
    const doc = parse('<a xmlns="urn:d" xmlns:p="urn:p" plain="1" p:q="2" xml:lang="de"><p:b/><c xmlns=""/></a>');
    const a = doc.documentElement!;
    expect([a.tagName, a.prefix, a.localName, a.namespaceURI]).toEqual(['a', null, 'a', 'urn:d']);
    expect(a.attributes.map((x) => [x.name, x.prefix, x.localName, x.namespaceURI, x.value])).toEqual([
      ['xmlns', null, 'xmlns', 'http://www.w3.org/2000/xmlns/', 'urn:d'],
      ['xmlns:p', 'xmlns', 'p', 'http://www.w3.org/2000/xmlns/', 'urn:p'],
      ['plain', null, 'plain', null, '1'],
      ['p:q', 'p', 'q', 'urn:p', '2'],
      ['xml:lang', 'xml', 'lang', 'http://www.w3.org/XML/1998/namespace', 'de'],
    ]);
    expect(a.getAttribute('plain')).toBe('1');
    expect(a.getAttribute('q')).toBeNull();
    expect(a.getAttributeNS('urn:p', 'q')).toBe('2');
    expect(a.hasAttributeNS(null, 'plain')).toBe(true);
    expect(only(a, 'urn:p', 'b').prefix).toBe('p');
    expect(only(a, null, 'c').namespaceURI).toBeNull();
  });

  it('keeps text with resolved references in one node, CDATA and comments apart; textContent skips comments', () => {
    const a = parse('<a>x &amp; &#x41;&lt;<![CDATA[<raw>]]>y<!-- note -->z</a>').documentElement!;
    expect(a.childNodes.map((n) => n.nodeType)).toEqual([TEXT_NODE, CDATA_SECTION_NODE, TEXT_NODE, COMMENT_NODE, TEXT_NODE]);
    expect(a.textContent).toBe('x & A<<raw>yz');
    expect(a.firstChild?.nextSibling?.nodeType).toBe(CDATA_SECTION_NODE);
    expect(a.lastChild?.previousSibling?.nodeType).toBe(COMMENT_NODE);
    expect(a.childNodes.every((n) => n.parentNode === a)).toBe(true);
  });

  it('normalizes line ends and attribute whitespace as XML 1.0 requires', () => {
    const a = parse('<a v="x\ty\r\nz&#9;">1\r\n2\r3</a>').documentElement!;
    expect(a.getAttribute('v')).toBe('x y z\t');
    expect(a.textContent).toBe('1\n2\n3');
  });

  it('finds descendants (not the element itself) in document order, with * wildcards', () => {
    const doc = parse('<x:a xmlns:x="urn:x" xmlns:y="urn:y"><x:a><y:b>1</y:b></x:a><y:b>2</y:b></x:a>');
    const root = doc.documentElement!;
    expect(root.getElementsByTagNameNS('urn:x', 'a')).toHaveLength(1);
    expect(doc.getElementsByTagNameNS('urn:x', 'a')).toHaveLength(2);
    expect(root.getElementsByTagNameNS('*', 'b').map((b) => b.textContent)).toEqual(['1', '2']);
    expect(root.getElementsByTagNameNS('urn:y', '*')).toHaveLength(2);
  });

  it('refuses to be changed', () => {
    const a = parse('<a/>').documentElement!;
    expect(() => a.appendChild()).toThrow(/read-only/);
    expect(() => a.removeChild()).toThrow(/read-only/);
  });

  it.each([
    ['an unclosed element', '<a><b></a>'],
    ['an unbound prefix', '<p:a/>'],
    ['a duplicate attribute', '<a x="1" x="2"/>'],
    ['an undeclared entity', '<a>&nbsp;</a>'],
    ['two root elements', '<a/><b/>'],
    ['text after the root', '<a/>junk'],
    ['no root element', '   '],
    ['a DOCTYPE', '<!DOCTYPE a><a/>'],
    ['a processing instruction', '<a><?pi x?></a>'],
    ['an undefined prefix binding', '<a xmlns:p=""/>'],
  ])('rejects %s', (_name, xml) => {
    expect(() => parse(xml)).toThrow(XmlSyntaxError);
  });

  it('checks every character of long text runs (the patched fast path of saxes)', () => {
    const run = 'QUJD'.repeat(1000) + '\n';
    expect(parse(`<a>${run}\u{1F600}${run}x]y]>z</a>`).documentElement!.textContent).toBe(`${run}\u{1F600}${run}x]y]>z`);
    expect(parse(`<a>${run}1\r\n2\r3</a>`).documentElement!.textContent).toBe(`${run}1\n2\n3`);
    expect(() => parse(`<a>${run}]]>${run}</a>`)).toThrow(/\]\]>/);
    expect(() => parse(`<a>${run}\u0001</a>`)).toThrow(/disallowed character/);
    expect(() => parse(`<a>${run}\uDC00${run}</a>`)).toThrow(/disallowed character/);
    expect(() => parse(`<a>${run}\uFFFE</a>`)).toThrow(/disallowed character/);
  });

  it('stops at the depth limit', () => {
    expect(() => parse('<a>'.repeat(5) + '</a>'.repeat(5), 4)).toThrow(expect.objectContaining({ reason: 'too-large' }));
    expect(parse('<a>'.repeat(4) + '</a>'.repeat(4), 4).documentElement?.localName).toBe('a');
  });

  it('stops at the limit of namespace declarations in the document (default and prefixed, on any element)', () => {
    const declare = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ` xmlns:p${from + i}="urn:${from + i}"`).join('');
    expect(parse(`<a xmlns="urn:d"${declare(2)}><b${declare(2, 2)}/></a>`, 50, 5).documentElement?.localName).toBe('a');
    expect(() => parse(`<a xmlns="urn:d"${declare(2)}><b${declare(3, 2)}/></a>`, 50, 5)).toThrow(expect.objectContaining({ reason: 'too-large' }));
  });
});

describe('serializing a subtree', () => {
  it('declares the namespaces its names use whose declarations lie outside it', () => {
    const doc = parse('<r xmlns="urn:d" xmlns:p="urn:p" xmlns:q="urn:q"><p:b q:x="1"><c/><p:e/></p:b></r>');
    const b = only(doc.documentElement!, 'urn:p', 'b');
    expect(serializeNode(b)).toBe('<p:b xmlns:q="urn:q" q:x="1" xmlns:p="urn:p"><c xmlns="urn:d"/><p:e/></p:b>');
    expect(serializeNode(only(doc.documentElement!, 'urn:d', 'c'))).toBe('<c xmlns="urn:d"/>');
  });

  it('writes a whole document back as it was parsed (declarations kept, nothing added)', () => {
    const xml = '<r xmlns="urn:d" xmlns:p="urn:p"><p:b a="1">t</p:b><e/><!--c--><![CDATA[<x>]]></r>';
    expect(serializeNode(parse(xml))).toBe(xml);
  });

  it('keeps a carriage return of text or attribute values through serializing and parsing again', () => {
    const a = parse('<a v="1&#13;2">x&#13;y&#13;&#10;z</a>').documentElement!;
    expect(a.textContent).toBe('x\ry\r\nz');
    const again = parse(serializeNode(a)).documentElement!;
    expect(again.textContent).toBe('x\ry\r\nz');
    expect(again.getAttribute('v')).toBe('1\r2');
  });

  it('refuses a namespace name with surrounding whitespace (saxes would bind it trimmed, a conformant parser not)', () => {
    expect(() => parse('<p:a xmlns:p=" urn:p"/>')).toThrow(/surrounding whitespace/);
    expect(() => parse('<a xmlns="urn:d\t"/>')).toThrow(/surrounding whitespace/);
  });

  it('escapes text and attribute values', () => {
    const a = parse('<a v="&quot;&lt;&amp;&#9;&#10;&#13;>">&lt;&amp;&gt;</a>').documentElement!;
    expect(serializeNode(a)).toBe('<a v="&quot;&lt;&amp;&#9;&#10;&#13;&gt;">&lt;&amp;&gt;</a>');
  });
});

describe('inclusive C14N on this tree (xml-crypto)', () => {
  it('canonicalizes a subtree with the inherited namespaces, drops comments, writes CDATA as text', () => {
    const doc = parse('<r xmlns:p="urn:p" xmlns:z="urn:z"><p:b z:y="2" a="1"><!--c--><![CDATA[<x>]]><e></e></p:b></r>');
    expect(canonicalize(only(doc.documentElement!, 'urn:p', 'b'))).toBe('<p:b xmlns:p="urn:p" xmlns:z="urn:z" a="1" z:y="2">&lt;x&gt;<e></e></p:b>');
  });
});
