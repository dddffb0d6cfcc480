import { createHash, X509Certificate } from 'node:crypto';

/**
 * Parsed certificates by the SHA-256 of their DER bytes. Every message from one intermediary carries the same few
 * certificates; hashing a certificate costs a fraction of parsing it. Bounded, least-recently-used.
 */
const MAX_ENTRIES = 512;
const cache = new Map<string, X509Certificate>();

export function parseCertificateCached(der: Buffer): X509Certificate {
  const key = createHash('sha256').update(der).digest('base64');
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const parsed = new X509Certificate(der);
  cache.set(key, parsed);
  if (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value!);
  return parsed;
}
