import { C14nCanonicalization } from 'xml-crypto';
import { ELEMENT_NODE } from '../lib/dom.js';
import type { Element } from '../lib/xml.js';

export const C14N_INCLUSIVE = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315';

const canonicalizer = new C14nCanonicalization();

interface NamespacePrefix {
  prefix: string;
  namespaceURI: string;
}

/**
 * Inclusive Canonical XML 1.0 (without comments) of an element subtree, with the namespace declarations
 * inherited from its ancestors, as OSCI prescribes for every reference and SignedInfo.
 * Implemented by xml-crypto's C14nCanonicalization on the parsed DOM.
 */
export function canonicalize(el: Element): string {
  return canonicalizer.process(el as unknown as Parameters<C14nCanonicalization['process']>[0], { ancestorNamespaces: ancestorNamespaces(el) });
}

function ancestorNamespaces(el: Element): NamespacePrefix[] {
  const seen = new Set<string>();
  const out: NamespacePrefix[] = [];
  for (let p = el.parentNode; p && p.nodeType === ELEMENT_NODE; p = p.parentNode) {
    for (const a of p.attributes) {
      let prefix: string | undefined;
      if (a.name === 'xmlns') prefix = '';
      else if (a.name.startsWith('xmlns:')) prefix = a.name.slice(6);
      if (prefix === undefined || seen.has(prefix)) continue;
      seen.add(prefix);
      out.push({ prefix, namespaceURI: a.value });
    }
  }
  return out;
}
