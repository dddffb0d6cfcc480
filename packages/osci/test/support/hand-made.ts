import type { X509Certificate } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { certificateId } from '../../src/build/certificates.js';
import { gcmMethod, oaepMethod } from '../../src/build/content.js';
import { base64Lines } from '../../src/build/xml-writer.js';
import { wrapKey } from '../../src/xmlenc/algorithms/key-transport.js';
import { AES256_GCM, encryptGcm } from '../../src/xmlenc/algorithms/symmetric.js';
import { composeMessage } from '../../src/build/compose.js';
import { DEFAULT_BUILD_CONTEXT } from '../../src/build/context.js';
import type { MimePartInput } from '../../src/mime/build.js';
import { demoKey } from './vectors.js';

/** The demo intermediary (osci_manager) and the addressee bob, as the hand-made messages of the tests use them. */
export const INTERMEDIARY = { signature: demoKey('osci_manager_signature_4096'), cipherCertificate: demoKey('osci_manager_cipher_4096').certificate };
export const ADDRESSEE_CIPHER = { role: 'CipherCertificateAddressee' as const, certificate: demoKey('bob_cipher_4096').certificate };

/**
 * An AcceptDelivery for bob, signed by the demo intermediary and transport-encrypted for bob, around a content package
 * the test writes itself (e.g. a content layer no builder would produce).
 */
export function handMadeAcceptDelivery(input: {
  readonly messageId: string;
  readonly contentPackage: string;
  readonly attachments: readonly MimePartInput[];
  /** Certificate entries the order header carries besides the addressee's cipher certificate (e.g. a content author's). */
  readonly nonIntermediaryCertificates?: ReadonlyArray<{ readonly role: 'SignatureCertificateOriginator'; readonly certificate: X509Certificate }>;
}): Buffer {
  const signer = { role: 'SignatureCertificateIntermediary' as const, certificate: INTERMEDIARY.signature.certificate };
  return Buffer.concat(
    composeMessage(
      {
        type: 'acceptDelivery',
        controlBlock: { challenge: Buffer.from(input.messageId).toString('base64') },
        signature: { block: 'ClientSignature', identity: INTERMEDIARY.signature, certificateId: certificateId(signer) },
        orderInner:
          `<osci:ProcessCardBundle><osci:MessageId>${Buffer.from(input.messageId).toString('base64')}</osci:MessageId>` +
          `<osci:ProcessCard RecentModification="2026-01-01T00:00:00Z"><osci:Creation><osci:Plain>2026-01-01T00:00:00Z</osci:Plain></osci:Creation>` +
          `<osci:Forwarding><osci:Plain>2026-01-01T00:00:00Z</osci:Plain></osci:Forwarding></osci:ProcessCard><osci:InspectionReport/></osci:ProcessCardBundle>`,
        intermediaryCertificates: [{ role: 'CipherCertificateIntermediary', certificate: INTERMEDIARY.cipherCertificate }, signer],
        nonIntermediaryCertificates: [ADDRESSEE_CIPHER, ...(input.nonIntermediaryCertificates ?? [])],
        contentPackage: input.contentPackage,
        attachments: input.attachments,
        transportRecipient: ADDRESSEE_CIPHER.certificate,
      },
      DEFAULT_BUILD_CONTEXT,
    ).chunks,
  );
}

/**
 * An `xenc:EncryptedData` carrying `container` (a ContentContainer's plaintext, any bytes) for the addressee bob:
 * AES-256-GCM under `key`, the key wrapped for bob's certificate (`wrappedKey`, to reuse one wrapping) and found
 * through a RetrievalMethod to his certificate entry — the content layer as a test writes it by hand.
 */
export function encryptedForAddressee(container: Buffer, options: { readonly id: string; readonly key?: Buffer; readonly wrappedKey?: Buffer }): string {
  const key = options.key ?? randomBytes(32);
  const wrapped = options.wrappedKey ?? wrapKey(ADDRESSEE_CIPHER.certificate.publicKey, key);
  return (
    `<xenc:EncryptedData Id="${options.id}" MimeType="text/xml">${gcmMethod()}<ds:KeyInfo><xenc:EncryptedKey>${oaepMethod()}` +
    `<ds:KeyInfo><ds:RetrievalMethod Type="http://www.w3.org/2000/09/xmldsig#X509Data" URI="#${certificateId(ADDRESSEE_CIPHER)}"/></ds:KeyInfo>` +
    `<xenc:CipherData><xenc:CipherValue>${base64Lines(wrapped)}</xenc:CipherValue></xenc:CipherData>` +
    `</xenc:EncryptedKey></ds:KeyInfo><xenc:CipherData><xenc:CipherValue>${base64Lines(encryptGcm(AES256_GCM, key, randomBytes(12), container))}` +
    `</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData>`
  );
}
