import { describe, expect, it } from 'vitest';
import { decodeBase64Text, parseXml } from '../src/lib/xml.js';
import { DEFAULT_LIMITS } from '../src/lib/limits.js';
import { openMessage } from '../src/open-message.js';
import { buildMimeEntity } from '../src/mime/build.js';
import { randomBytes } from 'node:crypto';
import { buildContainer, IdSequence } from '../src/build/content.js';
import { DEFAULT_BUILD_CONTEXT } from '../src/build/context.js';
import { wrapKey } from '../src/xmlenc/algorithms/key-transport.js';
import { encryptedForAddressee, handMadeAcceptDelivery } from './support/hand-made.js';
import { demoKey, recipientKeys, vectorFile, vectorIndex } from './support/vectors.js';

const wrap = (xml: string) =>
  buildMimeEntity('MIME_boundary_safety', [{ contentId: 'osci@message', contentType: 'text/xml; charset=UTF-8', body: Buffer.from(xml) }]);

describe('XML safety', () => {
  it.each([
    ['an external entity (XXE)', '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'],
    ['entity expansion (billion laughs)', '<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><x>&b;</x>'],
    ['a bare DOCTYPE', '<!DOCTYPE soap:Envelope><x/>'],
  ])('rejects %s before parsing', (_name, xml) => {
    expect(() => parseXml(xml, DEFAULT_LIMITS)).toThrow(expect.objectContaining({ reason: 'XML_FORBIDDEN_CONSTRUCT', code: '9100' }));
  });

  it('rejects processing instructions other than the XML declaration, allows comments and CDATA', () => {
    expect(() => parseXml('<x><?evil do?></x>', DEFAULT_LIMITS)).toThrow(expect.objectContaining({ reason: 'XML_FORBIDDEN_CONSTRUCT' }));
    expect(parseXml('<?xml version="1.0" encoding="UTF-8"?>\r\n<x><!-- c --><![CDATA[<!DOCTYPE>]]></x>', DEFAULT_LIMITS).documentElement?.localName).toBe('x');
  });

  it('rejects malformed XML, invalid UTF-8, oversize documents and deep nesting', () => {
    expect(() => parseXml('<x><y></x>', DEFAULT_LIMITS)).toThrow(expect.objectContaining({ reason: 'XML_MALFORMED' }));
    expect(() => parseXml(Buffer.from([0x3c, 0x78, 0x3e, 0xff, 0x3c, 0x2f, 0x78, 0x3e]), DEFAULT_LIMITS)).toThrow(
      expect.objectContaining({ reason: 'MIME_UNSUPPORTED_ENCODING' }),
    );
    expect(() => parseXml('<x>' + 'a'.repeat(2000) + '</x>', { ...DEFAULT_LIMITS, maxXmlBytes: 1000 })).toThrow(
      expect.objectContaining({ reason: 'INPUT_TOO_LARGE' }),
    );
    expect(() => parseXml('<a>'.repeat(100) + '</a>'.repeat(100), DEFAULT_LIMITS)).toThrow(expect.objectContaining({ reason: 'INPUT_TOO_LARGE' }));
  });

  it('bounds the namespace declarations of a document (inclusive C14N is quadratic in them)', () => {
    const declare = (n: number) => Array.from({ length: n }, (_, i) => ` xmlns:p${i}="urn:${i}"`).join('');
    const at = DEFAULT_LIMITS.maxXmlNamespaceDeclarations;
    expect(parseXml(`<x${declare(at)}/>`, DEFAULT_LIMITS).documentElement?.attributes).toHaveLength(at);
    expect(() => parseXml(`<x${declare(at + 1)}/>`, DEFAULT_LIMITS)).toThrow(expect.objectContaining({ reason: 'INPUT_TOO_LARGE', code: '9100' }));
  });

  it('rejects a message with a DOCTYPE in the envelope part with 9100', () => {
    const raw = wrap('<!DOCTYPE x [<!ENTITY e "x">]><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body/></soap:Envelope>');
    expect(() => openMessage(raw, { keys: [], allowUnencrypted: true })).toThrow(expect.objectContaining({ code: '9100' }));
  });

  it('bounds the whole message', () => {
    const c = vectorIndex().find((x) => x.case === 'b-accept-delivery')!;
    expect(() => openMessage(vectorFile(c, 'request.bin'), { keys: recipientKeys(c), limits: { maxMessageBytes: 1000 } })).toThrow(
      expect.objectContaining({ reason: 'INPUT_TOO_LARGE' }),
    );
  });

  it('refuses unencrypted transport and legacy algorithms unless enabled', () => {
    const plain = vectorIndex().find((x) => x.case === 'c-accept-no-transport-enc')!;
    expect(() => openMessage(vectorFile(plain, 'request.bin'), { keys: [demoKey('bob_cipher_4096')] })).toThrow(expect.objectContaining({ code: '9202' }));
    const legacy = vectorIndex().find((x) => x.case === 'c-accept-legacy-cbc-rsa15')!;
    expect(() => openMessage(vectorFile(legacy, 'request.bin'), { keys: [demoKey('bob_cipher_4096')] })).toThrow(
      expect.objectContaining({ reason: 'ALGORITHM_LEGACY_REFUSED' }),
    );
  });
});

