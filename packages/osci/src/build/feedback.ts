import { FEEDBACK_CODES, type FeedbackCode } from '../lib/feedback-codes.js';
import { element, textElement } from './xml-writer.js';

/** `osci:Feedback` with one `Entry xml:lang="de"` per code, carrying the standard German text. */
export function feedbackXml(codes: readonly FeedbackCode[]): string {
  return element(
    'osci:Feedback',
    [],
    codes.map((code) => element('osci:Entry', [['xml:lang', 'de']], textElement('osci:Code', code) + textElement('osci:Text', FEEDBACK_CODES[code].de))).join(''),
  );
}
