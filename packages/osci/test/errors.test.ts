import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OsciError, OSCI_ERROR_REASONS } from '../src/lib/errors.js';
import { FEEDBACK_CODES } from '../src/lib/feedback-codes.js';

const doc = readFileSync(join(import.meta.dirname, '../../../docs/errors.md'), 'utf8');

describe('error registry', () => {
  it('docs/errors.md has one row per error reason with its code', () => {
    for (const [reason, spec] of Object.entries(OSCI_ERROR_REASONS)) expect(doc).toContain(`| \`${reason}\` | ${spec.code} | ${spec.layer} |`);
  });

  it('docs/errors.md lists every feedback code', () => {
    for (const code of Object.keys(FEEDBACK_CODES)) expect(doc).toMatch(new RegExp(`^\\| ${code} \\|`, 'm'));
  });

  it('an OsciError carries code, reason, layer, English message and the standard German text', () => {
    const e = new OsciError('TRANSPORT_DECRYPT_FAILED', 'GCM tag mismatch');
    expect(e).toMatchObject({ code: '9202', reason: 'TRANSPORT_DECRYPT_FAILED', layer: 'transport', germanText: 'Auftragsdaten konnten nicht entschlüsselt werden' });
    expect(e.message).toBe('Request data could not be decrypted: GCM tag mismatch');
  });
});
