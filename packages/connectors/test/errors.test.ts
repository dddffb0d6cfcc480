import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONNECTOR_ERROR_CODES, ConnectorError, fromSystemError } from '../src/contract/errors.js';

describe('connector error registry', () => {
  const docs = [readFileSync(join(import.meta.dirname, '../README.md'), 'utf8'), readFileSync(join(import.meta.dirname, '../../../docs/errors.md'), 'utf8')];
  it('every code has a row in the package README and in docs/errors.md, with its retry class', () => {
    for (const [code, spec] of Object.entries(CONNECTOR_ERROR_CODES)) for (const doc of docs) expect(doc).toMatch(new RegExp(`\\| \`${code}\` \\| ${spec.retryable ? 'yes' : 'no'} \\|`));
  });

  it('maps system errors to classified connector errors', () => {
    const sys = (code: string) => Object.assign(new Error(code), { code });
    expect(fromSystemError(sys('ECONNREFUSED'), 'x')).toMatchObject({ code: 'TARGET_UNAVAILABLE', retryable: true });
    expect(fromSystemError(sys('EACCES'), 'x')).toMatchObject({ code: 'TARGET_NOT_WRITABLE', retryable: true });
    expect(fromSystemError(sys('ETIMEDOUT'), 'x')).toMatchObject({ code: 'TIMEOUT', retryable: true });
    expect(fromSystemError(Object.assign(new Error('aborted'), { name: 'AbortError' }), 'x')).toMatchObject({ code: 'CANCELLED' });
    const own = new ConnectorError('AUTH_FAILED', 'no');
    expect(fromSystemError(own, 'x')).toBe(own);
  });
});
