import type { XmlDocument, XmlElement } from 'libxml2-wasm';
import { schemaAt, type JsonSchema } from './json-schema.js';
import { elementChildren } from './xml-dom.js';

/** A labelled rendering of an application: what a clerk reads in the PDF. */
export interface FormRow {
  readonly label: string;
  readonly value: string;
}
export interface FormSection {
  readonly title: string;
  readonly rows: FormRow[];
}

const GENERAL = 'Allgemeine Angaben';

function isCode(v: unknown): v is { code: string; name?: string } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { code?: unknown }).code === 'string' && Object.keys(v).every((k) => ['code', 'name', 'listURI', 'listVersionID'].includes(k));
}

function scalar(v: unknown): string {
  if (typeof v === 'boolean') return v ? 'ja' : 'nein';
  if (isCode(v)) return v.name ? `${v.name} (${v.code})` : v.code;
  return String(v);
}

function labelFor(schema: JsonSchema | undefined, pointer: string, key: string): string {
  const t = schema ? schemaAt(schema, pointer)?.title : undefined;
  return typeof t === 'string' ? t : key;
}

/**
 * Builds sections from JSON application data: each top-level group becomes a section, nested groups are
 * flattened into "Gruppe › Feld" labels, repetitions are numbered, code values show name and code. Labels are the
 * `title`s of the input schema where it has them, the field keys otherwise.
 */
export function formViewFromJson(data: unknown, schema?: JsonSchema): FormSection[] {
  const general: FormSection = { title: GENERAL, rows: [] };
  const sections: FormSection[] = [general];
  const walk = (value: unknown, pointer: string, prefix: string, rows: FormRow[]): void => {
    if (value === null || value === undefined || value === '') return;
    if (Array.isArray(value)) {
      value.forEach((item, i) => walk(item, `${pointer}/${i}`, `${prefix} (${i + 1})`, rows));
      return;
    }
    if (typeof value === 'object' && !isCode(value)) {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (k.startsWith('$')) continue;
        const label = labelFor(schema, `${pointer}/${k}`, k);
        walk(v, `${pointer}/${k}`, prefix ? `${prefix} › ${label}` : label, rows);
      }
      return;
    }
    rows.push({ label: prefix, value: scalar(value) });
  };
  if (typeof data === 'object' && data !== null && !Array.isArray(data)) {
    for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
      if (k.startsWith('$')) continue;
      const title = labelFor(schema, `/${k}`, k);
      if (typeof v === 'object' && v !== null && !isCode(v)) {
        const section: FormSection = { title, rows: [] };
        walk(v, `/${k}`, '', section.rows);
        if (section.rows.length) sections.push(section);
      } else walk(v, `/${k}`, title, general.rows);
    }
  } else walk(data, '', 'Inhalt', general.rows);
  return sections.filter((s) => s.rows.length > 0);
}

function text(el: XmlElement): string {
  return el.content.replace(/\s+/g, ' ').trim();
}

/** Builds sections from an XML application: children of the root become sections, leaves become rows by path. */
export function formViewFromXml(doc: XmlDocument): FormSection[] {
  const general: FormSection = { title: GENERAL, rows: [] };
  const sections: FormSection[] = [general];
  const walk = (el: XmlElement, prefix: string, rows: FormRow[]): void => {
    const kids = elementChildren(el);
    for (const a of el.attrs) if (!a.name.startsWith('xmlns') && a.prefix !== 'xsi') rows.push({ label: `${prefix} @${a.name}`, value: a.value });
    if (kids.length === 0) {
      const t = text(el);
      if (t) rows.push({ label: prefix, value: t });
      return;
    }
    const counts = new Map<string, number>();
    for (const k of kids) counts.set(k.name, (counts.get(k.name) ?? 0) + 1);
    const seen = new Map<string, number>();
    for (const k of kids) {
      const n = (seen.get(k.name) ?? 0) + 1;
      seen.set(k.name, n);
      const label = counts.get(k.name)! > 1 ? `${k.name} (${n})` : k.name;
      walk(k, prefix ? `${prefix} › ${label}` : label, rows);
    }
  };
  for (const child of elementChildren(doc.root)) {
    if (elementChildren(child).length === 0) walk(child, child.name, general.rows);
    else {
      const section: FormSection = { title: child.name, rows: [] };
      walk(child, '', section.rows);
      sections.push(section);
    }
  }
  return sections.filter((s) => s.rows.length > 0);
}

/** One line per signature of the verification report, for the PDF and the xdomea Bemerkung. */
export function verificationLines(report: unknown): string[] {
  const verification = (report as { verification?: { signatures?: unknown[] } } | undefined)?.verification;
  const signatures = Array.isArray(verification?.signatures) ? verification.signatures : [];
  if (signatures.length === 0) return ['Keine Signatur geprüft'];
  return signatures.map((raw) => {
    const s = raw as { scope?: string; valid?: boolean; algorithm?: string; certificate?: { subject?: string; trusted?: boolean; timeValid?: boolean } };
    const scope = s.scope === 'content' ? 'Inhaltsdaten-Signatur' : 'Nachrichten-Signatur';
    const cert = s.certificate;
    const trust = cert ? `${cert.trusted ? 'vertrauenswürdig' : 'NICHT vertrauenswürdig'}, ${cert.timeValid ? 'gültig' : 'NICHT gültig'}` : 'ohne Zertifikat';
    return `${scope}: ${s.valid ? 'gültig' : 'UNGÜLTIG'} (${s.algorithm ?? 'unbekannter Algorithmus'}); Zertifikat ${cert?.subject ?? '-'}: ${trust}`;
  });
}
