import { describe, expect, it } from 'vitest';
import {
  buildAcceptDelivery,
  buildExitDialog,
  buildFetchDelivery,
  buildFetchProcessCard,
  buildInitDialog,
  buildProcessDelivery,
  buildStoreDelivery,
} from '../src/build/orders.js';
import {
  buildResponseToAcceptDelivery,
  buildResponseToAcceptDeliveryAsync,
  buildResponseToProcessDelivery,
  buildResponseToProcessDeliveryAsync,
  buildSoapFault,
} from '../src/build/responses.js';
import { deterministicContext } from '../src/build/context.js';
import { openMessage } from '../src/open-message.js';
import { openTransport } from '../src/transport/open-transport.js';
import { parseMimeEntity } from '../src/mime/parse.js';
import { DEFAULT_LIMITS } from '../src/lib/limits.js';
import { MESSAGE_TYPES } from '../src/soap/message-types.js';
import { checkResponseControlBlock } from '../src/soap/control-block.js';
import { inspectMessage } from '../src/inspect.js';
import { validateOsci } from './support/osci-xsd.js';
import { demoKey, demoTrust, recipientKeys, vectorFile, vectorIndex } from './support/vectors.js';

const alice = { cipherCertificate: demoKey('alice_cipher_4096').certificate, signature: demoKey('alice_signature_4096') };
const intermediaryCipher = demoKey('osci_manager_cipher_4096');
const intermediary = { signature: demoKey('osci_manager_signature_4096'), cipherCertificate: intermediaryCipher.certificate };
const bobCipher = demoKey('bob_cipher_4096');
const trust = demoTrust();
const dialog = { conversationId: '4711', sequenceNumber: 1, supplierChallenge: 'c3VwcGxpZXI=' };
const antrag = Buffer.from('<?xml version="1.0" encoding="UTF-8"?><fim:Antrag xmlns:fim="urn:example:efa:antrag"><Ort>Köln</Ort></fim:Antrag>');
const pdf = Buffer.from('%PDF-1.4\n% Anlage\n');

async function assertSchemaValid(xml: string, type: keyof typeof MESSAGE_TYPES) {
  const result = await validateOsci(xml, MESSAGE_TYPES[type].schema);
  expect(result.errors).toEqual([]);
  expect(result.valid).toBe(true);
}

async function assertTransportEnvelopeValid(raw: Buffer) {
  const outer = parseMimeEntity(raw, DEFAULT_LIMITS);
  const result = await validateOsci(outer.parts[0]!.body.toString('utf8'), 'soapMessageEncrypted.xsd');
  expect(result.errors).toEqual([]);
}

