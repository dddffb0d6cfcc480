import { createHash } from 'node:crypto';
import type { XmlDocument } from 'libxml2-wasm';
import { MappingError, type MappedDocument, type MappingInput, type MappingProcedure, type MappingResult, type ValidationIssue } from '../procedure.js';
import type { ApplicationData, MappingContext, ProcedureDefinition } from './define.js';
import { formViewFromJson, formViewFromXml, type FormSection } from './form-view.js';
import { CompiledJsonSchema, parseJson, type JsonSchema } from './json-schema.js';
import type { ProcedureManifest } from './manifest.js';
import { serialize } from './xml-builder.js';
import { parseXml, XmlInputError } from './xml-dom.js';
import { loadLibxml } from './libxml.js';
import { SchemaUnavailableError, type SchemaCache } from './xsd-validator.js';
import { zipFiles } from './zip.js';

/** A UUID (version-5 layout) from a SHA-256 over the parts: stable, not guessable without the MessageId. */
export function stableUuid(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

function looksLike(data: Buffer, format: 'json' | 'xml'): boolean {
  let i = 0;
  if (data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) i = 3;
  while (i < data.length && (data[i] === 0x20 || data[i] === 0x0a || data[i] === 0x0d || data[i] === 0x09)) i++;
  return format === 'json' ? data[i] === 0x7b || data[i] === 0x5b : data[i] === 0x3c;
}

function summary(issues: readonly ValidationIssue[]): string {
  const head = issues.slice(0, 5).map((i) => `${i.path}${i.label ? ` (${i.label})` : ''}: ${i.message}`);
  return head.join('; ') + (issues.length > 5 ? `; … ${issues.length - 5} more` : '');
}

/** Runs one procedure folder: input validation → read → map → serialise → output validation → packaging. */
export class ProcedureRuntime implements MappingProcedure {
  readonly id: string;
  readonly version: string;
  readonly title: string;
  readonly recognises: ProcedureManifest['recognises'];
  readonly target: ProcedureManifest['target'];
  readonly #inputSchema: CompiledJsonSchema | undefined;

  constructor(
    readonly manifest: ProcedureManifest,
    readonly definition: ProcedureDefinition<unknown>,
    readonly inputSchema: JsonSchema | undefined,
    readonly schemas: SchemaCache | undefined,
    readonly folder?: string,
  ) {
    this.id = manifest.id;
    this.version = manifest.version;
    this.title = manifest.title;
    this.recognises = manifest.recognises;
    this.target = manifest.target;
    this.#inputSchema = inputSchema ? new CompiledJsonSchema(inputSchema) : undefined;
  }

  /** The application content: the first inline content in the procedure's format. */
  #pick(input: MappingInput): { format: 'json' | 'xml'; raw: Buffer; id: string | undefined } {
    const wanted = this.manifest.input.format;
    for (const c of input.contents) {
      if (wanted === 'json' || wanted === 'any') if (looksLike(c.data, 'json')) return { format: 'json', raw: c.data, id: c.id };
      if (wanted === 'xml' || wanted === 'any') if (looksLike(c.data, 'xml')) return { format: 'xml', raw: c.data, id: c.id };
    }
    throw new MappingError('INPUT_UNRECOGNISED', `the message has no ${wanted === 'any' ? 'JSON or XML' : wanted.toUpperCase()} content for procedure ${this.id}`);
  }

  async map(input: MappingInput): Promise<MappingResult> {
    await loadLibxml(); // XML input, XSD validation and code lists need it; loaded once, on the first mapping
    const picked = this.#pick(input);
    let xml: XmlDocument | undefined;
    let json: unknown;
    try {
      if (picked.format === 'json') {
        try {
          json = parseJson(picked.raw);
        } catch (error) {
          // V8's message quotes the input around the error: keep only the position (no application content in errors).
          const where = /(position \d+|line \d+ column \d+)/.exec((error as Error).message)?.[1];
          throw new MappingError('INPUT_MALFORMED', `application is not valid JSON${where ? ` (${where})` : ''}`);
        }
        const issues = this.#inputSchema?.validate(json) ?? [];
        if (issues.length) throw new MappingError('INPUT_INVALID', `application does not match the input schema of ${this.id}: ${summary(issues)}`, issues[0]?.path, issues);
      } else {
        try {
          xml = parseXml(picked.raw);
        } catch (error) {
          if (error instanceof XmlInputError) throw new MappingError('INPUT_MALFORMED', `application XML rejected: ${error.message}`);
          throw error;
        }
        if (this.manifest.input.schema && this.schemas) {
          const issues = this.#validateXml(this.manifest.input.schema, picked.raw, 'input', 'INPUT_INVALID');
          if (issues.length) throw new MappingError('INPUT_INVALID', `application does not match ${this.manifest.input.schema}: ${summary(issues)}`, issues[0]?.path, issues);
        }
      }
      const application: ApplicationData = { format: picked.format, raw: picked.raw, contentId: picked.id, ...(json !== undefined ? { json } : {}), ...(xml ? { xml } : {}) };
      return await this.#run(input, application);
    } finally {
      xml?.dispose();
    }
  }

  async #run(input: MappingInput, application: ApplicationData): Promise<MappingResult> {
    const problems: ValidationIssue[] = [];
    let view: FormSection[] | undefined;
    const ctx: MappingContext = {
      input,
      manifest: this.manifest,
      application,
      inputSchema: this.inputSchema,
      uuid: (purpose) => stableUuid(input.tenant, input.messageId, this.id, purpose),
      formView: () => (view ??= application.xml ? formViewFromXml(application.xml) : formViewFromJson(application.json, this.inputSchema)),
      codeList: (uri) => {
        try {
          if (!this.schemas) throw new SchemaUnavailableError('no schema directory is configured');
          return this.schemas.codeList(uri);
        } catch (error) {
          if (error instanceof SchemaUnavailableError) throw new MappingError('SCHEMA_UNAVAILABLE', `${this.id}: ${error.message}`);
          throw error;
        }
      },
      problem: (path, rule, message) => problems.push({ side: 'input', path, rule, message }),
    };
    let typed: unknown;
    try {
      typed = this.definition.read(ctx);
    } catch (error) {
      if (error instanceof MappingError) throw error;
      throw new MappingError('PROCEDURE_FAILED', `procedure ${this.id} failed reading the application: ${(error as Error).message}`);
    }
    if (problems.length) throw new MappingError('INPUT_INVALID', `application breaks rules of ${this.id}: ${summary(problems)}`, problems[0]?.path, problems);
    let output;
    try {
      output = await this.definition.map(typed, ctx);
    } catch (error) {
      if (error instanceof MappingError) throw error;
      throw new MappingError('PROCEDURE_FAILED', `procedure ${this.id} failed: ${(error as Error).message}`);
    }
    if (!output.message.root) throw new MappingError('PROCEDURE_FAILED', `procedure ${this.id} produced no message`);
    const messageXml = serialize(output.message.root);
    let outputValidation: MappingResult['validation']['output'];
    try {
      if (!this.schemas) throw new SchemaUnavailableError('no schema directory is configured');
      const issues = this.schemas.forNamespace(this.target.namespace).validate(messageXml, 'output');
      if (issues.length) throw new MappingError('OUTPUT_INVALID', `${this.id} produced a ${this.target.messageType} that fails the ${this.target.standard} ${this.target.version} schema: ${summary(issues)}`, issues[0]?.path, issues);
      outputValidation = { status: 'valid' };
    } catch (error) {
      if (!(error instanceof SchemaUnavailableError)) throw error;
      if (this.target.validation === 'required') throw new MappingError('SCHEMA_UNAVAILABLE', `cannot validate ${this.id} output: ${error.message}`);
      outputValidation = { status: 'skipped', reason: error.message };
    }
    const files = output.files ?? [];
    let documents: MappedDocument[];
    if (output.packaging.kind === 'zip') {
      const zip = zipFiles([{ name: output.message.fileName, data: messageXml }, ...files], input.receivedAt);
      documents = [{ name: output.packaging.name, contentType: 'application/zip', role: 'package', data: zip }];
    } else {
      documents = [{ name: output.message.fileName, contentType: 'application/xml', role: 'primary', data: messageXml }, ...files.map((f) => ({ ...f, role: 'attachment' as const }))];
    }
    return { documents, validation: { input: this.#inputSchema || this.manifest.input.schema ? 'valid' : 'not-checked', output: outputValidation } };
  }

  #validateXml(namespaceOrFile: string, data: Buffer, side: 'input' | 'output', code: string): ValidationIssue[] {
    try {
      return this.schemas!.forNamespace(namespaceOrFile).validate(data, side);
    } catch (error) {
      if (error instanceof SchemaUnavailableError) throw new MappingError('SCHEMA_UNAVAILABLE', `${code === 'INPUT_INVALID' ? 'input' : 'output'} schema for ${this.id}: ${error.message}`);
      throw error;
    }
  }
}
