import { describe, expect, it } from 'vitest';
import { buildMimeEntity, newBoundary } from '../src/mime/build.js';
import { parseMimeEntity } from '../src/mime/parse.js';
import { MimeStreamParser } from '../src/mime/stream.js';
import { DEFAULT_LIMITS } from '../src/lib/limits.js';
import { deterministicContext } from '../src/build/context.js';

const B = 'MIME_boundary_test';
const entity = (body: string) => Buffer.from(`MIME-Version: 1.0\r\nContent-Type: Multipart/Related; boundary=${B}; type=text/xml\r\n\r\n${body}`, 'latin1');

describe('MIME Multipart/Related', () => {
  it('takes part ends from the boundary and ignores a wrong Content-Length', () => {
    const e = parseMimeEntity(entity(`--${B}\r\nContent-ID: <osci@message>\r\nContent-Length: 3\r\n\r\n<a>hello</a>\r\n\r\n--${B}--\r\n`), DEFAULT_LIMITS);
    expect(e.parts).toHaveLength(1);
    expect(e.parts[0]!.body.toString()).toBe('<a>hello</a>\r\n');
  });

  it('skips leading blank lines (as reference SOAP faults start) and reads quoted boundaries', () => {
    const raw = Buffer.from(`\r\n\r\nMIME-Version: 1.0\r\nContent-Type: Multipart/Related; boundary="${B}"; type=text/xml\r\n\r\n--${B}\r\nContent-ID: <x>\r\n\r\nX\r\n--${B}--\r\n`);
    expect(parseMimeEntity(raw, DEFAULT_LIMITS).parts[0]!.contentId).toBe('x');
  });

  it('keeps binary parts byte for byte, also bytes that look like a boundary prefix', () => {
    const binary = Buffer.concat([Buffer.from([0, 255, 13, 10]), Buffer.from(`--${B}X not a delimiter\r\n--${B}-`), Buffer.from([13, 10, 0])]);
    const built = buildMimeEntity(B, [{ contentId: 'bin', contentType: 'application/octet-stream', body: binary }]);
    const parsed = parseMimeEntity(built, DEFAULT_LIMITS);
    expect(parsed.parts[0]!.body.equals(binary)).toBe(true);
    expect(parsed.parts[0]!.body.buffer).toBe(built.buffer); // a view, not a copy
  });

  it('decodes base64 parts and keeps the transmitted bytes', () => {
    const data = Buffer.alloc(300, 7);
    const built = buildMimeEntity(B, [{ contentId: 'b64', contentType: 'application/octet-stream', transferEncoding: 'base64', body: data }]);
    const part = parseMimeEntity(built, DEFAULT_LIMITS).parts[0]!;
    expect(part.body.equals(data)).toBe(true);
    expect(part.transmitted.toString('latin1')).toContain('\r\n');
  });

  it('round-trips several parts with headers', () => {
    const built = buildMimeEntity(B, [
      { contentId: 'osci@message', contentType: 'text/xml; charset=UTF-8', transferEncoding: '8bit', body: Buffer.from('<x/>') },
      { contentId: 'a.pdf', contentType: 'application/pdf', extraHeaders: [['Content-Length', '2']], body: Buffer.from('%P') },
    ]);
    const e = parseMimeEntity(built, DEFAULT_LIMITS);
    expect(e.parts.map((p) => [p.contentId, p.headers.mediaType, p.body.toString()])).toEqual([
      ['osci@message', 'text/xml', '<x/>'],
      ['a.pdf', 'application/pdf', '%P'],
    ]);
  });

  it.each([
    ['a missing closing delimiter', `--${B}\r\nContent-ID: <x>\r\n\r\nX\r\n`],
    ['no boundary in the body', `nothing here`],
    ['a part without header terminator', `--${B}\r\nContent-ID: <x>`],
  ])('rejects %s with 9100', (_name, body) => {
    expect(() => parseMimeEntity(entity(body), DEFAULT_LIMITS)).toThrow(expect.objectContaining({ code: '9100', reason: 'MIME_MALFORMED' }));
  });

  it('rejects a non-multipart entity and unknown transfer encodings', () => {
    expect(() => parseMimeEntity(Buffer.from('Content-Type: text/plain\r\n\r\nhi'), DEFAULT_LIMITS)).toThrow(expect.objectContaining({ reason: 'MIME_MALFORMED' }));
    expect(() => parseMimeEntity(entity(`--${B}\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nX\r\n--${B}--\r\n`), DEFAULT_LIMITS)).toThrow(
      expect.objectContaining({ reason: 'MIME_UNSUPPORTED_ENCODING' }),
    );
  });

  it('bounds the number of parts and the header size', () => {
    const many = Array.from({ length: 5 }, (_, i) => `--${B}\r\nContent-ID: <p${i}>\r\n\r\nX\r\n`).join('') + `--${B}--\r\n`;
    expect(() => parseMimeEntity(entity(many), { ...DEFAULT_LIMITS, maxMimeParts: 3 })).toThrow(expect.objectContaining({ reason: 'INPUT_TOO_LARGE' }));
    const bigHeader = `--${B}\r\nX-Big: ${'a'.repeat(5000)}\r\n\r\nX\r\n--${B}--\r\n`;
    expect(() => parseMimeEntity(entity(bigHeader), { ...DEFAULT_LIMITS, maxMimeHeaderBytes: 1024 })).toThrow(expect.objectContaining({ reason: 'INPUT_TOO_LARGE' }));
  });

  it('makes reference-style boundaries from injected randomness', () => {
    const b = newBoundary(deterministicContext('x').random);
    expect(b).toMatch(/^MIME_boundary_[A-Za-z0-9]{24}$/);
    expect(newBoundary(deterministicContext('x').random)).toBe(b);
  });

  it('parses a 64 MiB body in linear time (no quadratic scanning)', () => {
    const big = Buffer.alloc(64 * 1024 * 1024, 0x2d); // all '-' characters: worst case for boundary search
    const built = buildMimeEntity(B, [{ contentId: 'big', contentType: 'application/octet-stream', body: big }]);
    const part = parseMimeEntity(built, DEFAULT_LIMITS).parts[0]!;
    expect(part.body.length).toBe(big.length);
  });
});

