import type * as Libxml from 'libxml2-wasm';

let loaded: typeof Libxml | undefined;
let loading: Promise<typeof Libxml> | undefined;

/**
 * libxml2 (WebAssembly) is loaded on first need, not at import: instantiating it costs ≈ 150 MiB of resident
 * memory, which a process whose procedures never parse or validate XML (e.g. a gateway routing everything through
 * `passthrough`) should not pay. Every async entry point that may touch XML awaits this first.
 */
export async function loadLibxml(): Promise<typeof Libxml> {
  if (loaded) return loaded;
  loading ??= import('libxml2-wasm').then((m) => (loaded = m));
  return loading;
}

/** The loaded module, for the synchronous XML helpers; `loadLibxml()` must have been awaited before. */
export function libxml(): typeof Libxml {
  if (!loaded) throw new Error('libxml2 is not loaded yet: await loadLibxml() before parsing or validating XML');
  return loaded;
}
