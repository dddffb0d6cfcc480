import type { RouteConfig } from '../config/schema.js';
import type { ContentBundle } from '../spool/content-store.js';
import type { MessageRecord } from '../spool/record.js';

/** `{namespace}localName` of the first inline XML content, if any. */
export function rootElementOf(bundle: Pick<ContentBundle, 'contents'>): string | undefined {
  const first = bundle.contents[0]?.data;
  if (!first) return undefined;
  const text = first.subarray(0, 4096).toString('utf8');
  const body = text.replace(/^\uFEFF?\s*(<\?xml[^>]*\?>\s*)?(<!--[\s\S]*?-->\s*)*/, '');
  const m = /^<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)([^>]*)>?/.exec(body);
  if (!m) return undefined;
  const prefix = m[1]?.slice(0, -1);
  const attrs = m[3] ?? '';
  const ns = new RegExp(`xmlns${prefix ? `:${prefix}` : ''}="([^"]*)"`).exec(attrs)?.[1];
  return ns ? `{${ns}}${m[2]}` : m[2];
}

/** The first route whose conditions all hold (tenant, XTA service, root element). */
export function selectRoute(routes: readonly RouteConfig[], record: MessageRecord, bundle: Pick<ContentBundle, 'contents'>): RouteConfig | undefined {
  const root = rootElementOf(bundle);
  return routes.find((r) => {
    if (r.match.tenant && r.match.tenant !== record.tenant) return false;
    if (r.match.service && r.match.service !== record.metadata.service) return false;
    if (r.match.rootElement) {
      if (!root) return false;
      const want = r.match.rootElement;
      if (want.startsWith('{') ? want !== root : !(root === want || root.endsWith(`}${want}`))) return false;
    }
    return true;
  });
}