describe('MimeStreamParser: the grammar of parseMimeEntity, fed in slices', () => {
  /** Parts (headers, transmitted body) or the error, from the buffer parser and from the stream parser. */
  const viaBuffer = (raw: Buffer) => {
    try {
      return parseMimeEntity(raw, DEFAULT_LIMITS).parts.map((p) => ({ cid: p.contentId, body: p.transmitted.toString('latin1') }));
    } catch (error) {
      return { error: (error as { reason: string }).reason, message: (error as Error).message };
    }
  };
  const viaStream = (raw: Buffer, slice: number) => {
    const parts: Array<{ cid: string | undefined; body: string }> = [];
    const parser = new MimeStreamParser(
      {
        partStart: (_i, headers) => parts.push({ cid: headers.contentId, body: '' }),
        partData: (chunk) => (parts[parts.length - 1]!.body += chunk.toString('latin1')),
        partEnd: () => {},
      },
      DEFAULT_LIMITS,
    );
    try {
      for (let at = 0; at < raw.length; at += slice) parser.push(Buffer.from(raw.subarray(at, at + slice)));
      parser.end();
      return parts;
    } catch (error) {
      return { error: (error as { reason: string }).reason, message: (error as Error).message };
    }
  };
  const samples: Record<string, Buffer> = {
    plain: entity(`--${B}\r\nContent-ID: <a>\r\n\r\nhello\r\n--${B}\r\nContent-ID: <b>\r\n\r\n\r\n--${B}--\r\nepilogue`),
    'LF-only headers, preamble, padding': Buffer.from(
      `\n\nContent-Type: Multipart/Related; boundary=${B}\n\npreamble text\n--${B}  \t\r\nContent-ID: <a>\n\ndata --${B}x\r\n--${B}-y\r\n--${B} \r\n\r\nno headers\r\n--${B}--`,
      'latin1',
    ),
    'empty entity': entity(`--${B}--\r\n`),
    'truncated part': entity(`--${B}\r\nContent-ID: <a>\r\n\r\nhello\r\n--${B}`),
    'no closing delimiter': entity(`--${B}\r\nContent-ID: <a>\r\n\r\nhello\r\n--${B}\r\n`),
    'delimiter not at line start': entity(`xx--${B}\r\n\r\nhello\r\n--${B}--`),
    'no boundary at all': entity(`just text`),
    'headers never end': Buffer.from(`Content-Type: Multipart/Related; boundary=${B}\r\n`),
    'part headers never end': entity(`--${B}\r\nContent-ID: <a>\r\n`),
    'not multipart': Buffer.from('Content-Type: text/xml\r\n\r\n<a/>'),
    'delimiter without line break': entity(`--${B}xyz`),
    'unsupported transfer encoding': entity(`--${B}\r\nContent-ID: <a>\r\n\r\nhello\r\n--${B}\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nx=41\r\n--${B}--`),
    'unsupported transfer encoding, part not closed': entity(`--${B}\r\nContent-Transfer-Encoding: binary\r: binary\r\n\r\nhello`),
  };
  for (const [name, raw] of Object.entries(samples)) {
    it(name, () => {
      const expected = viaBuffer(raw);
      for (const slice of [1, 2, 3, 5, 8, 13, 64, raw.length]) expect(viaStream(raw, slice), `slice ${slice}`).toEqual(expected);
    });
  }
});
