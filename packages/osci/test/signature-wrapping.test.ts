import { describe, expect, it } from 'vitest';
import { buildAcceptDelivery } from '../src/build/orders.js';
import { openMessage } from '../src/open-message.js';
import { openTransport } from '../src/transport/open-transport.js';
import { buildMimeEntity, type MimePartInput } from '../src/mime/build.js';
import { DEFAULT_LIMITS } from '../src/lib/limits.js';
import { TrustStore } from '../src/pki/trust.js';
import { signDocument } from '../src/build/signer.js';
import { collectIds, parseXml, type Element } from '../src/lib/xml.js';
import { NS } from '../src/lib/namespaces.js';
import { verifySignature } from '../src/xmldsig/verify.js';
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

  /** A document with nested and disjoint elements that carry Ids, signed by dave over the given Ids. */
  function signedTestDocument(references: string[]) {
    const signer = demoKey('dave_signature_4096');
    const certificate = `<c:Cert xmlns:c="urn:test" Id="cert"><ds:X509Data xmlns:ds="${NS.ds}"><ds:X509Certificate>${signer.certificate.raw.toString('base64')}</ds:X509Certificate></ds:X509Data></c:Cert>`;
    let nested = 'payload';
    for (let i = 8; i >= 1; i--) nested = `<c:Level xmlns:c="urn:test" Id="level${i}">${nested}</c:Level>`;
    const xml = `<c:Doc xmlns:c="urn:test">${certificate}${nested}<c:Other Id="other">x</c:Other><!--SIG--></c:Doc>`;
    const signed = signDocument(xml, '<!--SIG-->', (sig) => sig.replace('<ds:Signature>', `<ds:Signature xmlns:ds="${NS.ds}">`), references.map((id) => ({ kind: 'c14n' as const, id })), {
      identity: signer,
      certificateId: 'cert',
    });
    const doc = parseXml(signed, DEFAULT_LIMITS);
    const ids = collectIds(doc.documentElement!);
    return {
      signature: doc.documentElement!.getElementsByTagNameNS(NS.ds, 'Signature')[0]!,
      context: { ids, digestCid: () => undefined, resolveCertificateElement: (id: string) => ids.get(id), maxReferences: 100 },
    };
  }

  it('nested-references: a SignedInfo whose referenced elements lie one inside the other is refused before any digest', () => {
    // Each reference is canonicalized on its own: nested targets would multiply the work by the number of references.
    const verify = (ids: string[]) => {
      const { signature, context } = signedTestDocument(ids);
      return verifySignature(signature, context);
    };
    // Disjoint elements verify.
    expect(verify(['level1', 'other'])).toMatchObject({ valid: true, problems: [] });
    // Nested ones do not, even though every digest would match, and no reference is digested.
    const nestedResult = verify(['level1', 'level2', 'level3', 'level8', 'other']);
    expect(nestedResult.valid).toBe(false);
    expect(nestedResult.problems).toEqual([expect.stringMatching(/^reference #level2 lies inside the element of reference #level1: signed elements must not overlap$/)]);
    expect(nestedResult.references).toEqual([]);
  });

  it('many-signatures-over-one-element: signatures of one document share their digests, each element is canonicalized once', () => {
    const { signature, context } = signedTestDocument(['level1', 'other']);
    const digests = new Map<Element, Map<string, Buffer>>();
    expect(verifySignature(signature, { ...context, digests })).toMatchObject({ valid: true });
    expect([...digests.keys()].map((e) => e.getAttribute('Id'))).toEqual(['level1', 'other']);
    // The next signature takes the digests from the map instead of computing them again: planted wrong ones show it.
    for (const entries of digests.values()) for (const key of entries.keys()) entries.set(key, Buffer.alloc(32));
    expect(verifySignature(signature, { ...context, digests }).problems).toEqual(['reference #level1: digest mismatch', 'reference #other: digest mismatch']);
    expect(verifySignature(signature, context)).toMatchObject({ valid: true });
  });
});
