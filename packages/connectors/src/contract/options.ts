import type { z } from 'zod';
import { ConnectorError } from './errors.js';
import type { Connector, ConnectorFactory } from './connector.js';

/** One line per invalid field: `connectors.dms.path: expected string, received undefined`. */
export function formatIssues(prefix: string, issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => `${[prefix, ...issue.path.map(String)].filter(Boolean).join('.')}: ${issue.message}`);
}

/**
 * Validates raw options (from YAML/env) against the factory's schema and creates the connector. All problems are
 * reported at once in one CONFIG_INVALID error whose message lists one line per field.
 */
export function createConnector<S extends z.ZodType>(factory: ConnectorFactory<S>, name: string, raw: unknown, path = `connectors.${name}`): Connector {
  const parsed = factory.options.safeParse(raw);
  if (!parsed.success) throw new ConnectorError('CONFIG_INVALID', `invalid ${factory.type} connector options:\n  ${formatIssues(path, parsed.error.issues).join('\n  ')}`);
  return factory.create(name, parsed.data);
}
