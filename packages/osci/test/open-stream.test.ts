import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gcmMethod } from '../src/build/content.js';
import { buildAcceptDelivery } from '../src/build/orders.js';
import { NS_DECLS } from '../src/build/xml-writer.js';
import { AES256_GCM, encryptGcm } from '../src/xmlenc/algorithms/symmetric.js';
import { openMessage, type OpenOptions } from '../src/open-message.js';
import { MessageStreamOpener, openMessageFile } from '../src/open-stream.js';
import { DEFAULT_BUILD_CONTEXT } from '../src/build/context.js';
import { encryptTransport } from '../src/build/transport.js';
import { DEFAULT_LIMITS } from '../src/lib/limits.js';
import { openTransport } from '../src/transport/open-transport.js';
import { ADDRESSEE_CIPHER, handMadeAcceptDelivery } from './support/hand-made.js';
import { observe, streamed } from './support/opening.js';
import { demoKey, demoTrust, recipientKeys, vectorFile, vectorIndex, vectorMeta } from './support/vectors.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const trust = demoTrust();
const cases = vectorIndex();

function optionsFor(c: (typeof cases)[number]): OpenOptions {
  const meta = vectorMeta(c);
  const legacy = c.kind === 'positive' && (/cbc|1_5/.test(meta.transport_layer.sym_alg ?? '') || /rsa-1_5/.test(meta.content_layer.key_transport ?? ''));
  return {
    keys: recipientKeys(c),
    trust,
    allowLegacyAlgorithms: legacy,
    allowUnencrypted: c.kind === 'positive' && !meta.transport_layer.encrypted,
    now: new Date('2026-06-01T00:00:00Z'),
  };
}

describe('MessageStreamOpener: the same verdict as openMessage for every reference vector, however the bytes are sliced', () => {
  for (const c of cases) {
    it(`${c.case} (${c.kind})`, () => {
      const raw = vectorFile(c, 'request.bin');
      const options = optionsFor(c);
      const expected = observe(() => openMessage(raw, { ...options, retainAttachments: false }));
      for (const slice of [1, 7, 61, 1000, 4096, 65536, raw.length]) {
        if (slice < 1000 && raw.length > 200_000) continue;
        const received = new Map<string, Buffer[]>();
        const run = streamed(raw, slice, options, received);
        expect(observe(run.opened), `slice ${slice}`).toEqual(expected);
        const result = expected as { content?: { attachments?: Array<{ refId: string; sha256: string; size: number }> } };
        // What was streamed out is the plaintext the report names.
        for (const a of result.content?.attachments ?? []) {
          const data = Buffer.concat(received.get(a.refId) ?? []);
          expect(sha256(data), `slice ${slice}, ${a.refId}`).toBe(a.sha256);
        }
      }
    });
  }

  it('calls onOrderVerified as openMessage does: once, for a verified order, before the opening ends', () => {
    const called: number[] = [];
    for (const c of cases) {
      const raw = vectorFile(c, 'request.bin');
      const calls = (open: (options: OpenOptions) => unknown) => {
        const seen: string[] = [];
        try {
          open({ ...optionsFor(c), onOrderVerified: (envelope) => void seen.push(envelope.messageType) });
        } catch {
          // a rejected message: what counts is whether the callback came
        }
        return seen;
      };
      const whole = calls((options) => openMessage(raw, options));
      const arriving = calls((options) => {
        const opener = new MessageStreamOpener(options);
        for (let at = 0; at < raw.length; at += 4096) opener.push(raw.subarray(at, at + 4096));
        return opener.finish();
      });
      expect(arriving, c.case).toEqual(whole);
      expect(whole.length, c.case).toBeLessThanOrEqual(1);
      called.push(whole.length);
    }
    // Every positive vector is a verified order; the negative ones with a broken transport or signature are not.
    expect(called.filter((n) => n === 1).length).toBeGreaterThanOrEqual(cases.filter((c) => c.kind === 'positive').length);
    expect(called.filter((n) => n === 0).length).toBeGreaterThan(5);
  });

  it('decrypts the reference vectors as they arrive (not by collecting them) where the transport is AES-GCM', () => {
    const gcm = cases.filter((c) => c.kind === 'positive' && /gcm/.test(vectorMeta(c).transport_layer.sym_alg ?? ''));
    expect(gcm.length).toBeGreaterThan(3);
    for (const c of gcm) {
      const run = streamed(vectorFile(c, 'request.bin'), 4096, optionsFor(c));
      expect(run.opener.streaming, c.case).toBe(true);
      expect(run.opened().content.ok).toBe(true);
    }
  });
});