describe('base64 element text', () => {
  const data = Buffer.from(Array.from({ length: 200 }, (_, i) => i));
  const wrapped = data.toString('base64').replace(/(.{76})/g, '$1\r\n');

  it('decodes line-wrapped text (XML whitespace anywhere) to the same bytes', () => {
    expect(decodeBase64Text(wrapped, 'CipherValue').equals(data)).toBe(true);
    expect(decodeBase64Text(` \t${wrapped}\n `, 'CipherValue').equals(data)).toBe(true);
    expect(decodeBase64Text('QUJD', 'x').toString()).toBe('ABC');
    expect(decodeBase64Text('QUI=', 'x').toString()).toBe('AB');
    expect(decodeBase64Text('QQ = =', 'x').toString()).toBe('A');
    expect(decodeBase64Text('', 'x').length).toBe(0);
  });

  it.each([
    ['a character outside the alphabet', 'QU*D'],
    ['a non-ASCII character', 'QUJ\u00e4'],
    ['non-breaking space (not XML whitespace)', 'QU\u00a0JD'],
    ['data after padding', 'QQ==QUJD'],
    ['three padding characters', 'Q==='],
    ['a length that is not a multiple of four', 'QUJDR'],
    ['URL-safe alphabet', 'QU-_'],
  ])('refuses %s', (_what, text) => {
    expect(() => decodeBase64Text(text, 'CipherValue')).toThrow(
      expect.objectContaining({ code: '9100', reason: 'ENVELOPE_INVALID', message: expect.stringContaining('CipherValue is not valid base64') }),
    );
  });

});

describe('content-layer bounds', () => {
  it('bounds the content keys decrypted with a private key per message; a key that occurs again counts once', () => {
    const bob = demoKey('bob_cipher_4096');
    const container = (n: number) => buildContainer({ contents: [{ kind: 'base64', data: Buffer.from(`Teil ${n}`) }] }, new IdSequence(), DEFAULT_BUILD_CONTEXT).xml;
    const delivery = (keys: Buffer[]) => {
      const wrapped = new Map(keys.map((k) => [k, wrapKey(bob.certificate.publicKey, k)]));
      return handMadeAcceptDelivery({ messageId: 'many-keys', contentPackage: keys.map((key, n) => encryptedForAddressee(Buffer.from(container(n)), { id: `encdata_${n}`, key, wrappedKey: wrapped.get(key)! })).join(''), attachments: [] });
    };
    const open = (raw: Buffer, maxContentKeys: number) => openMessage(raw, { keys: [bob], limits: { maxContentKeys } }).content;

    const three = delivery([randomBytes(32), randomBytes(32), randomBytes(32)]);
    expect(open(three, 3)).toMatchObject({ ok: true, layer: { containers: [{}, {}, {}] } });
    const refused = open(three, 2);
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.error).toMatchObject({ reason: 'INPUT_TOO_LARGE', code: '9100', message: expect.stringContaining('more than 2 content keys') });
    // Three containers under one key, wrapped once: one private-key operation.
    const shared = randomBytes(32);
    expect(open(delivery([shared, shared, shared]), 1)).toMatchObject({ ok: true, layer: { containers: [{}, {}, {}] } });
  });
});
