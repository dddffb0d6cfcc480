import { OsciError } from '../lib/errors.js';
import type { OsciLimits } from '../lib/limits.js';
import { MimeHeaders } from './headers.js';
import { transferEncodingOf } from './parse.js';

/**
 * What a {@link MimeStreamParser} reports, in input order. A part with a Content-Transfer-Encoding this
 * implementation does not undo is not reported: its error is thrown once the part is closed, as parseMimeEntity does.
 */
export interface MimeStreamHandler {
  /** The entity's own header lines were read (before any part). */
  entity?(headers: MimeHeaders, boundary: string): void;
  partStart(index: number, headers: MimeHeaders): void;
  /** Part body bytes as transmitted (transfer encoding not undone). Valid only during the call. */
  partData(chunk: Buffer): void;
  partEnd(index: number): void;
}

type State = 'lead' | 'headers' | 'preamble' | 'delimited' | 'partHeaders' | 'body' | 'closed';

/**
 * Incremental form of {@link parseMimeEntity}: the same grammar and the same errors, fed slice by slice, with part
 * bodies passed on as they arrive. Memory is bounded by the header limit and the boundary length, whatever the
 * size of the parts. Slices may be split anywhere (inside a boundary, a header block or a line break).
 */
export class MimeStreamParser {
  readonly #handler: MimeStreamHandler;
  readonly #limits: Pick<OsciLimits, 'maxMimeParts' | 'maxMimeHeaderBytes'>;
  #state: State = 'lead';
  /** Bytes received but not yet consumed. */
  #pending: Buffer = Buffer.alloc(0);
  #delimiter: Buffer = Buffer.alloc(0);
  /** CRLF + delimiter: how a body ends. */
  #bodyEnd: Buffer = Buffer.alloc(0);
  /** True while the preamble search is still at the first byte after the entity headers. */
  #preambleAtStart = true;
  /** Last byte of the preamble dropped so far (for the line-start check of the first delimiter). */
  #preambleLastByte = -1;
  #parts = 0;
  /** The current part's unsupported Content-Transfer-Encoding, thrown when the part is closed. */
  #partError: unknown;

  constructor(handler: MimeStreamHandler, limits: Pick<OsciLimits, 'maxMimeParts' | 'maxMimeHeaderBytes'>) {
    this.#handler = handler;
    this.#limits = limits;
  }

  /** True once the closing delimiter was read; the rest (epilogue) is ignored. */
  get closed(): boolean {
    return this.#state === 'closed';
  }

