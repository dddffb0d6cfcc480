import { createRequire } from 'node:module';
import type Forge from 'node-forge';

let loaded: typeof Forge | undefined;

/**
 * node-forge (≈ 0.9 MB of code), loaded on first use: only reading PKCS#12 files, making the demo PKI and legacy
 * rsa-1_5 decryption need it — not the threads that open and answer messages with keys they were handed as PEM.
 */
export function nodeForge(): typeof Forge {
  return (loaded ??= createRequire(import.meta.url)('node-forge') as typeof Forge);
}
