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
   * Chains already built, by certificate fingerprint: the same signer certificates arrive with every message, and a
   * chain (a signature check per link) depends only on the certificate and this store. Validity dates are checked
   * on every call.
   */
  readonly #chains = new Map<string, X509Certificate[] | undefined>();

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
    const problems: string[] = [];
    const fingerprint = cert.fingerprint256;
    let chain: X509Certificate[] | undefined;
    if (this.#chains.has(fingerprint)) chain = this.#chains.get(fingerprint);
    else {
      chain = this.#buildChain(cert);
      if (this.#chains.size >= MAX_CACHED_CHAINS) this.#chains.clear();
      this.#chains.set(fingerprint, chain);
    }
    if (!chain) problems.push(`certificate "${formatName(cert.subject)}" does not chain to a configured trust anchor`);
    const trusted = chain !== undefined;
    let timeValid = true;
    for (const c of chain ?? [cert]) {
      if (at < new Date(c.validFrom) || at > new Date(c.validTo)) {
        timeValid = false;
        problems.push(`certificate "${c.subject.replace(/\n/g, ', ')}" is not valid at ${at.toISOString()}`);
      }
    }
    const anchor = chain?.[chain.length - 1];
    return {
      subject: formatName(cert.subject),
      issuer: formatName(cert.issuer),
      serialNumber: cert.serialNumber,
      sha256: cert.fingerprint256.replace(/:/g, '').toLowerCase(),
      trusted,
      timeValid,
      notBefore: new Date(cert.validFrom).toISOString(),
      notAfter: new Date(cert.validTo).toISOString(),
      ...(anchor ? { anchor: formatName(anchor.subject) } : {}),
      problems,
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

const MAX_CACHED_CHAINS = 1024;

/** `CN=Alice, OU=…` style one-line form of Node's newline-separated distinguished name. */
export function formatName(name: string): string {
  return name
    .split('\n')
    .filter((l) => l.length > 0)
    .reverse()
    .join(',');
}
