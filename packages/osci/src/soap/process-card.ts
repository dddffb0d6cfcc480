import { NS } from '../lib/namespaces.js';
import { attr, childNamed, childrenNamed, decodeBase64Text, textOf, type Element } from '../lib/xml.js';

/** `osci:Timestamp`-like element: plain dateTime or cryptographic timestamp. */
export type OsciTimestamp = { readonly kind: 'plain'; readonly value: string } | { readonly kind: 'cryptographic'; readonly algorithm: string; readonly value: string };

export interface Inspection {
  readonly timestamp: OsciTimestamp | undefined;
  readonly x509SubjectName: string;
  readonly x509IssuerName: string;
  readonly x509SerialNumber: string;
  readonly certType: string | undefined;
  readonly mathResult: string | undefined;
  readonly offlineResult: string | undefined;
  readonly onlineResults: ReadonlyArray<{ readonly type: string | undefined; readonly result: string | undefined }>;
}

/** Laufzettel (ProcessCard) with its inspection report, as carried by orders and responses. */
export interface ProcessCardBundle {
  readonly messageId: string;
  readonly messageIdBase64: string;
  readonly recentModification: string | undefined;
  readonly creation: OsciTimestamp | undefined;
  readonly forwarding: OsciTimestamp | undefined;
  readonly reception: OsciTimestamp | undefined;
  readonly subject: string | undefined;
  readonly inspections: readonly Inspection[];
}

export function parseTimestamp(el: Element | undefined): OsciTimestamp | undefined {
  if (!el) return undefined;
  const plain = childNamed(el, NS.osci, 'Plain');
  if (plain) return { kind: 'plain', value: textOf(plain).trim() };
  const crypto = childNamed(el, NS.osci, 'Cryptographic');
  if (crypto) return { kind: 'cryptographic', algorithm: attr(crypto, 'Algorithm') ?? '', value: textOf(crypto).replace(/\s+/g, '') };
  return undefined;
}

/** Decodes an `osci:MessageId` (base64 on the wire) into its text. */
export function decodeMessageId(el: Element): { text: string; base64: string } {
  const base64 = textOf(el).replace(/\s+/g, '');
  return { base64, text: decodeBase64Text(base64, 'MessageId').toString('utf8') };
}

export function parseProcessCardBundle(el: Element): ProcessCardBundle {
  const mid = childNamed(el, NS.osci, 'MessageId');
  const { text, base64 } = mid ? decodeMessageId(mid) : { text: '', base64: '' };
  const card = childNamed(el, NS.osci, 'ProcessCard');
  const report = childNamed(el, NS.osci, 'InspectionReport');
  const subjectEl = card ? childNamed(card, NS.osci, 'Subject') : undefined;
  return {
    messageId: text,
    messageIdBase64: base64,
    recentModification: card ? attr(card, 'RecentModification') : undefined,
    creation: card ? parseTimestamp(childNamed(card, NS.osci, 'Creation')) : undefined,
    forwarding: card ? parseTimestamp(childNamed(card, NS.osci, 'Forwarding')) : undefined,
    reception: card ? parseTimestamp(childNamed(card, NS.osci, 'Reception')) : undefined,
    subject: subjectEl ? textOf(subjectEl) : undefined,
    inspections: report ? childrenNamed(report, NS.osci, 'Inspection').map(parseInspection) : [],
  };
}

function parseInspection(el: Element): Inspection {
  const text = (local: string) => {
    const c = childNamed(el, NS.osci, local);
    return c ? textOf(c) : '';
  };
  const result = (local: string) => {
    const c = childNamed(el, NS.osci, local);
    return c ? attr(c, 'Result') : undefined;
  };
  const certType = childNamed(el, NS.osci, 'CertType');
  return {
    timestamp: parseTimestamp(childNamed(el, NS.osci, 'Timestamp')),
    x509SubjectName: text('X509SubjectName'),
    x509IssuerName: text('X509IssuerName'),
    x509SerialNumber: text('X509SerialNumber'),
    certType: certType ? attr(certType, 'Type') : undefined,
    mathResult: result('MathResult'),
    offlineResult: result('OfflineResult'),
    onlineResults: childrenNamed(el, NS.osci, 'OnlineResult').map((o) => ({ type: attr(o, 'Type'), result: attr(o, 'Result') })),
  };
}