describe('client orders we build', () => {
  const cases = [
    ['initDialog', () => buildInitDialog({ client: alice, intermediaryCipher: intermediaryCipher.certificate })],
    ['exitDialog', () => buildExitDialog({ client: alice, intermediaryCipher: intermediaryCipher.certificate, dialog })],
    [
      'fetchProcessCard',
      () =>
        buildFetchProcessCard({
          client: alice,
          intermediaryCipher: intermediaryCipher.certificate,
          dialog,
          selection: { kind: 'RecentModification', since: new Date('2026-01-01T00:00:00Z') },
          limit: 10,
        }),
    ],
    [
      'fetchDelivery',
      () =>
        buildFetchDelivery({
          client: alice,
          intermediaryCipher: intermediaryCipher.certificate,
          dialog,
          selection: { kind: 'MessageId', messageIds: ['msg-1'] },
        }),
    ],
    [
      'storeDelivery',
      () =>
        buildStoreDelivery({
          client: alice,
          intermediaryCipher: intermediaryCipher.certificate,
          addresseeCipher: bobCipher.certificate,
          messageId: 'msg-store-1',
          subject: 'Antrag & Anlage <1>',
          content: {
            contents: [
              { kind: 'base64', data: antrag },
              { kind: 'attachment', refId: 'anlage.pdf', contentType: 'application/pdf', data: pdf },
            ],
          },
        }),
    ],
  ] as const;

  for (const [type, build] of cases) {
    it(`${type} validates against the OSCI XSD and opens again with our parser`, async () => {
      const { message, challenge } = build();
      await assertSchemaValid(message.envelopeXml, type);
      const raw = Buffer.concat(message.chunks);
      await assertTransportEnvelopeValid(raw);
      const opened = openMessage(raw, { keys: [intermediaryCipher, bobCipher], trust });
      expect(opened.messageType).toBe(type);
      expect(opened.envelope.controlBlock?.challenge).toBe(challenge);
      expect(opened.orderSignature?.valid).toBe(true);
      expect(opened.signatures[0]?.certificate?.trusted).toBe(true);
      if (type === 'storeDelivery') {
        expect(opened.messageId).toBe('msg-store-1');
        expect(opened.subject).toBe('Antrag & Anlage <1>');
        expect(opened.content.ok).toBe(true);
        if (opened.content.ok) {
          expect(opened.content.layer.containers[0]!.contents[0]!.data!.equals(antrag)).toBe(true);
          expect(opened.content.layer.attachments[0]!.data!.equals(pdf)).toBe(true);
          expect(opened.signatures.filter((s) => s.scope === 'content').every((s) => s.valid)).toBe(true);
        }
      }
    });
  }

  it('carries selection rules and limits that our parser reads back', () => {
    const { message } = buildFetchProcessCard({
      client: alice,
      intermediaryCipher: intermediaryCipher.certificate,
      dialog,
      selection: { kind: 'MessageId', messageIds: ['a', 'b'] },
      limit: 3,
    });
    const opened = openMessage(Buffer.concat(message.chunks), { keys: [intermediaryCipher] });
    expect(opened.envelope.order.selectionRule).toEqual({ kind: 'MessageId', value: 'a' });
    expect(opened.envelope.order.quantityLimit).toBe(3);
    expect(opened.envelope.controlBlock).toMatchObject({ conversationId: '4711', sequenceNumber: 1, response: 'c3VwcGxpZXI=' });
  });
});

