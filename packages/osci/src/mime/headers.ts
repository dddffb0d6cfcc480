import { OsciError } from '../lib/errors.js';

/** MIME header fields of one entity or part; names are case-insensitive (stored lower-case). */
export class MimeHeaders {
  readonly #fields = new Map<string, string>();
  /** Header lines in the order received, for diagnostics and round trips. */
  readonly raw: Array<[name: string, value: string]> = [];

  static parse(block: string): MimeHeaders {
    const headers = new MimeHeaders();
    const lines = block.split(/\r?\n/);
    let current: [string, string] | undefined;
    for (const line of lines) {
      if (line === '') continue;
      if (/^[ \t]/.test(line)) {
        if (!current) throw new OsciError('MIME_MALFORMED', 'header continuation line without a header');
        current[1] += ' ' + line.trim();
        continue;
      }
      const colon = line.indexOf(':');
      if (colon <= 0) throw new OsciError('MIME_MALFORMED', `malformed MIME header line "${line.slice(0, 60)}"`);
      current = [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
      headers.raw.push(current);
    }
    for (const [name, value] of headers.raw) headers.#fields.set(name.toLowerCase(), value);
    return headers;
  }

  get(name: string): string | undefined {
    return this.#fields.get(name.toLowerCase());
  }

  set(name: string, value: string): void {
    this.#fields.set(name.toLowerCase(), value);
    const existing = this.raw.find(([n]) => n.toLowerCase() === name.toLowerCase());
    if (existing) existing[1] = value;
    else this.raw.push([name, value]);
  }

  /** The bare media type of Content-Type, lower-cased (`multipart/related`). */
  get mediaType(): string | undefined {
    return this.get('content-type')?.split(';')[0]?.trim().toLowerCase();
  }

  /** A parameter of a structured header such as `boundary` of Content-Type. */
  param(header: string, name: string): string | undefined {
    const value = this.get(header);
    if (!value) return undefined;
    for (const piece of splitParams(value).slice(1)) {
      const eq = piece.indexOf('=');
      if (eq === -1) continue;
      if (piece.slice(0, eq).trim().toLowerCase() !== name.toLowerCase()) continue;
      let v = piece.slice(eq + 1).trim();
      if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
      return v;
    }
    return undefined;
  }

  /** Content-ID without angle brackets. */
  get contentId(): string | undefined {
    const v = this.get('content-id');
    return v === undefined ? undefined : v.replace(/^<(.*)>$/, '$1');
  }
}

function splitParams(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '"' && value[i - 1] !== '\\') quoted = !quoted;
    if (ch === ';' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}
