import { describe, expect, it } from 'vitest';
import { MemoryBudget } from '../src/ops/memory-budget.js';

const MB = 1024 * 1024;
const tick = () => new Promise((r) => setImmediate(r));

describe('MemoryBudget', () => {
  it('lets reservations run while they fit, queues the rest first come first served, and never counts small ones', async () => {
    const budget = new MemoryBudget(100 * MB);
    const a = await budget.reserve(60 * MB);
    const order: string[] = [];
    const b = budget.reserve(50 * MB).then((release) => (order.push('b'), release));
    const c = budget.reserve(30 * MB).then((release) => (order.push('c'), release)); // would fit, but b came first
    const small = await budget.reserve(100 * 1024); // below smallBytes: never waits
    small();
    await tick();
    expect(order).toEqual([]);
    expect(budget.waiting).toBe(2);
    a();
    const releaseB = await b;
    const releaseC = await c;
    expect(order).toEqual(['b', 'c']);
    expect(budget.reservedBytes).toBe(80 * MB);
    releaseB();
    releaseB(); // idempotent
    releaseC();
    expect(budget.reservedBytes).toBe(0);
  });

  it('runs a message larger than the whole budget alone instead of never', async () => {
    const budget = new MemoryBudget(100 * MB);
    const huge = await budget.reserve(300 * MB);
    expect(budget.reservedBytes).toBe(100 * MB);
    let other = false;
    const next = budget.reserve(10 * MB).then((release) => ((other = true), release));
    await tick();
    expect(other).toBe(false);
    huge();
    (await next)();
    expect(other).toBe(true);
    expect(budget.reservedBytes).toBe(0);
  });

  it('tryReserve counts small amounts too, never waits and never jumps the queue', async () => {
    const budget = new MemoryBudget(10 * MB);
    const small = budget.tryReserve(64 * 1024)!;
    expect(budget.reservedBytes).toBe(64 * 1024);
    expect(budget.tryReserve(10 * MB)).toBeUndefined(); // does not fit now: no clamping, no waiting
    const big = await budget.reserve(9 * MB);
    const waiting = budget.reserve(2 * MB);
    expect(budget.waiting).toBe(1);
    expect(budget.tryReserve(1)).toBeUndefined(); // someone waits: not before them
    small();
    small(); // idempotent
    big();
    (await waiting)();
    expect(budget.reservedBytes).toBe(0);
  });
});
