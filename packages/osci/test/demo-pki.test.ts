import { describe, expect, it } from 'vitest';
import { createDemoPki } from '../src/pki/demo-pki.js';
import { TrustStore } from '../src/pki/trust.js';
import { buildAcceptDelivery } from '../src/build/orders.js';
import { openMessage } from '../src/open-message.js';

describe('demo PKI', () => {
  const pki = createDemoPki({ bits: 2048 });
  const trust = new TrustStore([pki.ca]);

  it('issues CA-chained certificates that match their keys', () => {
    for (const id of [pki.intermediaryCipher, pki.intermediarySignature, pki.authorityCipher, pki.authoritySignature]) {
      expect(id.certificate.checkIssued(pki.ca)).toBe(true);
      expect(trust.check(id.certificate).trusted).toBe(true);
    }
    expect(Object.keys(pki.pem)).toContain('demo-authority-cipher');
  });

  it('carries a full OSCI delivery that verifies against the demo CA and not against another one', () => {
    const { message } = buildAcceptDelivery({
      intermediary: { signature: pki.intermediarySignature, cipherCertificate: pki.intermediaryCipher.certificate },
      originator: { cipherCertificate: pki.senderCipher.certificate, signature: pki.senderSignature },
      addresseeCipher: pki.authorityCipher.certificate,
      messageId: 'demo-1',
      content: { contents: [{ kind: 'base64', data: Buffer.from('<x/>') }] },
    });
    const raw = Buffer.concat(message.chunks);
    expect(openMessage(raw, { keys: [pki.authorityCipher], trust, requireTrustedContentSigners: true }).content.ok).toBe(true);
    const other = createDemoPki({ bits: 2048 });
    expect(() => openMessage(raw, { keys: [pki.authorityCipher], trust: new TrustStore([other.ca]) })).toThrow(expect.objectContaining({ reason: 'CERTIFICATE_UNTRUSTED' }));
  });
});
