import { readFileSync } from 'node:fs';
import { ConnectorError } from '../contract/errors.js';

/** PEM text as given, or the content of the file it names; a clear CONFIG_INVALID error otherwise. */
export function pemOrFile(value: string, field: string): string {
  if (value.includes('-----BEGIN')) return value;
  try {
    return readFileSync(value, 'utf8');
  } catch (error) {
    throw new ConnectorError('CONFIG_INVALID', `${field}: cannot read ${value} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error });
  }
}
