import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import type { FormSection } from './form-view.js';

export interface ApplicationPdf {
  readonly title: string;
  /** Rows printed first: MessageId, received time, procedure, verification result … */
  readonly meta: ReadonlyArray<{ readonly label: string; readonly value: string }>;
  readonly sections: readonly FormSection[];
  /** Fixed creation date, so the same message gives the same bytes. */
  readonly createdAt: Date;
}

const PAGE = { width: 595.28, height: 841.89, margin: 50 };
const LABEL_WIDTH = 180;
const GAP = 12;
const SIZE = { title: 15, heading: 11.5, body: 9.5, footer: 8 };
const LINE = 1.3;

/** Letters outside WinAnsi that have an obvious Latin base letter NFD does not give. */
const TRANSLITERATION: Record<string, string> = { Ł: 'L', ł: 'l', Đ: 'D', đ: 'd', Ħ: 'H', ħ: 'h', ı: 'i', Ŧ: 'T', ŧ: 't', ĸ: 'k', ŉ: "'n", Ŋ: 'N', ŋ: 'n', ſ: 's' };

/**
 * The standard PDF fonts only encode WinAnsi (which has ä, ö, ü, ß, é …). Other letters of DIN 91379 names are
 * transliterated for the PDF only (the xÖV XML keeps them exactly); anything else becomes '?'.
 */
function encodable(font: PDFFont): (s: string) => string {
  const cache = new Map<string, string>();
  const ok = (c: string): boolean => {
    try {
      font.encodeText(c);
      return true;
    } catch {
      return false;
    }
  };
  return (s) =>
    Array.from(s.replace(/\r\n?/g, '\n').replace(/\t/g, '    '))
      .map((c) => {
        if (c === '\n') return c;
        let out = cache.get(c);
        if (out === undefined) {
          const base = TRANSLITERATION[c] ?? c.normalize('NFD').replace(/\p{M}/gu, '');
          out = ok(c) ? c : base && Array.from(base).every(ok) ? base : '?';
          cache.set(c, out);
        }
        return out;
      })
      .join('');
}

/** Breaks `text` into lines of at most `width` (exported for tests). */
export function wrap(text: string, font: PDFFont, size: number, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/ +/)) {
      const candidate = line ? `${line} ${word}` : word;
      if (font.widthOfTextAtSize(candidate, size) <= width) {
        line = candidate;
        continue;
      }
      if (line) lines.push(line);
      const pieces = breakWord(word, font, size, width);
      line = pieces.pop()!;
      lines.push(...pieces);
    }
    lines.push(line);
  }
  return lines;
}

/**
 * Breaks a word wider than the column by characters, in one pass: the widths of the characters are summed (a line
 * is measured once more, as kerning can make it a little wider than the sum). Linear in the word — measuring every
 * shorter prefix instead took half a minute for a 5000-character value in an application.
 */
function breakWord(word: string, font: PDFFont, size: number, width: number): string[] {
  const chars = Array.from(word);
  const widths = new Map<string, number>();
  const pieces: string[] = [];
  let start = 0;
  let sum = 0;
  /** Ends a line before `end`, or earlier where a kerning pair widens it beyond the sum; the rest starts the next. */
  const cut = (end: number) => {
    let e = end;
    while (e - start > 1 && font.widthOfTextAtSize(chars.slice(start, e).join(''), size) > width) e--;
    pieces.push(chars.slice(start, e).join(''));
    start = e;
    sum = 0;
    for (let k = e; k < end; k++) sum += widths.get(chars[k]!)!;
  };
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    let w = widths.get(c);
    if (w === undefined) widths.set(c, (w = font.widthOfTextAtSize(c, size)));
    if (sum + w > width && i > start) cut(i);
    sum += w;
  }
  if (chars.length - start > 1 && font.widthOfTextAtSize(chars.slice(start).join(''), size) > width) cut(chars.length);
  pieces.push(chars.slice(start).join(''));
  return pieces;
}

/** Renders the application as an A4 PDF: title, meta block, then one titled block per section. */
export async function renderApplicationPdf(spec: ApplicationPdf): Promise<Buffer> {
  const pdf = await PDFDocument.create({ updateMetadata: false });
  pdf.setTitle(spec.title);
  pdf.setCreator('efa-gateway');
  pdf.setProducer('efa-gateway');
  pdf.setCreationDate(spec.createdAt);
  pdf.setModificationDate(spec.createdAt);
  const regular = await pdf.embedFont(StandardFonts.Helvetica);
  const bold = await pdf.embedFont(StandardFonts.HelveticaBold);
  const clean = encodable(regular);
  const valueWidth = PAGE.width - 2 * PAGE.margin - LABEL_WIDTH - GAP;

  let page: PDFPage = pdf.addPage([PAGE.width, PAGE.height]);
  let y = PAGE.height - PAGE.margin;
  const ensure = (height: number): void => {
    if (y - height >= PAGE.margin + 20) return;
    page = pdf.addPage([PAGE.width, PAGE.height]);
    y = PAGE.height - PAGE.margin;
  };
  const heading = (text: string, size: number): void => {
    const lines = wrap(clean(text), bold, size, PAGE.width - 2 * PAGE.margin);
    ensure(lines.length * size * LINE + 10);
    y -= 6;
    for (const l of lines) {
      y -= size * LINE;
      page.drawText(l, { x: PAGE.margin, y, size, font: bold });
    }
    y -= 4;
  };
  const row = (label: string, value: string): void => {
    const labelLines = wrap(clean(label), bold, SIZE.body, LABEL_WIDTH);
    const valueLines = wrap(clean(value), regular, SIZE.body, valueWidth);
    const n = Math.max(labelLines.length, valueLines.length);
    for (let i = 0; i < n; i++) {
      ensure(SIZE.body * LINE);
      y -= SIZE.body * LINE;
      const l = labelLines[i];
      const v = valueLines[i];
      if (l) page.drawText(l, { x: PAGE.margin, y, size: SIZE.body, font: bold, color: rgb(0.25, 0.25, 0.25) });
      if (v) page.drawText(v, { x: PAGE.margin + LABEL_WIDTH + GAP, y, size: SIZE.body, font: regular });
    }
    y -= 2;
  };

  heading(spec.title, SIZE.title);
  for (const m of spec.meta) row(m.label, m.value);
  for (const section of spec.sections) {
    heading(section.title, SIZE.heading);
    for (const r of section.rows) row(r.label, r.value);
  }
  const pages = pdf.getPages();
  pages.forEach((p, i) =>
    p.drawText(`Seite ${i + 1} von ${pages.length}`, { x: PAGE.margin, y: PAGE.margin - 10, size: SIZE.footer, font: regular, color: rgb(0.4, 0.4, 0.4) }),
  );
  return Buffer.from(await pdf.save({ useObjectStreams: false }));
}
