import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import type { XsdValidator } from 'libxml2-wasm';
import { libxml } from './libxml.js';
import type { ValidationIssue } from '../procedure.js';
import type { SchemaDirectory } from './catalog.js';
import { installedCodeList, type CodeList } from './codelist.js';
import { parseXml, XmlInputError, xpathsByLine } from './xml-dom.js';

/** Schema directories whose files libxml2 may read while compiling; nothing else is opened. */
const directories = new Set<SchemaDirectory>();
let providerRegistered = false;

function localPath(url: string): string | undefined {
  for (const dir of directories) {
    const p = dir.resolve(url);
    if (p !== undefined && existsSync(p)) return p;
  }
  return undefined;
}

function registerProvider(): void {
  if (providerRegistered) return;
  providerRegistered = true;
  libxml().xmlRegisterInputProvider({
    match: (url) => localPath(url) !== undefined,
    open: (url) => {
      const p = localPath(url);
      return p === undefined ? undefined : openSync(p, 'r');
    },
    read: (fd, buf) => {
      try {
        return readSync(fd, buf);
      } catch {
        return -1;
      }
    },
    close: (fd) => {
      closeSync(fd);
      return true;
    },
  });
}

export class SchemaUnavailableError extends Error {
  override readonly name = 'SchemaUnavailableError';
}

function describeLibError(error: unknown): string {
  if (error instanceof libxml().XmlLibError) return error.details.map((d) => `${d.file ? `${d.file}:${d.line}: ` : ''}${d.message.trim()}`).join('; ');
  return error instanceof Error ? error.message : String(error);
}

/**
 * libxml2 quotes the offending value in its messages ("The value 'Müller' is not accepted by the pattern …").
 * Values can be personal data and the message ends up in the Laufzettel and logs, so it is replaced; element,
 * attribute and schema-side names stay.
 */
export function redactValues(message: string): string {
  return message
    .replace(/The value '.*?' (is not|does not|of|has)\b/g, 'The value (redacted) $1')
    .replace(/^(Element '[^']*'(?:, attribute '[^']*')?: )'.*?' (is not a valid value)/, '$1(redacted) $2');
}

/** Turns libxml2's "Element '{ns}x': …" messages into a short rule name. */
function ruleOf(message: string): string {
  if (/is not expected|Missing child element|not allowed/i.test(message)) return 'content-model';
  if (/is not a valid value|is not accepted by the pattern|facet/i.test(message)) return 'datatype';
  if (/attribute/i.test(message)) return 'attribute';
  return 'xsd';
}

/**
 * An XSD compiled once and reused for every document. Compilation reads the entry schema and its includes and
 * imports from the schema directory (imports by URL through the catalog); a missing file makes the whole schema
 * unavailable, with the file named.
 */
export class CompiledSchema {
  readonly #validator: XsdValidator;
  private constructor(
    readonly file: string,
    validator: XsdValidator,
  ) {
    this.#validator = validator;
  }

  static compile(directory: SchemaDirectory, file: string): CompiledSchema {
    directories.add(directory);
    registerProvider();
    if (!existsSync(file)) throw new SchemaUnavailableError(`schema file ${file} not found`);
    const doc = parseXml(readFileSync(file), file);
    try {
      return new CompiledSchema(file, libxml().XsdValidator.fromDoc(doc));
    } catch (error) {
      throw new SchemaUnavailableError(`schema ${file} does not compile: ${describeLibError(error)}`);
    } finally {
      doc.dispose();
    }
  }

  /** Validates one document; returns one issue per libxml2 error, each with the XPath of the element. */
  validate(xml: Buffer | string, side: 'input' | 'output'): ValidationIssue[] {
    let doc;
    try {
      doc = parseXml(xml);
    } catch (error) {
      if (error instanceof XmlInputError) return [{ side, path: error.line ? `line ${error.line}` : '/', rule: 'well-formed', message: error.message }];
      throw error;
    }
    try {
      this.#validator.validate(doc);
      return [];
    } catch (error) {
      if (!(error instanceof libxml().XmlLibError)) throw error;
      const lines = xpathsByLine(doc);
      return error.details.map((d) => ({ side, path: lines.get(d.line) ?? `line ${d.line}`, rule: ruleOf(d.message), message: redactValues(d.message.trim()) }));
    } finally {
      doc.dispose();
    }
  }

  dispose(): void {
    this.#validator.dispose();
  }
}

/** Compiled schemas per file (and code lists per URI), shared by every procedure in the process. */
export class SchemaCache {
  readonly #compiled = new Map<string, CompiledSchema | SchemaUnavailableError>();
  readonly #codeLists = new Map<string, CodeList | undefined>();
  constructor(readonly directory: SchemaDirectory) {}

  /** A genericode code list from the schema directory; throws SchemaUnavailableError when not installed. */
  codeList(canonicalUri: string): CodeList {
    if (!this.#codeLists.has(canonicalUri)) this.#codeLists.set(canonicalUri, installedCodeList(this.directory, canonicalUri));
    const list = this.#codeLists.get(canonicalUri);
    if (!list) throw new SchemaUnavailableError(`code list ${canonicalUri} is not installed in ${this.directory.root} (catalog entry and genericode file)`);
    return list;
  }

  /** The compiled schema for a namespace (through the catalog); throws SchemaUnavailableError when missing. */
  forNamespace(namespace: string): CompiledSchema {
    const file = this.directory.schemaFor(namespace);
    if (file === undefined) throw new SchemaUnavailableError(`the schema catalog names no schema for ${namespace}`);
    return this.forFile(file);
  }

  forFile(file: string): CompiledSchema {
    let entry = this.#compiled.get(file);
    if (entry === undefined) {
      try {
        entry = CompiledSchema.compile(this.directory, file);
      } catch (error) {
        if (!(error instanceof SchemaUnavailableError)) throw error;
        entry = error;
      }
      this.#compiled.set(file, entry);
    }
    if (entry instanceof SchemaUnavailableError) throw entry;
    return entry;
  }
}
