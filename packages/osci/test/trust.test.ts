import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCertificate } from '../src/pki/keystore.js';
import { TrustStore } from '../src/pki/trust.js';
import { demoCertificate, demoTrust, PKI_DIR } from './support/vectors.js';

describe('TrustStore', () => {
  const signer = demoCertificate('alice_signature_4096');

  it('gives the same verdict for a certificate checked again (chains are remembered), with the dates checked each time', () => {
    const trust = demoTrust();
    const first = trust.check(signer, new Date('2026-06-01T00:00:00Z'));
    expect(first.trusted).toBe(true);
    expect(trust.check(signer, new Date('2026-06-01T00:00:00Z'))).toEqual(first);
    const late = trust.check(signer, new Date('2199-01-01T00:00:00Z'));
    expect(late).toMatchObject({ trusted: true, timeValid: false });
    expect(late.problems.join()).toMatch(/not valid at 2199/);
  });

  it('reports from what it remembers exactly what a fresh store reports, at any time', () => {
    const remembering = demoTrust();
    remembering.check(signer, new Date('2026-06-01T00:00:00Z'));
    for (const at of ['1999-01-01T00:00:00Z', '2026-06-01T00:00:00Z', '2199-01-01T00:00:00Z']) {
      const fresh = demoTrust().check(signer, new Date(at));
      const remembered = remembering.check(signer, new Date(at));
      expect(remembered).toEqual(fresh);
      expect(Object.keys(remembered)).toEqual(Object.keys(fresh));
    }
    expect(remembering.check(signer, new Date('1999-01-01T00:00:00Z'))).toMatchObject({ trusted: true, timeValid: false });
  });

  it('keeps a certificate that does not chain untrusted, however often it is checked', () => {
    // Only the issuing CA as an intermediate, no anchor: the chain cannot end anywhere.
    const anchorOnly = new TrustStore([], [loadCertificate(readFileSync(join(PKI_DIR, 'pem', 'governikus_ca_8_pn.cert.pem')))]);
    for (let i = 0; i < 2; i++) {
      const check = anchorOnly.check(signer, new Date('2026-06-01T00:00:00Z'));
      expect(check.trusted).toBe(false);
      expect(check.problems).toHaveLength(1);
      expect(check.problems[0]).toMatch(/does not chain to a configured trust anchor/);
    }
  });
});
