import { PDFDocument, StandardFonts, type PDFFont } from 'pdf-lib';
import { describe, expect, it } from 'vitest';
import { wrap } from '../src/framework/pdf.js';

describe('wrapping text for the application PDF', () => {
  it('keeps every line within the column and every character, words whole where they fit', async () => {
    const pdf = await PDFDocument.create();
    const font = await pdf.embedFont(StandardFonts.Helvetica);
    const text = `Antrag auf ${'Gewerbe'.repeat(3)} Anmeldung ${'x'.repeat(700)} Ende\nzweite Zeile mit AVAVAVAVAVAV${'W'.repeat(300)}`;
    const lines = wrap(text, font, 10, 200);
    for (const line of lines) expect(font.widthOfTextAtSize(line, 10), line).toBeLessThanOrEqual(200);
    expect(lines.join('').replace(/ /g, '')).toBe(text.replace(/[ \n]/g, ''));
    expect(lines[0]!.startsWith('Antrag auf ')).toBe(true);
    expect(lines.at(-1)!.endsWith('W')).toBe(true);
  });

  it('measures a long word a number of times linear in its length (prefix by prefix took half a minute for 5000 characters)', () => {
    // A monospace stand-in that counts how many characters it is asked to measure; "AV" kerns 0.5 wider than its sum.
    let measured = 0;
    const font = {
      widthOfTextAtSize: (text: string) => {
        measured += text.length;
        return text.length + (text.match(/AV/g)?.length ?? 0) * 0.5;
      },
    } as unknown as PDFFont;
    const cost = (length: number) => {
      measured = 0;
      const word = 'AV'.repeat(length / 2);
      const lines = wrap(word, font, 10, 60);
      const spent = measured;
      expect(lines.join('')).toBe(word);
      for (const line of lines) expect(font.widthOfTextAtSize(line, 10)).toBeLessThanOrEqual(60);
      return spent;
    };
    const short = cost(1000);
    const long = cost(20_000);
    // Twenty times the word, about twenty times the measuring (quadratic would be four hundred times).
    expect(long / short).toBeLessThan(25);
    expect(short).toBeLessThan(20 * 1000);
  });
});
