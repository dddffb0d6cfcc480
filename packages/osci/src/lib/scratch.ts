/**
 * A reusable scratch buffer for transient plaintext (the decrypted transport layer) that never leaves one
 * synchronous `openMessage` call. Reusing it avoids touching fresh memory for every large message, which costs
 * more than the decryption itself on virtualised machines (first-touch page faults).
 */
export class ScratchBuffer {
  #buffer: Buffer = Buffer.alloc(0);
  #busy = false;
  readonly #maxRetainedBytes: number;

  constructor(maxRetainedBytes = 64 * 1024 * 1024) {
    this.#maxRetainedBytes = maxRetainedBytes;
  }

  /** A buffer of at least `bytes`; a nested or oversized lease gets a fresh buffer. Call `release` when done. */
  acquire(bytes: number): { readonly buffer: Buffer; release(): void } {
    if (this.#busy || bytes > this.#maxRetainedBytes) return { buffer: Buffer.allocUnsafeSlow(bytes), release: () => {} };
    if (this.#buffer.length < bytes) this.#buffer = Buffer.allocUnsafeSlow(Math.min(this.#maxRetainedBytes, Math.max(bytes, this.#buffer.length * 2)));
    this.#busy = true;
    let released = false;
    return {
      buffer: this.#buffer,
      release: () => {
        if (released) return;
        released = true;
        this.#busy = false;
      },
    };
  }
}
