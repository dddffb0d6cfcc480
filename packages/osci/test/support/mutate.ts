/**
 * Damage for seeded fuzz tests (here and in apps/gateway): a deterministic PRNG and one random damage of a byte
 * string at a time.
 */

import { fuzzRounds, fuzzSeed, random } from '../../../../test/support/seeded-random.js';

export { fuzzRounds, fuzzSeed, random };

const XML_CHARS = Buffer.from('<>&"\'=/:!?[]-# \n\r\t;xX0');

/** One damage of `input`, chosen by `next`; the description says what was done (for the failure message). */
export function mutate(input: Buffer, next: () => number): { bytes: Buffer; what: string } {
  const int = (n: number) => Math.floor(next() * n);
  const at = int(input.length);
  const length = 1 + int(64);
  switch (int(6)) {
    case 0: {
      const bytes = Buffer.from(input);
      bytes[at] = bytes[at]! ^ (1 + int(255));
      return { bytes, what: `flip byte ${at}` };
    }
    case 1: {
      const bytes = Buffer.from(input);
      bytes[at] = XML_CHARS[int(XML_CHARS.length)]!;
      return { bytes, what: `replace byte ${at} with ${JSON.stringify(String.fromCharCode(bytes[at]!))}` };
    }
    case 2:
      return { bytes: Buffer.concat([input.subarray(0, at), input.subarray(at + length)]), what: `cut ${length} bytes at ${at}` };
    case 3:
      return { bytes: Buffer.concat([input.subarray(0, at + length), input.subarray(at)]), what: `double ${length} bytes at ${at}` };
    case 4: {
      const inserted = Buffer.from(Array.from({ length }, () => XML_CHARS[int(XML_CHARS.length)]!));
      return { bytes: Buffer.concat([input.subarray(0, at), inserted, input.subarray(at)]), what: `insert ${length} bytes at ${at}` };
    }
    default:
      return { bytes: input.subarray(0, at), what: `truncate at ${at}` };
  }
}

/** An element of a document as byte offsets: `<start …>inner</end>` (or an empty-element tag, inner = end). */
interface ElementSpan {
  readonly name: string;
  readonly start: number;
  readonly innerStart: number;
  readonly innerEnd: number;
  readonly end: number;
}

const TAG = /<(\/?)([A-Za-z_][\w.-]*(?::[\w.-]+)?)((?:[^>"']|"[^"]*"|'[^']*')*?)(\/?)>/g;

/** The elements of a well-formed document, found by matching its tags (comments and CDATA are not expected). */
function elementSpans(xml: string): ElementSpan[] {
  const spans: ElementSpan[] = [];
  const open: Array<{ name: string; start: number; innerStart: number }> = [];
  for (const m of xml.matchAll(TAG)) {
    const at = m.index;
    const end = at + m[0].length;
    if (m[1]) {
      const o = open.pop();
      if (!o || o.name !== m[2]) return spans;
      spans.push({ name: o.name, start: o.start, innerStart: o.innerStart, innerEnd: at, end });
    } else if (m[4]) spans.push({ name: m[2]!, start: at, innerStart: end, innerEnd: end, end });
    else open.push({ name: m[2]!, start: at, innerStart: end });
  }
  return spans;
}

/**
 * One damage of a document's structure that keeps it well-formed: an element removed, doubled, emptied, or renamed
 * (start and end tag) to another name that occurs in the document. Byte damage rarely yields well-formed XML with a
 * wrong shape; this reaches the code that reads the elements.
 */
export function mutateStructure(input: Buffer, next: () => number): { bytes: Buffer; what: string } {
  const int = (n: number) => Math.floor(next() * n);
  const xml = input.toString('utf8');
  const spans = elementSpans(xml).filter((s) => s.start > 0);
  if (spans.length === 0) return mutate(input, next);
  const s = spans[int(spans.length)]!;
  const out = (text: string, what: string) => ({ bytes: Buffer.from(text, 'utf8'), what: `${what} ${s.name} at ${s.start}` });
  switch (int(4)) {
    case 0:
      return out(xml.slice(0, s.start) + xml.slice(s.end), 'remove');
    case 1:
      return out(xml.slice(0, s.end) + xml.slice(s.start, s.end) + xml.slice(s.end), 'double');
    case 2:
      return s.innerEnd > s.innerStart ? out(xml.slice(0, s.innerStart) + xml.slice(s.innerEnd), 'empty') : out(xml.slice(0, s.start) + xml.slice(s.end), 'remove');
    default: {
      const others = spans.filter((o) => o.name !== s.name);
      if (others.length === 0) return out(xml.slice(0, s.start) + xml.slice(s.end), 'remove');
      const other = others[int(others.length)]!.name;
      const local = other.includes(':') ? other.slice(other.indexOf(':') + 1) : other;
      const renamed = s.name.includes(':') ? `${s.name.slice(0, s.name.indexOf(':'))}:${local}` : local;
      const head = xml.slice(s.start, s.innerStart).replace(s.name, renamed);
      const tail = s.innerEnd === s.end ? '' : xml.slice(s.innerEnd, s.end).replace(s.name, renamed);
      return out(xml.slice(0, s.start) + head + xml.slice(s.innerStart, s.innerEnd) + tail + xml.slice(s.end), `rename to ${renamed}:`);
    }
  }
}
