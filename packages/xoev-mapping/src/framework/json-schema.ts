import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { ValidationIssue } from '../procedure.js';

/** Largest JSON application the framework parses. */
export const MAX_JSON_BYTES = 16 * 1024 * 1024;

export type JsonSchema = Record<string, unknown>;

/** A JSON Schema (draft 2020-12 subset ajv supports with `strict` off for annotations) compiled once. */
export class CompiledJsonSchema {
  readonly #validate: ValidateFunction;
  constructor(readonly schema: JsonSchema) {
    const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false });
    this.#validate = ajv.compile(schema);
  }

  /** One issue per broken field: JSON pointer, the field's title from the schema, the rule (keyword). */
  validate(data: unknown): ValidationIssue[] {
    if (this.#validate(data)) return [];
    return dedupe((this.#validate.errors ?? []).map((e) => this.#issue(e)));
  }

  #issue(e: ErrorObject): ValidationIssue {
    let pointer = e.instancePath || '';
    if (e.keyword === 'required') pointer += `/${String((e.params as { missingProperty: string }).missingProperty)}`;
    if (e.keyword === 'additionalProperties') pointer += `/${String((e.params as { additionalProperty: string }).additionalProperty)}`;
    const label = titleAt(this.schema, pointer);
    const message =
      e.keyword === 'required' ? 'Pflichtangabe fehlt' : e.keyword === 'additionalProperties' ? 'unbekanntes Feld' : (e.message ?? e.keyword);
    return { side: 'input', path: pointer || '/', ...(label ? { label } : {}), rule: e.keyword, message };
  }
}

/** `anyOf`/`oneOf` report every branch; one issue per path and rule is enough for a person. */
function dedupe(issues: ValidationIssue[]): ValidationIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path}|${i.rule}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function resolveRef(root: JsonSchema, node: JsonSchema): JsonSchema {
  let current = node;
  for (let i = 0; i < 16 && typeof current.$ref === 'string' && current.$ref.startsWith('#/'); i++) {
    let target: unknown = root;
    for (const part of current.$ref.slice(2).split('/')) target = (target as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    if (!target || typeof target !== 'object') break;
    current = { ...(target as JsonSchema), ...(current.title ? { title: current.title } : {}) };
    if (current.$ref === node.$ref) break;
  }
  return current;
}

/** The schema node describing the value at a JSON pointer, following properties, items and local $refs. */
export function schemaAt(root: JsonSchema, pointer: string): JsonSchema | undefined {
  let node: JsonSchema | undefined = resolveRef(root, root);
  for (const raw of pointer.split('/').slice(1)) {
    if (!node) return undefined;
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const props = node.properties as Record<string, JsonSchema> | undefined;
    const next: JsonSchema | undefined = /^\d+$/.test(part) && node.items ? (node.items as JsonSchema) : props?.[part];
    node = next ? resolveRef(root, next) : undefined;
  }
  return node;
}

/** The `title` of the field at a JSON pointer, joined with its group titles (`Antragsteller › Familienname`). */
export function titleAt(root: JsonSchema, pointer: string): string | undefined {
  const parts = pointer.split('/').slice(1);
  const titles: string[] = [];
  for (let i = 1; i <= parts.length; i++) {
    const part = parts[i - 1]!;
    if (/^\d+$/.test(part)) {
      if (titles.length) titles[titles.length - 1] += ` (${Number(part) + 1})`;
      continue;
    }
    const t = schemaAt(root, `/${parts.slice(0, i).join('/')}`)?.title;
    titles.push(typeof t === 'string' ? t : part);
  }
  return titles.length ? titles.join(' › ') : undefined;
}

/** Parses a JSON application: bounded size, UTF-8 (a BOM is tolerated). */
export function parseJson(data: Buffer): unknown {
  if (data.length > MAX_JSON_BYTES) throw new SyntaxError(`JSON document larger than ${MAX_JSON_BYTES} bytes`);
  let text = data.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return JSON.parse(text);
}
