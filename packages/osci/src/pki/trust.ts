import type { X509Certificate } from 'node:crypto';

/** Result of checking one certificate against the configured trust anchors and the clock. */
export interface CertificateCheck {
  readonly subject: string;
  readonly issuer: string;
  readonly serialNumber: string;
  readonly sha256: string;
  /** The certificate chains to a trust anchor (or is one) and every link's signature verifies. */
  readonly trusted: boolean;
  /** `at` lies within notBefore..notAfter of every certificate of the chain. */
  readonly timeValid: boolean;
  readonly notBefore: string;
  readonly notAfter: string;
  /** Subject of the anchor the chain ends in, when trusted. */
  readonly anchor?: string;
  readonly problems: readonly string[];
}

/**
 * Trust anchors (CA or directly trusted end-entity certificates) plus optional intermediate CAs.
 * A certificate is never trusted because it sits in a message's KeyInfo or certificate block.
 */
export class TrustStore {
  readonly #anchors: X509Certificate[];
  readonly #intermediates: X509Certificate[];
  /**
   * What was learnt of a certificate, by its fingerprint: the same signer certificates arrive with every message, and
   * a chain (a signature check per link) and the certificate's names and dates depend only on the certificate and this
   * store. Validity against the clock is checked on every call.
   */
  readonly #known = new Map<string, KnownCertificate>();

  constructor(anchors: readonly X509Certificate[], intermediates: readonly X509Certificate[] = []) {
    this.#anchors = [...anchors];
    this.#intermediates = [...intermediates];
  }

  get size(): number {
    return this.#anchors.length;
  }

  /** The trust anchors, e.g. to rebuild this store in a worker thread. */
  get anchors(): readonly X509Certificate[] {
    return this.#anchors;
  }

  get intermediates(): readonly X509Certificate[] {
    return this.#intermediates;
  }

  check(cert: X509Certificate, at: Date = new Date()): CertificateCheck {
    const fingerprint = cert.fingerprint256;
    let known = this.#known.get(fingerprint);
    if (!known) {
      known = this.#learn(cert);
      if (this.#known.size >= MAX_KNOWN_CERTIFICATES) this.#known.clear();
      this.#known.set(fingerprint, known);
    }
    const problems: string[] = [];
    if (!known.trusted) problems.push(`certificate "${known.summary.subject}" does not chain to a configured trust anchor`);
    const time = at.getTime();
    let timeValid = true;
    for (const link of known.validity) {
      if (time < link.from || time > link.to) {
        timeValid = false;
        problems.push(`certificate "${link.subject}" is not valid at ${at.toISOString()}`);
      }
    }
    const { subject, issuer, serialNumber, sha256, notBefore, notAfter, anchor } = known.summary;
    return { subject, issuer, serialNumber, sha256, trusted: known.trusted, timeValid, notBefore, notAfter, ...(anchor ? { anchor } : {}), problems };
  }

  #learn(cert: X509Certificate): KnownCertificate {
    const chain = this.#buildChain(cert);
    const anchor = chain?.[chain.length - 1];
    return {
      trusted: chain !== undefined,
      validity: (chain ?? [cert]).map((c) => ({ from: Date.parse(c.validFrom), to: Date.parse(c.validTo), subject: c.subject.replace(/\n/g, ', ') })),
      summary: {
        subject: formatName(cert.subject),
        issuer: formatName(cert.issuer),
        serialNumber: cert.serialNumber,
        sha256: cert.fingerprint256.replace(/:/g, '').toLowerCase(),
        notBefore: new Date(cert.validFrom).toISOString(),
        notAfter: new Date(cert.validTo).toISOString(),
        ...(anchor ? { anchor: formatName(anchor.subject) } : {}),
      },
    };
  }

  #buildChain(cert: X509Certificate): X509Certificate[] | undefined {
    const chain: X509Certificate[] = [cert];
    let current = cert;
    for (let depth = 0; depth < 8; depth++) {
      if (this.#anchors.some((a) => a.raw.equals(current.raw))) return chain;
      const anchor = this.#anchors.find((a) => current.checkIssued(a) && current.verify(a.publicKey));
      if (anchor) {
        chain.push(anchor);
        return chain;
      }
      const next = this.#intermediates.find((c) => current.checkIssued(c) && current.verify(c.publicKey) && !chain.includes(c));
      if (!next) break;
      chain.push(next);
      current = next;
    }
    return undefined;
  }
}

const MAX_KNOWN_CERTIFICATES = 1024;

interface KnownCertificate {
  readonly trusted: boolean;
  /** notBefore..notAfter of every certificate of the chain (or of the certificate alone when it has none). */
  readonly validity: ReadonlyArray<{ readonly from: number; readonly to: number; readonly subject: string }>;
  readonly summary: Omit<CertificateCheck, 'trusted' | 'timeValid' | 'problems'>;
}

/** `CN=Alice, OU=…` style one-line form of Node's newline-separated distinguished name. */
export function formatName(name: string): string {
  return name
    .split('\n')
    .filter((l) => l.length > 0)
    .reverse()
    .join(',');
}
