/**
 * A small deterministic PRNG (mulberry32) for the seeded fuzz tests of every package: a fixed seed gives the same
 * damage on every run, so a failing round can be reproduced.
 */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The seed of a fuzz loop: the fixed `base` (what the test suite and CI run), or for an exploratory run on a
 * workstation `base` mixed with `FUZZ_SEED` — e.g. `FUZZ_SEED=7 FUZZ_ROUNDS=10 pnpm vitest run fuzz` — so that other
 * damage is tried; a failure is reproduced with the same two variables.
 */
export function fuzzSeed(base: number): number {
  const extra = process.env.FUZZ_SEED;
  return extra === undefined || extra === '' ? base : (base ^ Math.imul(Number(extra) >>> 0, 0x9e3779b1)) >>> 0;
}

/** Rounds of a fuzz loop: `rounds`, times `FUZZ_ROUNDS` (a whole number ≥ 1) for a longer exploratory run. */
export function fuzzRounds(rounds: number): number {
  const factor = Number(process.env.FUZZ_ROUNDS ?? 1);
  return Number.isInteger(factor) && factor >= 1 ? rounds * factor : rounds;
}