describe('answers of a passive recipient', () => {
  const bobSignature = demoKey('bob_signature_4096');
  const vector = (name: string) => vectorIndex().find((c) => c.case === name)!;

  it('ResponseToAcceptDelivery to the reference AcceptDelivery validates, decrypts with the intermediary key and echoes the Challenge', async () => {
    const c = vector('b-accept-delivery');
    const request = openMessage(vectorFile(c, 'request.bin'), { keys: recipientKeys(c) });
    const response = buildResponseToAcceptDelivery({ request: request.envelope, identity: { signature: bobSignature }, feedback: ['0800'] });
    await assertSchemaValid(response.envelopeXml, 'responseToAcceptDelivery');
    const raw = Buffer.concat(response.chunks);
    await assertTransportEnvelopeValid(raw);
    const opened = openMessage(raw, { keys: [intermediaryCipher], trust });
    expect(opened.messageType).toBe('responseToAcceptDelivery');
    expect(opened.envelope.order.feedback).toEqual([{ code: '0800', text: 'Auftrag ausgeführt, Dialog beendet', lang: 'de' }]);
    expect(opened.signatures[0]).toMatchObject({ valid: true, signer: expect.stringContaining('CN=Bob Signature 4096') });
    expect(() => checkResponseControlBlock(opened.envelope, { challenge: request.envelope.controlBlock!.challenge! })).not.toThrow();
    expect(() => checkResponseControlBlock(opened.envelope, { challenge: 'other' })).toThrow(expect.objectContaining({ code: '9400' }));
  });

  it('ResponseToAcceptDelivery with an error feedback (9601) validates too', async () => {
    const c = vector('b-accept-delivery');
    const request = openMessage(vectorFile(c, 'request.bin'), { keys: recipientKeys(c) });
    const response = buildResponseToAcceptDelivery({ request: request.envelope, identity: { signature: bobSignature }, feedback: ['9601'] });
    await assertSchemaValid(response.envelopeXml, 'responseToAcceptDelivery');
    expect(inspectMessage(Buffer.concat(response.chunks), { keys: [intermediaryCipher] }).feedback).toEqual(['9601']);
  });

  it('ResponseToProcessDelivery with reply content validates and the originator can read the reply', async () => {
    const c = vector('b-process-delivery');
    const request = openMessage(vectorFile(c, 'request.bin'), { keys: recipientKeys(c) });
    const reply = Buffer.from('<antwort>empfangen</antwort>');
    const response = buildResponseToProcessDelivery({
      request: request.envelope,
      identity: { signature: bobSignature, cipherCertificate: bobCipher.certificate },
      feedback: ['0800'],
      subject: 'Antwort',
      content: {
        contents: [
          { kind: 'base64', data: reply },
          { kind: 'attachment', refId: 'bescheid.pdf', contentType: 'application/pdf', data: pdf },
        ],
      },
    });
    await assertSchemaValid(response.envelopeXml, 'responseToProcessDelivery');
    const raw = Buffer.concat(response.chunks);
    // The vector's originator names carol's cipher certificate (CipherCertificateOriginator): the reply is encrypted for it.
    const opened = openMessage(raw, { keys: [intermediaryCipher, demoKey('carol_cipher_4096')], trust });
    expect(opened.messageId).toBe('vec-S-process-0001-response');
    expect(opened.content.ok).toBe(true);
    if (opened.content.ok) {
      expect(opened.content.layer.containers[0]!.contents[0]!.data!.equals(reply)).toBe(true);
      expect(opened.content.layer.attachments[0]!.data!.equals(pdf)).toBe(true);
    }
    expect(opened.signatures.every((s) => s.valid)).toBe(true);
  });

  it('the Async builders sign on the thread pool and build the same answers', async () => {
    const accept = openMessage(vectorFile(vector('b-accept-delivery'), 'request.bin'), { keys: recipientKeys(vector('b-accept-delivery')) });
    const process = openMessage(vectorFile(vector('b-process-delivery'), 'request.bin'), { keys: recipientKeys(vector('b-process-delivery')) });
    const identity = { signature: bobSignature, cipherCertificate: bobCipher.certificate };
    const reply = { contents: [{ kind: 'base64' as const, data: Buffer.from('<antwort/>') }] };
    const pairs = [
      [
        buildResponseToAcceptDelivery({ request: accept.envelope, identity, feedback: ['0800'], context: deterministicContext('a') }),
        await buildResponseToAcceptDeliveryAsync({ request: accept.envelope, identity, feedback: ['0800'], context: deterministicContext('a') }),
      ],
      [
        buildResponseToProcessDelivery({ request: process.envelope, identity, feedback: ['0800'], context: deterministicContext('p') }),
        await buildResponseToProcessDeliveryAsync({ request: process.envelope, identity, feedback: ['0800'], context: deterministicContext('p') }),
      ],
    ] as const;
    for (const [sync, async] of pairs) {
      // Same envelope and inner entity byte for byte (RSA-PKCS#1 v1.5 signatures are deterministic); the transport layer
      // differs only by the RSA-OAEP padding, which OpenSSL randomizes itself.
      expect(async.envelopeXml).toBe(sync.envelopeXml);
      expect(Buffer.concat(async.inner).equals(Buffer.concat(sync.inner))).toBe(true);
      const opened = openMessage(Buffer.concat(async.chunks), { keys: [intermediaryCipher, demoKey('carol_cipher_4096')], trust });
      expect(opened.signatures.every((s) => s.valid)).toBe(true);
    }
    // With reply content (its key transport is randomized by OpenSSL, so not byte for byte): the originator reads it.
    const withReply = await buildResponseToProcessDeliveryAsync({ request: process.envelope, identity, feedback: ['0800'], content: reply });
    const opened = openMessage(Buffer.concat(withReply.chunks), { keys: [intermediaryCipher, demoKey('carol_cipher_4096')], trust });
    expect(opened.content.ok && opened.content.layer.containers[0]!.contents[0]!.data!.toString()).toBe('<antwort/>');
    expect(opened.signatures.map((s) => [s.scope, s.valid])).toEqual([
      ['order', true],
      ['content', true],
    ]);
    // A bad key fails the promise, not the process.
    const wrongKey = { ...bobSignature, privateKey: intermediaryCipher.certificate.publicKey };
    await expect(buildResponseToAcceptDeliveryAsync({ request: accept.envelope, identity: { signature: wrongKey }, feedback: ['0800'] })).rejects.toThrow();
  });

  it('SOAP faults validate against soapMessageFault.xsd and carry the code', async () => {
    for (const code of ['9100', '9200', '9202', '9000'] as const) {
      const raw = buildSoapFault(code);
      const xml = parseMimeEntity(raw, DEFAULT_LIMITS).parts[0]!.body.toString('utf8');
      expect((await validateOsci(xml, 'soapMessageFault.xsd')).valid).toBe(true);
      const opened = openMessage(raw, { keys: [], allowUnencrypted: true });
      expect(opened.envelope.fault).toMatchObject({ code, faultcode: code === '9000' ? 'soap:Server' : 'soap:Client' });
    }
  });
});

