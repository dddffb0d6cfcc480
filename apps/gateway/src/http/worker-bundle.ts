import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, stop, type Plugin } from 'esbuild';

/** The TypeScript entry of the open worker threads (it registers a TypeScript loader in every thread). */
export const OPEN_WORKER_SOURCE_ENTRY = fileURLToPath(new URL('./open-worker.mjs', import.meta.url));

const BUNDLE_PREFIX = 'open-worker-';
/** Bundles of earlier versions are removed after this long without use (another process may still run one). */
const STALE_AFTER_MS = 7 * 86_400_000;

const bundles = new Map<string, Promise<string>>();

/**
 * The open worker threads run one JavaScript file bundled from `open-worker.ts` with esbuild when the gateway starts
 * (≈ 0.2 s, once per process): a thread then needs no TypeScript loader — tsx runs its module hooks on an extra
 * thread with its own heap for every worker, measured ≈ 30 MiB of RSS per open thread — and loads one file instead
 * of a module graph. Built anew by every process, so it never runs code older than the sources; kept under `dir`
 * (the data directory's `cache/`, 0700) by the hash of its content, written atomically.
 */
export function openWorkerBundle(dir: string): Promise<string> {
  let bundle = bundles.get(dir);
  if (!bundle) {
    bundle = writeBundle(dir);
    bundles.set(dir, bundle);
    bundle.catch(() => bundles.delete(dir));
  }
  return bundle;
}

async function writeBundle(dir: string): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('./open-worker.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    logLevel: 'silent',
    legalComments: 'none',
    plugins: [lazyForge],
    // Bundled CommonJS packages require Node's built-in modules.
    banner: { js: "import { createRequire as __efaCreateRequire } from 'node:module';\nconst require = __efaCreateRequire(import.meta.url);" },
  }).finally(() => {
    // esbuild's service is a child process (≈ 20 MiB): not kept for a build that happens once per process.
    void stop();
  });
  const code = result.outputFiles[0]!.contents;
  const name = `${BUNDLE_PREFIX}${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, name);
  const tmp = join(dir, `.tmp-${randomBytes(6).toString('hex')}`);
  await writeFile(tmp, code, { flag: 'wx', mode: 0o600 });
  await rename(tmp, path);
  await removeStale(dir, name);
  return path;
}

/**
 * node-forge is loaded on first use (pki/forge.ts); its `createRequire(import.meta.url)` would resolve it from the
 * bundle's directory. In the bundle it is a lazily evaluated bundled module instead.
 */
const lazyForge: Plugin = {
  name: 'lazy-node-forge',
  setup(b) {
    b.onLoad({ filter: /[\\/]osci[\\/]src[\\/]pki[\\/]forge\.ts$/ }, () => ({
      contents: "import type Forge from 'node-forge';\nexport function nodeForge(): typeof Forge {\n  return require('node-forge') as typeof Forge;\n}\n",
      loader: 'ts',
    }));
  },
};

async function removeStale(dir: string, current: string): Promise<void> {
  const now = Date.now();
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (name === current || !name.startsWith(BUNDLE_PREFIX)) continue;
    const path = join(dir, name);
    const changed = await stat(path).then(
      (s) => s.mtimeMs,
      () => now,
    );
    if (now - changed > STALE_AFTER_MS) await rm(path, { force: true });
  }
}
