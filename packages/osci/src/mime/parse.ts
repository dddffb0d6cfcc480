import { OsciError } from '../lib/errors.js';
import type { OsciLimits } from '../lib/limits.js';
import { MimeHeaders } from './headers.js';

/** One body part of a multipart entity. `body` is a view into the input buffer (no copy) unless decoded. */
export interface MimePart {
  readonly headers: MimeHeaders;
  readonly contentId: string | undefined;
  /** The part body after Content-Transfer-Encoding was undone. */
  readonly body: Buffer;
  /** The part body exactly as transmitted (what `cid:` digests of order signatures are computed over). */
  readonly transmitted: Buffer;
}

export interface MimeEntity {
  readonly headers: MimeHeaders;
  readonly boundary: string;
  readonly parts: readonly MimePart[];
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * Parses a MIME `Multipart/Related` entity that starts with its own header lines (as OSCI HTTP bodies do).
 * Part ends are found by the boundary; `Content-Length` headers are hints only (the reference library writes
 * a wrong one on the transport envelope part). Leading blank lines are skipped.
 * Linear in the input: one forward `indexOf` per delimiter.
 */
export function parseMimeEntity(input: Buffer, limits: Pick<OsciLimits, 'maxMimeParts' | 'maxMimeHeaderBytes'>): MimeEntity {
  let pos = 0;
  while (pos < input.length && (input[pos] === 0x0d || input[pos] === 0x0a || input[pos] === 0x20 || input[pos] === 0x09)) pos++;
  const headerEnd = findHeaderEnd(input, pos, limits.maxMimeHeaderBytes);
  if (headerEnd === undefined) throw new OsciError('MIME_MALFORMED', 'the MIME entity headers are not terminated by an empty line');
  const headers = MimeHeaders.parse(input.subarray(pos, headerEnd.start).toString('latin1'));
  if (headers.mediaType !== 'multipart/related') {
    throw new OsciError('MIME_MALFORMED', `expected Multipart/Related, found ${headers.mediaType ?? 'no Content-Type'}`);
  }
  const boundary = headers.param('content-type', 'boundary');
  if (!boundary || boundary.length > 200) throw new OsciError('MIME_MALFORMED', 'Content-Type has no usable boundary parameter');
  const delimiter = Buffer.from('--' + boundary, 'latin1');

  // The first delimiter may directly follow the headers (no preamble) or come after a preamble.
  let cursor = headerEnd.end;
  const first = input.indexOf(delimiter, cursor);
  if (first === -1) throw new OsciError('MIME_MALFORMED', 'the MIME boundary never occurs in the body');
  if (first !== cursor && !(input[first - 1] === 0x0a)) throw new OsciError('MIME_MALFORMED', 'the first boundary delimiter is not at a line start');
  cursor = first + delimiter.length;

  const parts: MimePart[] = [];
  for (;;) {
    if (input[cursor] === 0x2d && input[cursor + 1] === 0x2d) break; // "--" closes the entity
    cursor = skipTransportPadding(input, cursor);
    if (parts.length >= limits.maxMimeParts) throw new OsciError('INPUT_TOO_LARGE', `more than ${limits.maxMimeParts} MIME parts`);
    const partHeaderEnd = findHeaderEnd(input, cursor, limits.maxMimeHeaderBytes, true);
    if (partHeaderEnd === undefined) throw new OsciError('MIME_MALFORMED', `MIME part ${parts.length + 1} has no header terminator`);
    const partHeaders = MimeHeaders.parse(input.subarray(cursor, partHeaderEnd.start).toString('latin1'));
    const bodyStart = partHeaderEnd.end;
    const next = findDelimiter(input, delimiter, bodyStart);
    if (next === -1) throw new OsciError('MIME_MALFORMED', `MIME part ${parts.length + 1} is not closed by a boundary delimiter (truncated message)`);
    const transmitted = input.subarray(bodyStart, next);
    parts.push({ headers: partHeaders, contentId: partHeaders.contentId, transmitted, body: decodeTransferEncoding(partHeaders, transmitted) });
    cursor = next + CRLF.length + delimiter.length;
  }
  return { headers, boundary, parts };
}

function skipTransportPadding(input: Buffer, at: number): number {
  let i = at;
  while (input[i] === 0x20 || input[i] === 0x09) i++;
  if (input[i] === 0x0d && input[i + 1] === 0x0a) return i + 2;
  if (input[i] === 0x0a) return i + 1;
  throw new OsciError('MIME_MALFORMED', 'boundary delimiter is not followed by a line break');
}

/** Finds `\r\n--boundary` followed by `--`, CRLF/LF or whitespace (a boundary prefix inside data does not count). */
function findDelimiter(input: Buffer, delimiter: Buffer, from: number): number {
  let at = from;
  for (;;) {
    const hit = input.indexOf(delimiter, at);
    if (hit === -1) return -1;
    const after = input[hit + delimiter.length];
    const lineStart = hit >= 2 && input[hit - 2] === 0x0d && input[hit - 1] === 0x0a;
    const validEnd = after === undefined ? false : after === 0x2d || after === 0x0d || after === 0x0a || after === 0x20 || after === 0x09;
    if (lineStart && validEnd) {
      if (after === 0x2d && input[hit + delimiter.length + 1] !== 0x2d) {
        at = hit + 1;
        continue;
      }
      return hit - 2;
    }
    at = hit + 1;
  }
}

function findHeaderEnd(input: Buffer, from: number, maxBytes: number, allowEmpty = false): { start: number; end: number } | undefined {
  if (allowEmpty && input[from] === 0x0d && input[from + 1] === 0x0a) return { start: from, end: from + 2 };
  const limit = Math.min(input.length, from + maxBytes + 4);
  const window = input.subarray(from, limit);
  const crlf = window.indexOf(HEADER_END);
  const lf = window.indexOf('\n\n');
  let hit: { start: number; end: number } | undefined;
  if (crlf !== -1) hit = { start: from + crlf, end: from + crlf + 4 };
  if (lf !== -1 && (hit === undefined || from + lf < hit.start)) hit = { start: from + lf, end: from + lf + 2 };
  if (hit === undefined && limit - from > maxBytes) throw new OsciError('INPUT_TOO_LARGE', `MIME header block larger than ${maxBytes} bytes`);
  return hit;
}

export function decodeTransferEncoding(headers: MimeHeaders, body: Buffer): Buffer {
  return transferEncodingOf(headers) === 'base64' ? Buffer.from(body.toString('latin1').replace(/[\r\n\t ]/g, ''), 'base64') : body;
}

/** A part's Content-Transfer-Encoding, or the MIME error for one this implementation does not undo. */
export function transferEncodingOf(headers: MimeHeaders): 'identity' | 'base64' {
  const cte = (headers.get('content-transfer-encoding') ?? 'binary').trim().toLowerCase();
  switch (cte) {
    case 'binary':
    case '8bit':
    case '8-bit':
    case '7bit':
      return 'identity';
    case 'base64':
      return 'base64';
    default:
      throw new OsciError('MIME_UNSUPPORTED_ENCODING', `Content-Transfer-Encoding "${cte}" is not supported`);
  }
}

export function findPart(entity: MimeEntity, contentId: string): MimePart | undefined {
  return entity.parts.find((p) => p.contentId === contentId);
}
