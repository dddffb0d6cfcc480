import { describe, expect, it } from 'vitest';
import { buildAcceptDelivery } from '../src/build/orders.js';
import { openMessage } from '../src/open-message.js';
import { openTransport } from '../src/transport/open-transport.js';
import { buildMimeEntity, type MimePartInput } from '../src/mime/build.js';
import { DEFAULT_LIMITS } from '../src/lib/limits.js';
import { TrustStore } from '../src/pki/trust.js';
import { demoCertificate, demoKey, demoTrust } from './support/vectors.js';

const bob = demoKey('bob_cipher_4096');
const alice = { cipherCertificate: demoKey('alice_cipher_4096').certificate, signature: demoKey('alice_signature_4096') };

function delivery(intermediarySignature = demoKey('osci_manager_signature_4096')) {
  const { message } = buildAcceptDelivery({
    intermediary: { signature: intermediarySignature, cipherCertificate: demoKey('osci_manager_cipher_4096').certificate },
    originator: alice,
    addresseeCipher: bob.certificate,
    messageId: 'wrap-1',
    subject: 'Original',
    content: { contents: [{ kind: 'base64', data: Buffer.from('<antrag/>') }, { kind: 'attachment', refId: 'a.bin', data: Buffer.from('attachment') }] },
  });
  return Buffer.concat(message.chunks);
}

/** The inner entity of a message we built, as editable parts (transport layer removed). */
function innerParts(raw: Buffer): { envelope: string; attachments: MimePartInput[] } {
  const t = openTransport(raw, { keys: [bob], allowLegacyAlgorithms: false, allowUnencrypted: false, limits: DEFAULT_LIMITS });
  const [env, ...rest] = t.inner.parts;
  return {
    envelope: env!.body.toString('utf8'),
    attachments: rest.map((p) => ({ contentId: p.contentId!, contentType: p.headers.get('content-type')!, body: p.body })),
  };
}

function reassemble(envelope: string, attachments: MimePartInput[]): Buffer {
  return buildMimeEntity('MIME_boundary_attack', [{ contentId: 'osci@message', contentType: 'text/xml; charset=UTF-8', transferEncoding: '8bit', body: Buffer.from(envelope) }, ...attachments]);
}

const open = (raw: Buffer, trust = demoTrust()) => openMessage(raw, { keys: [bob], trust, allowUnencrypted: true });

describe('signature wrapping and certificate substitution', () => {
  it('the untouched inner entity opens (baseline for the attacks below)', () => {
    const { envelope, attachments } = innerParts(delivery());
    expect(open(reassemble(envelope, attachments)).subject).toBe('Original');
  });

  it('body-id-duplicated-in-custom-header: a second element with Id="body" is rejected (9100)', () => {
    const { envelope, attachments } = innerParts(delivery());
    const evil = envelope.replace('</soap:Header>', '<x:Evil xmlns:x="urn:evil" Id="body"><osci:Subject xmlns:osci="http://www.osci.de/2002/04/osci">Fake</osci:Subject></x:Evil></soap:Header>');
    expect(() => open(reassemble(evil, attachments))).toThrow(expect.objectContaining({ reason: 'ENVELOPE_DUPLICATE_ID', code: '9100' }));
  });

  it('unsigned-custom-header-added: a header block no reference covers is rejected (9602)', () => {
    const { envelope, attachments } = innerParts(delivery());
    const evil = envelope.replace('</soap:Header>', '<x:Routing xmlns:x="urn:evil" Id="routing">elsewhere</x:Routing></soap:Header>');
    expect(() => open(reassemble(evil, attachments))).toThrow(expect.objectContaining({ code: '9602' }));
  });

  it('unsigned-attachment-part-added: an extra MIME part no reference covers is rejected (9602)', () => {
    const { envelope, attachments } = innerParts(delivery());
    expect(() => open(reassemble(envelope, [...attachments, { contentId: 'smuggled.exe', contentType: 'application/octet-stream', body: Buffer.from('MZ') }]))).toThrow(
      expect.objectContaining({ code: '9602' }),
    );
  });

  it('subject-changed-in-signed-order-block: any edit of a signed block breaks its digest (9601)', () => {
    const { envelope, attachments } = innerParts(delivery());
    const evil = envelope.replace('<osci:Subject>Original</osci:Subject>', '<osci:Subject>Changed</osci:Subject>');
    expect(evil).not.toBe(envelope);
    expect(() => open(reassemble(evil, attachments))).toThrow(expect.objectContaining({ code: '9601' }));
  });

  it('body-id-renamed: a reference that resolves to nothing makes the signature invalid (9601)', () => {
    const { envelope, attachments } = innerParts(delivery());
    const evil = envelope.replace('Id="body"', 'Id="body2"');
    expect(() => open(reassemble(evil, attachments))).toThrow(expect.objectContaining({ code: '9601' }));
  });

  it('second-signedinfo-inserted: a signature with two SignedInfo is rejected (9601)', () => {
    const { envelope, attachments } = innerParts(delivery());
    const evil = envelope.replace('<ds:SignatureValue>', '<ds:SignedInfo></ds:SignedInfo><ds:SignatureValue>');
    expect(() => open(reassemble(evil, attachments))).toThrow(expect.objectContaining({ code: '9601' }));
  });

  it('signature-removed: an unsigned order is rejected (9600)', () => {
    const { envelope, attachments } = innerParts(delivery());
    const evil = envelope.replace(/<osci:ClientSignature.*?<\/osci:ClientSignature>/s, '');
    expect(() => open(reassemble(evil, attachments))).toThrow(expect.objectContaining({ code: '9600' }));
  });

  it('resigned-by-attacker-own-cert-in-keyinfo: a valid signature by an untrusted certificate is rejected', () => {
    // dave signs as "intermediary" and puts his own certificate into the message; only osci_manager is trusted.
    const raw = delivery(demoKey('dave_signature_4096'));
    const onlyOsciManager = new TrustStore([demoCertificate('osci_manager_signature_4096')]);
    const opened = openMessage(raw, { keys: [bob], trust: demoTrust() });
    expect(opened.orderSignature?.valid).toBe(true); // mathematically fine …
    expect(() => openMessage(raw, { keys: [bob], trust: onlyOsciManager })).toThrow(expect.objectContaining({ reason: 'CERTIFICATE_UNTRUSTED' })); // … but not trusted
  });

  it('expired-at-verification-time: certificates are checked against the clock', () => {
    expect(() => openMessage(delivery(), { keys: [bob], trust: demoTrust(), now: new Date('2040-01-01T00:00:00Z') })).toThrow(expect.objectContaining({ reason: 'CERTIFICATE_EXPIRED' }));
  });
});
