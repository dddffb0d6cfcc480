import type { XmlDocument } from 'libxml2-wasm';
import type { MappingInput } from '../procedure.js';
import type { CodeList } from './codelist.js';
import type { FormSection } from './form-view.js';
import type { JsonSchema } from './json-schema.js';
import type { ProcedureManifest } from './manifest.js';
import type { XmlNode } from './xml-builder.js';

/** The application content a procedure reads: the first inline content of the message in the procedure's format. */
export interface ApplicationData {
  readonly format: 'json' | 'xml';
  readonly raw: Buffer;
  /** Content id in the OSCI ContentContainer, if it had one. */
  readonly contentId: string | undefined;
  /** Parsed JSON, already valid against the procedure's input schema. */
  readonly json?: unknown;
  /** Parsed XML; valid only while `read`/`map` run. */
  readonly xml?: XmlDocument;
}

export interface MappingContext {
  readonly input: MappingInput;
  readonly manifest: ProcedureManifest;
  readonly application: ApplicationData;
  readonly inputSchema: JsonSchema | undefined;
  /** A UUID derived from the MessageId, the procedure and `purpose`: the same on every retry of one message. */
  uuid(purpose: string): string;
  /** The application as labelled sections (for PDFs and summaries). */
  formView(): FormSection[];
  /**
   * A code list installed in the schema directory (genericode, found through the catalog by canonical URI).
   * Throws a permanent SCHEMA_UNAVAILABLE error naming the list when it is not installed.
   */
  codeList(canonicalUri: string): CodeList;
  /** Records a semantic problem with the input (a rule the input schema cannot express). */
  problem(path: string, rule: string, message: string): void;
}

export interface OutputFile {
  readonly name: string;
  readonly contentType: string;
  readonly data: Buffer;
}

export interface ProcedureOutput {
  /** The xÖV message; validated against the target schema before anything leaves. */
  readonly message: { readonly fileName: string; readonly root: XmlNode | undefined };
  /** Primary documents that travel with the message. */
  readonly files?: readonly OutputFile[];
  /** `zip`: message and files in one archive; `files`: the message as primary document, files as attachments. */
  readonly packaging: { readonly kind: 'zip'; readonly name: string } | { readonly kind: 'files' };
}

/**
 * What a procedure folder's `index.ts` exports (default export). `read` turns the schema-valid application into
 * the procedure's typed input (reporting semantic problems through `ctx.problem`); `map` builds the document model.
 * Both are pure functions of the message: no clock, no randomness (use `ctx.uuid` and `ctx.input.receivedAt`).
 */
export interface ProcedureDefinition<T> {
  read(ctx: MappingContext): T;
  map(input: T, ctx: MappingContext): ProcedureOutput | Promise<ProcedureOutput>;
}

export function defineProcedure<T>(definition: ProcedureDefinition<T>): ProcedureDefinition<T> {
  return definition;
}
