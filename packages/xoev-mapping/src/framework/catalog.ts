import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's own catalog (`schemas/catalog.xml` at the repository root). */
export const PROJECT_CATALOG = fileURLToPath(new URL('../../../../schemas/catalog.xml', import.meta.url));

interface CatalogEntries {
  /** Directory relative entries resolve against. */
  readonly base: string;
  readonly uris: Map<string, string>;
  readonly systems: Map<string, string>;
  readonly rewrites: Array<{ readonly prefix: string; readonly to: string }>;
}

const ATTR = /([A-Za-z]+)\s*=\s*"([^"]*)"/g;
const ENTRY = /<(uri|system|rewriteSystem)\b([^>]*)\/?>/g;

function parseCatalog(text: string, file: string, base: string): CatalogEntries {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new Error(`${file}: catalogs with a DOCTYPE are not read`);
  const entries: CatalogEntries = { base, uris: new Map(), systems: new Map(), rewrites: [] };
  const body = text.replace(/<!--[\s\S]*?-->/g, '');
  for (const m of body.matchAll(ENTRY)) {
    const attrs = new Map<string, string>();
    for (const a of (m[2] ?? '').matchAll(ATTR)) attrs.set(a[1]!, a[2]!);
    if (m[1] === 'uri' && attrs.has('name') && attrs.has('uri')) entries.uris.set(attrs.get('name')!, attrs.get('uri')!);
    else if (m[1] === 'system' && attrs.has('systemId') && attrs.has('uri')) entries.systems.set(attrs.get('systemId')!, attrs.get('uri')!);
    else if (m[1] === 'rewriteSystem' && attrs.has('systemIdStartString') && attrs.has('rewritePrefix'))
      entries.rewrites.push({ prefix: attrs.get('systemIdStartString')!, to: attrs.get('rewritePrefix')! });
    else throw new Error(`${file}: incomplete <${m[1]}> entry`);
  }
  entries.rewrites.sort((a, b) => b.prefix.length - a.prefix.length);
  return entries;
}

/**
 * A schema directory with its XML catalog: maps a target namespace to its entry XSD and absolute import URLs to
 * local files. Everything resolves inside the directory; nothing is fetched from the network.
 */
export class SchemaDirectory {
  readonly root: string;
  readonly #catalogs: CatalogEntries[];
  readonly #roots: string[];

  /**
   * @param root the schema directory; its own `catalog.xml` (if any) and the project catalog resolve against it.
   * @param extraCatalogs further catalogs, read first; their entries resolve against the catalog's own folder
   *   (standard XML-catalog semantics), which then may be read too.
   */
  constructor(root: string, extraCatalogs: readonly string[] = []) {
    this.root = path.resolve(root);
    const extra = extraCatalogs.map((f) => path.resolve(f));
    this.#roots = [this.root, ...extra.map((f) => path.dirname(f))];
    this.#catalogs = [
      ...extra.map((f) => parseCatalog(readFileSync(f, 'utf8'), f, path.dirname(f))),
      ...[path.join(this.root, 'catalog.xml'), PROJECT_CATALOG].filter((f) => existsSync(f)).map((f) => parseCatalog(readFileSync(f, 'utf8'), f, this.root)),
    ];
  }

  /** The entry schema for a namespace, or undefined when the catalog names none. */
  schemaFor(namespace: string): string | undefined {
    for (const c of this.#catalogs) {
      const rel = c.uris.get(namespace);
      if (rel !== undefined) return this.#inside(c.base, rel);
    }
    return undefined;
  }

  /** A local path for a system id (absolute URL or path) or undefined. Paths outside the directory are refused. */
  resolve(systemId: string): string | undefined {
    if (/^https?:\/\//.test(systemId)) {
      for (const c of this.#catalogs) {
        const exact = c.systems.get(systemId);
        if (exact !== undefined) return this.#inside(c.base, exact);
        const rewrite = c.rewrites.find((r) => systemId.startsWith(r.prefix));
        if (rewrite) return this.#inside(c.base, rewrite.to + systemId.slice(rewrite.prefix.length));
      }
      return undefined;
    }
    const file = systemId.startsWith('file://') ? fileURLToPath(systemId) : systemId;
    const abs = path.resolve(this.root, file);
    return this.#contains(abs) ? abs : undefined;
  }

  #inside(base: string, rel: string): string | undefined {
    const abs = path.resolve(base, rel);
    return this.#contains(abs) ? abs : undefined;
  }

  #contains(abs: string): boolean {
    return this.#roots.some((root) => {
      const rel = path.relative(root, abs);
      return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
    });
  }
}
