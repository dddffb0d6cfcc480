import { describe, expect, it } from 'vitest';
import { createDemoPki, toPkcs12 } from '../src/pki/demo-pki.js';
import { loadPkcs12 } from '../src/pki/keystore.js';

describe('PKCS#12 export', () => {
  it('writes a PKCS#12 that loadPkcs12 reads back with the passphrase, and refuses a wrong one', () => {
    const pki = createDemoPki({ bits: 2048 });
    const pem = pki.pem['demo-authority-cipher']!;
    const p12 = toPkcs12(pem.certificate, pem.privateKey, 'geheim', [pki.caPem]);
    const id = loadPkcs12(p12, 'geheim');
    expect(id.certificateDer.equals(pki.authorityCipher.certificateDer)).toBe(true);
    expect(() => loadPkcs12(p12, 'falsch')).toThrow(expect.objectContaining({ reason: 'KEYSTORE_INVALID' }));
  });
});
