import { randomBytes } from 'node:crypto';

export interface MimePartInput {
  readonly contentId: string;
  readonly contentType: string;
  /** `binary`, `8bit` or `base64` (the body is then base64-encoded with 76-character lines). */
  readonly transferEncoding?: 'binary' | '8bit' | 'base64';
  /** Extra header lines in order, e.g. Content-Length. */
  readonly extraHeaders?: ReadonlyArray<readonly [string, string]>;
  readonly body: Buffer;
}

const BOUNDARY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `MIME_boundary_` + 24 random characters, as the reference implementation writes. */
export function newBoundary(random: (n: number) => Buffer = randomBytes): string {
  const bytes = random(24);
  let out = 'MIME_boundary_';
  for (const b of bytes) out += BOUNDARY_ALPHABET[b % BOUNDARY_ALPHABET.length];
  return out;
}

/**
 * Frames parts as an OSCI MIME entity including its own `MIME-Version`/`Content-Type` header lines.
 * Returns the chunks in order so large bodies are never concatenated unless the caller wants one buffer.
 */
export function buildMimeEntityChunks(boundary: string, parts: readonly MimePartInput[]): Buffer[] {
  const chunks: Buffer[] = [
    Buffer.from(`MIME-Version: 1.0\r\nContent-Type: Multipart/Related; boundary=${boundary}; type=text/xml\r\n\r\n`, 'latin1'),
  ];
  for (const part of parts) {
    const cte = part.transferEncoding ?? 'binary';
    const body = cte === 'base64' ? wrapBase64(part.body) : part.body;
    let head = `--${boundary}\r\nContent-Type: ${part.contentType}\r\nContent-Transfer-Encoding: ${cte}\r\nContent-ID: <${part.contentId}>\r\n`;
    for (const [name, value] of part.extraHeaders ?? []) head += `${name}: ${value}\r\n`;
    chunks.push(Buffer.from(head + '\r\n', 'latin1'), body, Buffer.from('\r\n', 'latin1'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`, 'latin1'));
  return chunks;
}

export function buildMimeEntity(boundary: string, parts: readonly MimePartInput[]): Buffer {
  return Buffer.concat(buildMimeEntityChunks(boundary, parts));
}

function wrapBase64(data: Buffer): Buffer {
  const b64 = data.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return Buffer.from(lines.join('\r\n'), 'latin1');
}