  push(chunk: Buffer): void {
    if (this.#state === 'closed' || chunk.length === 0) return;
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    this.#run(false);
    // The caller may reuse `chunk` for its next read: keep a copy of the (small) undecided rest.
    if (this.#pending.length > 0 && this.#pending.buffer === chunk.buffer) this.#pending = Buffer.from(this.#pending);
  }

  /** Input is complete: throws the error `parseMimeEntity` would for an entity that ends here. */
  end(): void {
    if (this.#state === 'closed') return;
    this.#run(true);
    switch (this.#state as State) {
      case 'closed':
        return;
      case 'lead':
      case 'headers':
        throw new OsciError('MIME_MALFORMED', 'the MIME entity headers are not terminated by an empty line');
      case 'preamble':
        throw new OsciError('MIME_MALFORMED', 'the MIME boundary never occurs in the body');
      case 'delimited':
        throw new OsciError('MIME_MALFORMED', 'boundary delimiter is not followed by a line break');
      case 'partHeaders':
        throw new OsciError('MIME_MALFORMED', `MIME part ${this.#parts + 1} has no header terminator`);
      case 'body':
        throw new OsciError('MIME_MALFORMED', `MIME part ${this.#parts} is not closed by a boundary delimiter (truncated message)`);
    }
  }

  /** Consumes as much of `#pending` as can be decided now; `atEnd`: no more input will come. */
  #run(atEnd: boolean): void {
    for (;;) {
      const before = this.#state;
      const progressed = this.#step(atEnd);
      if (!progressed && before === this.#state) return;
    }
  }

  #consume(n: number): void {
    this.#pending = this.#pending.subarray(n);
  }

  #step(atEnd: boolean): boolean {
    const input = this.#pending;
    switch (this.#state) {
      case 'lead': {
        let i = 0;
        while (i < input.length && (input[i] === 0x0d || input[i] === 0x0a || input[i] === 0x20 || input[i] === 0x09)) i++;
        this.#consume(i);
        if (i < input.length) this.#state = 'headers';
        return false;
      }
      case 'headers': {
        const end = findHeaderEnd(input, this.#limits.maxMimeHeaderBytes, false);
        if (end === undefined) return false;
        const headers = MimeHeaders.parse(input.subarray(0, end.start).toString('latin1'));
        if (headers.mediaType !== 'multipart/related') {
          throw new OsciError('MIME_MALFORMED', `expected Multipart/Related, found ${headers.mediaType ?? 'no Content-Type'}`);
        }
        const boundary = headers.param('content-type', 'boundary');
        if (!boundary || boundary.length > 200) throw new OsciError('MIME_MALFORMED', 'Content-Type has no usable boundary parameter');
        this.#delimiter = Buffer.from('--' + boundary, 'latin1');
        this.#bodyEnd = Buffer.concat([Buffer.from('\r\n'), this.#delimiter]);
        this.#consume(end.end);
        this.#handler.entity?.(headers, boundary);
        this.#state = 'preamble';
        return true;
      }
      case 'preamble': {
        const hit = input.indexOf(this.#delimiter);
        if (hit === -1) {
          // Keep what could be the start of the delimiter; remember the byte before it for the line-start check.
          const keep = Math.min(input.length, this.#delimiter.length - 1);
          const drop = input.length - keep;
          if (drop > 0) {
            this.#preambleLastByte = input[drop - 1]!;
            this.#preambleAtStart = false;
            this.#consume(drop);
          }
          return false;
        }
        const atStart = hit === 0 && this.#preambleAtStart;
        const previous = hit > 0 ? input[hit - 1] : this.#preambleLastByte;
        if (!atStart && previous !== 0x0a) throw new OsciError('MIME_MALFORMED', 'the first boundary delimiter is not at a line start');
        this.#consume(hit + this.#delimiter.length);
        this.#state = 'delimited';
        return true;
      }
      case 'delimited': {
        // "--" closes the entity; otherwise transport padding and a line break start the next part.
        if (input.length < 2 && !atEnd) return false;
        if (input[0] === 0x2d && input[1] === 0x2d) {
          this.#state = 'closed';
          this.#pending = Buffer.alloc(0);
          return true;
        }
        let i = 0;
        while (input[i] === 0x20 || input[i] === 0x09) i++;
        if (i > this.#limits.maxMimeHeaderBytes)
          throw new OsciError('INPUT_TOO_LARGE', `transport padding longer than ${this.#limits.maxMimeHeaderBytes} bytes`);
        if (i === input.length || (input[i] === 0x0d && i + 1 === input.length)) {
          if (!atEnd) return false;
        }
        if (input[i] === 0x0d && input[i + 1] === 0x0a) this.#consume(i + 2);
        else if (input[i] === 0x0a) this.#consume(i + 1);
        else throw new OsciError('MIME_MALFORMED', 'boundary delimiter is not followed by a line break');
        if (this.#parts >= this.#limits.maxMimeParts) throw new OsciError('INPUT_TOO_LARGE', `more than ${this.#limits.maxMimeParts} MIME parts`);
        this.#state = 'partHeaders';
        return true;
      }
      case 'partHeaders': {
        const end = findHeaderEnd(input, this.#limits.maxMimeHeaderBytes, true);
        if (end === undefined) {
          // An empty header block is "\r\n" right away; one byte "\r" cannot be decided yet.
          return false;
        }
        const headers = MimeHeaders.parse(input.subarray(0, end.start).toString('latin1'));
        this.#consume(end.end);
        this.#parts++;
        this.#partError = undefined;
        try {
          transferEncodingOf(headers);
          this.#handler.partStart(this.#parts - 1, headers);
        } catch (error) {
          if (!(error instanceof OsciError) || error.reason !== 'MIME_UNSUPPORTED_ENCODING') throw error;
          this.#partError = error;
        }
        this.#state = 'body';
        return true;
      }
      case 'body':
        return this.#body(atEnd);
      case 'closed':
        return false;
    }
  }

  /** Passes body bytes on up to the next valid delimiter (CRLF, delimiter, then "--", CR, LF, SP or HT). */
  #body(atEnd: boolean): boolean {
    const input = this.#pending;
    const bodyEnd = this.#bodyEnd;
    let from = 0;
    for (;;) {
      const hit = input.indexOf(bodyEnd, from);
      if (hit === -1) break;
      const after = hit + bodyEnd.length;
      if (after >= input.length || (input[after] === 0x2d && after + 1 >= input.length)) {
        if (atEnd) {
          from = hit + 1;
          continue;
        }
        // Undecided until more bytes arrive: pass on what lies before it.
        if (hit > 0) this.#data(input.subarray(0, hit));
        this.#consume(hit);
        return false;
      }
      const c = input[after]!;
      const validEnd = c === 0x2d ? input[after + 1] === 0x2d : c === 0x0d || c === 0x0a || c === 0x20 || c === 0x09;
      if (!validEnd) {
        from = hit + 1;
        continue;
      }
      if (hit > 0) this.#data(input.subarray(0, hit));
      this.#consume(after);
      if (this.#partError !== undefined) throw this.#partError;
      this.#handler.partEnd(this.#parts - 1);
      this.#state = 'delimited';
      return true;
    }
    // No delimiter: everything but a possible delimiter start at the end is body.
    const keep = atEnd ? 0 : partialMatchAtEnd(input, bodyEnd);
    const emit = input.length - keep;
    if (emit > 0) {
      this.#data(input.subarray(0, emit));
      this.#consume(emit);
    }
    return false;
  }

  #data(chunk: Buffer): void {
    if (this.#partError === undefined) this.#handler.partData(chunk);
  }
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** Length of the longest end of `input` that begins `needle` (bytes that may start a match in the next slice). */
function partialMatchAtEnd(input: Buffer, needle: Buffer): number {
  const first = needle[0]!;
  for (let j = input.indexOf(first, Math.max(0, input.length - (needle.length - 1))); j !== -1; j = input.indexOf(first, j + 1)) {
    const tail = input.subarray(j);
    if (needle.subarray(0, tail.length).equals(tail)) return tail.length;
  }
  return 0;
}

/** As in parseMimeEntity: the earlier of CRLF CRLF and LF LF, within the header limit. */
function findHeaderEnd(input: Buffer, maxBytes: number, allowEmpty: boolean): { start: number; end: number } | undefined {
  if (allowEmpty && input[0] === 0x0d) {
    if (input.length < 2) return undefined;
    if (input[1] === 0x0a) return { start: 0, end: 2 };
  }
  const window = input.subarray(0, Math.min(input.length, maxBytes + 4));
  const crlf = window.indexOf(HEADER_END);
  const lf = window.indexOf('\n\n');
  let hit: { start: number; end: number } | undefined;
  if (crlf !== -1) hit = { start: crlf, end: crlf + 4 };
  if (lf !== -1 && (hit === undefined || lf < hit.start)) hit = { start: lf, end: lf + 2 };
  if (hit === undefined && window.length > maxBytes) throw new OsciError('INPUT_TOO_LARGE', `MIME header block larger than ${maxBytes} bytes`);
  return hit;
}
