import type { X509Certificate } from 'node:crypto';
import { buildMimeEntityChunks, newBoundary } from '../mime/build.js';
import { AES256_GCM, encryptGcm } from '../xmlenc/algorithms/symmetric.js';
import { wrapKey } from '../xmlenc/algorithms/key-transport.js';
import type { BuildContext } from './context.js';
import { gcmMethod, oaepMethod } from './content.js';
import { base64Lines, element } from './xml-writer.js';

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\r\n\r\n';

/**
 * Transport-encrypts an inner MIME entity for `recipient` (AES-256-GCM, 12-byte IV, RSA-OAEP SHA-256/MGF1-SHA-256)
 * and frames the result as the outer MIME entity: `<osci@message>` with the soapMessageEncrypted envelope
 * (with a correct Content-Length) and the binary `<osci_enc>` part.
 */
export function encryptTransport(inner: readonly Buffer[], recipient: X509Certificate, ctx: BuildContext): Buffer[] {
  const key = ctx.random(32);
  const cipher = encryptGcm(AES256_GCM, key, ctx.random(12), inner);
  const wrapped = wrapKey(recipient.publicKey, key);
  const envelope =
    XML_DECLARATION +
    element(
      'soap:Envelope',
      [['xsi:schemaLocation', 'http://schemas.xmlsoap.org/soap/envelope/ soapMessageEncrypted.xsd http://www.w3.org/2000/09/xmldsig# oscisig.xsd http://www.w3.org/2001/04/xmlenc# oscienc.xsd']],
      `<soap:Body>${element(
        'xenc:EncryptedData',
        [['MimeType', 'Multipart/Related']],
        gcmMethod() +
          `<ds:KeyInfo><xenc:EncryptedKey>${oaepMethod()}<ds:KeyInfo><ds:X509Data><ds:X509Certificate>${base64Lines(recipient.raw)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo><xenc:CipherData><xenc:CipherValue>${base64Lines(wrapped)}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo>` +
          `<xenc:CipherData>${element('xenc:CipherReference', [['URI', 'cid:osci_enc']], `<xenc:Transforms>${element('ds:Transform', [['Algorithm', 'http://www.w3.org/2000/09/xmldsig#base64']])}</xenc:Transforms>`)}</xenc:CipherData>`,
      )}</soap:Body>`,
      'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"',
    ) +
    '\r\n';
  const envelopeBytes = Buffer.from(envelope, 'utf8');
  return buildMimeEntityChunks(newBoundary(ctx.random), [
    { contentId: 'osci@message', contentType: 'text/xml; charset=UTF-8', transferEncoding: '8bit', extraHeaders: [['Content-Length', String(envelopeBytes.length)]], body: envelopeBytes },
    { contentId: 'osci_enc', contentType: 'application/octet-stream', transferEncoding: 'binary', body: cipher },
  ]);
}

export { XML_DECLARATION };
