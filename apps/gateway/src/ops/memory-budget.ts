/**
 * Bounds the memory that large messages take at once. Stages that hold part of a message (and what is derived from
 * it) in memory — opening streams and holds a few MiB, a procedure may read every attachment, delivering holds the
 * kept mapped output — could exhaust the process with a few large messages in parallel. Every stage reserves an
 * estimate of what it holds before it loads it; reservations beyond the budget wait, first come first served.
 * Messages below `smallBytes` are not counted (they never wait behind a large one). A reservation larger than the
 * whole budget is clamped to it: such a message runs alone instead of never.
 */
export class MemoryBudget {
  #free: number;
  readonly #waiting: Array<{ bytes: number; grant: () => void }> = [];

  constructor(
    readonly totalBytes: number,
    readonly smallBytes = 1024 * 1024,
  ) {
    this.#free = totalBytes;
  }

  /** Bytes reserved right now. */
  get reservedBytes(): number {
    return this.totalBytes - this.#free;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  /** Waits until `bytes` fit, reserves them and returns the release function (idempotent). */
  async reserve(bytes: number): Promise<() => void> {
    if (bytes < this.smallBytes) return () => {};
    const amount = Math.min(bytes, this.totalBytes);
    if (this.#waiting.length === 0 && amount <= this.#free) this.#free -= amount;
    else await new Promise<void>((grant) => this.#waiting.push({ bytes: amount, grant }));
    return this.#releaser(amount);
  }

  /**
   * Reserves `bytes` only if they fit at once — counted whatever their size, never waiting, never clamped: undefined
   * otherwise, and the caller takes a way that holds less memory. For memory a client decides how long is held
   * (a body kept while it arrives at the client's pace).
   */
  tryReserve(bytes: number): (() => void) | undefined {
    if (this.#waiting.length > 0 || bytes > this.#free) return undefined;
    this.#free -= bytes;
    return this.#releaser(bytes);
  }

  /** Gives `amount` back once, however often it is called. */
  #releaser(amount: number): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#free += amount;
      this.#grantWaiting();
    };
  }

  #grantWaiting(): void {
    while (this.#waiting.length > 0 && this.#waiting[0]!.bytes <= this.#free) {
      const next = this.#waiting.shift()!;
      this.#free -= next.bytes;
      next.grant();
    }
  }
}
