import { z } from 'zod';
import { createHash } from 'node:crypto';
import { ConnectorError } from '../contract/errors.js';
import type { Delivery } from '../contract/delivery.js';

/** A file name component that is safe on every target file system (no separators, no control chars, bounded). */
export function safeSegment(value: string, what: string): string {
  // eslint-disable-next-line no-control-regex -- stripping control characters is the point
  const cleaned = value.normalize('NFC').replace(/[\u0000-\u001f\u007f/\\:*?"<>|]/g, '_').replace(/^\.+/, '_').trim();
  if (cleaned.length === 0) throw new ConnectorError('CONTENT_INVALID', `${what} is empty after removing unsafe characters`);
  return cleaned.slice(0, 120);
}

/** Short, stable tag of an idempotency key: makes names collision-safe and lets retries find their own file. */
export function keyTag(idempotencyKey: string): string {
  return createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 12);
}

export const TEMPLATE_VARIABLES = ['tenant', 'procedure', 'messageId', 'deliveryId', 'key', 'yyyy', 'mm', 'dd', 'date'] as const;

/**
 * Renders a path template such as `{tenant}/{procedure}/{date}/{messageId}_{key}` for a delivery. Every variable is
 * reduced to a safe segment, so the result never escapes the configured root.
 */
export function renderTemplate(template: string, delivery: Delivery): string {
  const d = delivery.receivedAt;
  const yyyy = String(d.getUTCFullYear());
  const mm = String(d.getUTCMonth() + 1).padStart(2, '0');
  const dd = String(d.getUTCDate()).padStart(2, '0');
  const values: Record<(typeof TEMPLATE_VARIABLES)[number], string> = {
    tenant: delivery.tenant,
    procedure: delivery.procedure ?? 'unmapped',
    messageId: delivery.messageId,
    deliveryId: delivery.id,
    key: keyTag(delivery.idempotencyKey),
    yyyy,
    mm,
    dd,
    date: `${yyyy}-${mm}-${dd}`,
  };
  return template
    .split('/')
    .map((segment) => segment.replace(/\{(\w+)\}/g, (_m, name: string) => safeSegment(values[name as keyof typeof values] ?? '', name)))
    .map((segment) => safeSegment(segment, 'path segment'))
    .join('/');
}

export function templateProblems(template: string): string | undefined {
  if (template.startsWith('/') || template.split('/').some((s) => s === '..' || s === '.' || s === '')) return 'must be a relative path without empty, "." or ".." segments';
  const unknown = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!).filter((v) => !(TEMPLATE_VARIABLES as readonly string[]).includes(v));
  if (unknown.length > 0) return `unknown variables ${unknown.map((u) => `{${u}}`).join(', ')}; known: ${TEMPLATE_VARIABLES.map((v) => `{${v}}`).join(' ')}`;
  if (!template.includes('{key}') && !template.includes('{deliveryId}')) return 'must contain {key} or {deliveryId} so that names never collide';
  return undefined;
}

/**
 * The `layout` option shared by file-based connectors: a path template below the target root.
 * @defaultValue `{tenant}/{procedure}/{date}/{messageId}_{key}`
 */
export const layoutOption = z
  .string()
  .default('{tenant}/{procedure}/{date}/{messageId}_{key}')
  .superRefine((t, ctx) => {
    const problem = templateProblems(t);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** `directory`: one folder per delivery, renamed into place as a whole; `file`: one file per document. */
export const modeOption = z.enum(['directory', 'file']).default('directory');