describe('MessageStreamOpener on large and damaged messages', () => {
  const dir = mkdtempSync(join(tmpdir(), 'osci-stream-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const intermediary = { signature: demoKey('osci_manager_signature_4096'), cipherCertificate: demoKey('osci_manager_cipher_4096').certificate };
  const build = (attachment: Buffer) =>
    Buffer.concat(
      buildAcceptDelivery({
        intermediary,
        originator: { cipherCertificate: intermediary.cipherCertificate, signature: demoKey('alice_signature_4096') },
        addresseeCipher: demoKey('bob_cipher_4096').certificate,
        messageId: 'stream-large-1',
        subject: 'Großer Antrag',
        content: {
          contents: [
            { kind: 'base64', data: Buffer.from('<antrag/>') },
            { kind: 'attachment', refId: 'scan.pdf', data: attachment },
          ],
        },
      }).message.chunks,
    );
  const options: OpenOptions = { keys: [demoKey('bob_cipher_4096')], trust };

  it('opens a 48 MiB attachment from a file with memory bounded by the envelopes', async () => {
    const attachment = Buffer.alloc(48 * 1024 * 1024, 7);
    for (let i = 0; i < attachment.length; i += 4096) attachment.writeUInt32BE(i, i);
    const path = join(dir, 'large.bin');
    writeFileSync(path, build(attachment));
    const expectedSha = sha256(attachment);
    let size = 0;
    const hash = createHash('sha256');
    let peakArrayBuffers = 0;
    const before = process.memoryUsage().arrayBuffers;
    const opened = await openMessageFile(path, {
      ...options,
      onAttachmentData: (refId, chunk) => {
        expect(refId).toBe('scan.pdf');
        size += chunk.length;
        hash.update(chunk);
        peakArrayBuffers = Math.max(peakArrayBuffers, process.memoryUsage().arrayBuffers - before);
      },
    });
    expect(opened.messageId).toBe('stream-large-1');
    expect(opened.signatures.every((s) => s.valid)).toBe(true);
    expect(opened.content.ok && opened.content.layer.attachments[0]).toMatchObject({
      refId: 'scan.pdf',
      size: attachment.length,
      sha256: expectedSha,
      data: undefined,
    });
    expect(size).toBe(attachment.length);
    expect(hash.digest('hex')).toBe(expectedSha);
    // Garbage not yet collected may linger, but nothing near the 48 MiB payload is held.
    expect(peakArrayBuffers).toBeLessThan(16 * 1024 * 1024);
  });

  it('rejects a large message whose attachment was altered on the way (order signature), after streaming it', () => {
    const raw = build(Buffer.alloc(3 * 1024 * 1024, 1));
    const expected = observe(() => openMessage(raw, { ...options, retainAttachments: false }));
    expect(expected).toMatchObject({ signatures: expect.any(Array) });
    // Flip one byte of the transport ciphertext in the middle: the transport tag fails.
    const damaged = Buffer.from(raw);
    damaged[Math.floor(raw.length / 2)]! ^= 0x01;
    const verdict = observe(() => openMessage(damaged, { ...options, retainAttachments: false }));
    expect(verdict).toMatchObject({ error: { code: '9202' } });
    expect(observe(streamed(damaged, 65536, options).opened)).toEqual(verdict);
    // Cut off: the outer entity is not closed.
    const truncated = raw.subarray(0, raw.length - 5000);
    const cut = observe(() => openMessage(truncated, { ...options, retainAttachments: false }));
    expect(cut).toMatchObject({ error: { reason: 'MIME_MALFORMED' } });
    expect(observe(streamed(truncated, 65536, options).opened)).toEqual(cut);
  });

  it('openMessageFile stops reading at the size limit', async () => {
    const path = join(dir, 'too-large.bin');
    writeFileSync(path, build(Buffer.alloc(3 * 1024 * 1024, 4)));
    await expect(openMessageFile(path, { ...options, limits: { maxMessageBytes: 1024 * 1024 } })).rejects.toMatchObject({ reason: 'INPUT_TOO_LARGE' });
  });

  it("passes a failure of the caller's attachment sink (a full disk) through unchanged — it is not a verdict on the message", () => {
    const raw = build(Buffer.alloc(2 * 1024 * 1024, 5));
    const full = Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    const failingSink = () => {
      let calls = 0;
      return () => {
        if (++calls === 3) throw full;
      };
    };
    const opener = new MessageStreamOpener({ ...options, onAttachmentData: failingSink() });
    let caught: unknown;
    try {
      for (let at = 0; at < raw.length; at += 65536) opener.push(raw.subarray(at, at + 65536));
      opener.finish();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBe(full);
    expect(() => openMessage(raw, { ...options, retainAttachments: false, onAttachmentData: failingSink() })).toThrow(full);
  });

  it('fails like openMessage when the content layer breaks at a second attachment, after a first valid one has streamed', () => {
    // A hand-made content layer: the first attachment's key comes in MgmtData (valid), the second's is wrapped for a
    // reader we do not hold (CONTENT_NO_KEY) — the layer fails only once the first attachment was read.
    const key = randomBytes(32);
    const first = Buffer.alloc(300 * 1024, 9);
    const iv = randomBytes(12);
    const encryptedData = (refId: string, keyInfo: string) =>
      `<xenc:EncryptedData Id="Attachment${refId}" MimeType="text/xml">${gcmMethod()}` +
      `<ds:KeyInfo>${keyInfo}</ds:KeyInfo><xenc:CipherData><xenc:CipherReference URI="cid:${refId}"><xenc:Transforms>` +
      `<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#base64"/></xenc:Transforms></xenc:CipherReference></xenc:CipherData></xenc:EncryptedData>`;
    const foreignKey =
      `<xenc:EncryptedKey><xenc:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#rsa-oaep"/><ds:KeyInfo>` +
      `<ds:RetrievalMethod Type="http://www.w3.org/2000/09/xmldsig#X509Data" URI="#nobody"/></ds:KeyInfo>` +
      `<xenc:CipherData><xenc:CipherValue>${randomBytes(512).toString('base64')}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey>`;
    const contentPackage =
      `<osci:ContentContainer ${NS_DECLS} Id="cc1"><osci:Content Id="c1" href="cid:first.bin"/><osci:Content Id="c2" href="cid:second.bin"/>` +
      encryptedData('first.bin', `<ds:MgmtData>${key.toString('base64')}</ds:MgmtData>`) +
      encryptedData('second.bin', foreignKey) +
      `</osci:ContentContainer>`;
    const part = (contentId: string, body: Buffer) => ({ contentId, contentType: 'application/octet-stream', transferEncoding: 'binary' as const, body });
    const raw = handMadeAcceptDelivery({
      messageId: 'stream-second-key',
      contentPackage,
      attachments: [part('first.bin', encryptGcm(AES256_GCM, key, iv, first)), part('second.bin', randomBytes(100 * 1024))],
    });
    const expected = observe(() => openMessage(raw, { ...options, retainAttachments: false }));
    // The message itself opens (order signature valid); its content layer does not.
    expect(expected).toMatchObject({
      messageId: 'stream-second-key',
      signatures: [{ scope: 'order', valid: true }],
      content: { error: { reason: 'CONTENT_NO_KEY' } },
    });
    for (const slice of [7, 4096, 65536]) {
      const received = new Map<string, Buffer[]>();
      expect(observe(streamed(raw, slice, options, received).opened)).toEqual(expected);
      // The second attachment's key failed: nothing of it is decrypted or handed on.
      expect(received.has('second.bin')).toBe(false);
    }
  });

  it('stops at the size limit while the message arrives', () => {
    const raw = build(Buffer.alloc(2 * 1024 * 1024, 2));
    const opener = new MessageStreamOpener({ ...options, limits: { maxMessageBytes: 1024 * 1024 } });
    expect(() => {
      for (let at = 0; at < raw.length; at += 65536) opener.push(raw.subarray(at, at + 65536));
    }).toThrow(expect.objectContaining({ reason: 'INPUT_TOO_LARGE' }));
  });
});

describe('MessageStreamOpener on parts with an unsupported Content-Transfer-Encoding (found by fuzzing)', () => {
  const c = cases.find((x) => x.case === 'b-accept-delivery')!;
  const raw = vectorFile(c, 'request.bin');
  const options = { ...optionsFor(c), retainAttachments: false };
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(raw.subarray(0, 512).toString('latin1'))![1]!;
  const close = Buffer.from(`\r\n--${boundary}--`, 'latin1');
  const closeAt = raw.lastIndexOf(close);
  const extraPart = (cte: string) =>
    Buffer.from(`\r\n--${boundary}\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: ${cte}\r\nContent-ID: <extra>\r\n\r\nx`, 'latin1');
  const sameVerdict = (bytes: Buffer, reason: string) => {
    const expected = observe(() => openMessage(Buffer.from(bytes), options));
    expect(expected).toMatchObject({ error: { reason } });
    for (const slice of [1, 61, 4096, bytes.length]) expect(observe(streamed(bytes, slice, options).opened), `slice ${slice}`).toEqual(expected);
  };

  it('refuses a cipher part whose encoding header is damaged, as openMessage does (it used to open it)', () => {
    const header = Buffer.from('Content-Transfer-Encoding: binary\r\nContent-ID: <osci_enc>', 'latin1');
    const at = raw.indexOf(header);
    expect(at).toBeGreaterThan(0);
    const damaged = Buffer.concat([
      raw.subarray(0, at),
      Buffer.from('Content-Transfer-Encoding: binary\r: binary\r\nContent-ID: <osci_enc>', 'latin1'),
      raw.subarray(at + header.length),
    ]);
    sameVerdict(damaged, 'MIME_UNSUPPORTED_ENCODING');
  });

  it('refuses a further outer part after the ciphertext with such an encoding once it is closed, and a truncated one as malformed', () => {
    sameVerdict(Buffer.concat([raw.subarray(0, closeAt), extraPart('quoted-printable'), raw.subarray(closeAt)]), 'MIME_UNSUPPORTED_ENCODING');
    sameVerdict(Buffer.concat([raw.subarray(0, closeAt), extraPart('quoted-printable')]), 'MIME_MALFORMED');
    // A supported encoding in such a part changes nothing.
    const extra = Buffer.concat([raw.subarray(0, closeAt), extraPart('binary'), raw.subarray(closeAt)]);
    expect(observe(streamed(extra, 4096, options).opened)).toEqual(observe(() => openMessage(Buffer.from(extra), options)));
  });

  it('refuses an attachment part of the inner entity with such an encoding, as openMessage does', () => {
    const bytes = handMadeAcceptDelivery({
      messageId: 'stream-cte',
      contentPackage: '',
      attachments: [
        { contentId: 'odd.bin', contentType: 'application/octet-stream', transferEncoding: 'quoted-printable' as 'binary', body: Buffer.from('abc') },
      ],
    });
    sameVerdict(bytes, 'MIME_UNSUPPORTED_ENCODING');
  });

  it('reports an unclosed inner part with such an encoding as a malformed entity, as openMessage does', () => {
    // The inner entity of a hand-made message, cut after an added part that is never closed, then encrypted for bob.
    const transported = handMadeAcceptDelivery({ messageId: 'stream-cte-open', contentPackage: '', attachments: [] });
    const opened = openTransport(transported, { keys: recipientKeys(c), allowLegacyAlgorithms: false, allowUnencrypted: false, limits: DEFAULT_LIMITS });
    const innerBytes = Buffer.from(opened.innerBytes);
    const innerClose = innerBytes.lastIndexOf(Buffer.from(`\r\n--${opened.inner.boundary}--`, 'latin1'));
    expect(innerClose).toBeGreaterThan(0);
    const cut = Buffer.concat([
      innerBytes.subarray(0, innerClose),
      Buffer.from(
        `\r\n--${opened.inner.boundary}\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\nContent-ID: <odd>\r\n\r\nabc`,
        'latin1',
      ),
    ]);
    const bytes = Buffer.concat(encryptTransport([cut], ADDRESSEE_CIPHER.certificate, DEFAULT_BUILD_CONTEXT));
    sameVerdict(bytes, 'MIME_MALFORMED');
  });
});


/** A ds:Signature with one reference to attachment `refId` by `digestMethod`; its SignatureValue does not verify. */
function unverifiedSignatureOver(refId: string, digestMethod: string, digestValue: Buffer): string {
  return (
    `<ds:Signature><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>` +
    `<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="cid:${refId}">` +
    `<ds:DigestMethod Algorithm="${digestMethod}"/><ds:DigestValue>${digestValue.toString('base64')}</ds:DigestValue>` +
    `</ds:Reference></ds:SignedInfo><ds:SignatureValue>AAAA</ds:SignatureValue></ds:Signature>`
  );
}

describe('an attachment two ContentContainers read with different digest methods', () => {
  // Container 1 refers to a.bin; container 2 too, and its signature asks for a SHA-512 digest of it. (The signature
  // itself does not verify — the sink's bytes are what is checked here.)
  const data = randomBytes(100_000);
  const sha512Reference = unverifiedSignatureOver('a.bin', 'http://www.w3.org/2001/04/xmlenc#sha512', createHash('sha512').update(data).digest());
  const bytes = handMadeAcceptDelivery({
    messageId: 'two-readers-of-one-attachment',
    contentPackage:
      `<osci:ContentContainer Id="c1"><osci:Content href="cid:a.bin"/></osci:ContentContainer>` +
      `<osci:ContentContainer Id="c2">${sha512Reference}<osci:Content href="cid:a.bin"/></osci:ContentContainer>`,
    attachments: [{ contentId: 'a.bin', contentType: 'application/octet-stream', body: data }],
  });
  const bob = demoKey('bob_cipher_4096');

  it('reaches the sink exactly once, whole, from both openers', () => {
    for (const open of [
      (o: OpenOptions) => openMessage(Buffer.from(bytes), o),
      (o: OpenOptions) => {
        const opener = new MessageStreamOpener(o);
        for (let at = 0; at < bytes.length; at += 4096) opener.push(bytes.subarray(at, at + 4096));
        return opener.finish();
      },
    ]) {
      const received: Buffer[] = [];
      const opened = open({ keys: [bob], retainAttachments: false, onAttachmentData: (_id, chunk) => received.push(Buffer.from(chunk)) });
      expect(Buffer.concat(received).length).toBe(data.length);
      expect(Buffer.concat(received).equals(data)).toBe(true);
      expect(opened.content.ok).toBe(false); // the made-up signature value
    }
  });
});

describe('a content signature over an attachment with a digest method OSCI no longer allows (found by fuzzing)', () => {
  it('fails the content layer in both openers alike; the streaming opener used to refuse the whole message', () => {
    const data = randomBytes(50_000);
    const sha1Reference = unverifiedSignatureOver('a.bin', 'http://www.w3.org/2000/09/xmldsig#sha1', createHash('sha1').update(data).digest());
    const bytes = handMadeAcceptDelivery({
      messageId: 'sha1-content-digest',
      contentPackage: `<osci:ContentContainer Id="c1">${sha1Reference}<osci:Content href="cid:a.bin"/></osci:ContentContainer>`,
      attachments: [{ contentId: 'a.bin', contentType: 'application/octet-stream', body: data }],
    });
    const options: OpenOptions = { keys: [demoKey('bob_cipher_4096')], retainAttachments: false };
    const expected = observe(() => openMessage(Buffer.from(bytes), options));
    expect(expected).toMatchObject({ messageId: 'sha1-content-digest', content: { error: { reason: 'SIGNATURE_ALGORITHM_UNSUPPORTED' } } });
    for (const slice of [1000, 4096, bytes.length]) expect(observe(streamed(bytes, slice, options).opened), `slice ${slice}`).toEqual(expected);
  });
});