describe('intermediary deliveries we build (sender for tests and integrators)', () => {
  const metaData = {
    id: 'messagemetadata',
    xml: '<xta:MessageMetaData xmlns:xta="http://www.osci.eu/ws/2014/10/transport" Id="messagemetadata"><xta:DeliveryAttributes><xta:Origin>2026-01-01T00:00:00Z</xta:Origin></xta:DeliveryAttributes></xta:MessageMetaData>',
  };
  for (const type of ['acceptDelivery', 'processDelivery'] as const) {
    it(`${type} validates, opens for bob and keeps the custom MessageMetaData header`, async () => {
      const options = {
        intermediary,
        originator: alice,
        addresseeCipher: bobCipher.certificate,
        messageId: `built-${type}`,
        subject: 'EfA Antrag',
        content: {
          contents: [
            { kind: 'base64' as const, data: antrag },
            { kind: 'attachment' as const, refId: 'anlage.pdf', contentType: 'application/pdf', data: pdf },
          ],
        },
        customHeaders: [metaData],
      };
      const { message } = type === 'acceptDelivery' ? buildAcceptDelivery(options) : buildProcessDelivery({ ...options, messageIdResponse: 'built-response' });
      await assertSchemaValid(message.envelopeXml, type);
      const opened = openMessage(Buffer.concat(message.chunks), { keys: [bobCipher], trust, requireTrustedContentSigners: true });
      expect(opened.messageType).toBe(type);
      expect(opened.messageId).toBe(`built-${type}`);
      expect(opened.subject).toBe('EfA Antrag');
      expect(opened.envelope.customHeaders.map((h) => h.localName)).toEqual(['MessageMetaData']);
      expect(opened.signatures.map((s) => [s.scope, s.valid, s.certificate?.trusted])).toEqual([
        ['order', true, true],
        ['content', true, true],
      ]);
      if (type === 'processDelivery') expect(opened.envelope.order.messageIdResponse).toBe('built-response');
    });
  }

  it('is deterministic where the protocol allows: same randomness ⇒ same transport plaintext and same GCM ciphertext of the content', () => {
    const build = () =>
      buildAcceptDelivery({
        intermediary,
        originator: alice,
        addresseeCipher: bobCipher.certificate,
        messageId: 'det-1',
        content: { contents: [{ kind: 'base64', data: antrag }] },
        context: deterministicContext('seed-1'),
      }).message;
    const a = build();
    const b = build();
    // RSA-OAEP key wrapping is randomized inside the crypto library, so EncryptedKey values (and with them the Body
    // digest and the SignatureValue) differ; every other byte, including the GCM ciphertext of the content, is equal.
    const strip = (xml: string) =>
      xml
        .replace(/<xenc:EncryptedKey>.*?<\/xenc:EncryptedKey>/gs, '')
        .replace(/<ds:SignatureValue>.*?<\/ds:SignatureValue>/gs, '')
        .replace(/(<ds:Reference URI="#body">.*?<ds:DigestValue>).*?(<\/ds:DigestValue>)/s, '$1$2');
    expect(strip(a.envelopeXml)).toBe(strip(b.envelopeXml));
    const contentCipher = (xml: string) =>
      /<xenc:CipherData><xenc:CipherValue>([^<]*)<\/xenc:CipherValue><\/xenc:CipherData><\/xenc:EncryptedData><\/osci:ContentPackage>/.exec(xml)?.[1];
    expect(contentCipher(a.envelopeXml)).toBeDefined();
    expect(contentCipher(a.envelopeXml)).toBe(contentCipher(b.envelopeXml));
    const innerA = openTransport(Buffer.concat(a.chunks), { keys: [bobCipher], allowLegacyAlgorithms: false, allowUnencrypted: false, limits: DEFAULT_LIMITS });
    expect(innerA.innerBytes.equals(Buffer.concat(a.inner))).toBe(true);
  });
});
