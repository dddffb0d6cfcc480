/**
 * Base64 decoding of text arriving in slices: characters matched by `ignore` (line breaks, blanks) are dropped and
 * whole 4-character groups decoded as they complete, so the result equals decoding the joined text at once.
 */
export class Base64StreamDecoder {
  readonly #ignore: RegExp;
  #rest = '';

  constructor(ignore: RegExp) {
    this.#ignore = new RegExp(ignore.source, ignore.flags.includes('g') ? ignore.flags : ignore.flags + 'g');
  }

  update(chunk: Buffer): Buffer {
    const text = this.#rest + chunk.toString('latin1').replace(this.#ignore, '');
    const whole = text.length - (text.length % 4);
    this.#rest = text.slice(whole);
    return whole === 0 ? Buffer.alloc(0) : Buffer.from(text.slice(0, whole), 'base64');
  }

  final(): Buffer {
    const rest = this.#rest;
    this.#rest = '';
    return rest.length === 0 ? Buffer.alloc(0) : Buffer.from(rest, 'base64');
  }
}
