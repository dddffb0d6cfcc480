import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { CONNECTOR_TYPES, formatIssues, type Connector } from '@efa-gateway/connectors';
import { loadCertificate, loadPkcs12, TrustStore, type KeyIdentity } from '@efa-gateway/osci';
import { parse as parseYaml } from 'yaml';
import { knownProcedureIds, mappingSettings, type MappingSettings } from '../mapping/registry.js';
import { configSchema, type GatewayConfig, type RouteConfig, type TenantConfig } from './schema.js';

/** Every problem of a configuration, reported together. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

export interface Tenant {
  readonly id: string;
  readonly path: string;
  readonly cipher: KeyIdentity;
  readonly signature: KeyIdentity;
  readonly trust: TrustStore;
  readonly requireTrustedAuthors: boolean;
}

export interface RuntimeConfig {
  readonly config: GatewayConfig;
  /** Bearer token for the operator API, when configured. */
  readonly operatorToken: string | undefined;
  readonly dataDir: string;
  readonly redisUrl: string;
  readonly tenants: ReadonlyMap<string, Tenant>;
  readonly connectors: ReadonlyMap<string, Connector>;
  readonly routes: readonly RouteConfig[];
  readonly mapping: MappingSettings;
}

/** Reads YAML (or takes an object), validates the whole of it and loads keys, trust anchors and connectors. */
export function loadConfig(source: string | object, env: NodeJS.ProcessEnv = process.env, baseDir = process.cwd()): RuntimeConfig {
  let raw: unknown = source;
  if (typeof source === 'string') {
    try {
      raw = parseYaml(readFileSync(source, 'utf8'));
    } catch (error) {
      throw new ConfigError([`${source}: ${(error as Error).message}`]);
    }
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(formatIssues('', parsed.error.issues));
  const config = Object.freeze(parsed.data);
  const problems: string[] = [];
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));

  const tenants = new Map<string, Tenant>();
  const paths = new Set<string>();
  config.tenants.forEach((t, i) => {
    const where = `tenants.${i}`;
    if (tenants.has(t.id)) problems.push(`${where}.id: "${t.id}" is used twice`);
    const path = t.path ?? `/osci/${t.id}`;
    if (paths.has(path)) problems.push(`${where}.path: "${path}" is used twice`);
    paths.add(path);
    const cipher = loadKey(t.cipher, `${where}.cipher`, env, abs, problems);
    const signature = loadKey(t.signature, `${where}.signature`, env, abs, problems);
    const anchors = t.trust.flatMap((f, j) => loadCert(abs(f), `${where}.trust.${j}`, problems));
    const intermediates = t.intermediates.flatMap((f, j) => loadCert(abs(f), `${where}.intermediates.${j}`, problems));
    if (cipher && signature) tenants.set(t.id, { id: t.id, path, cipher, signature, trust: new TrustStore(anchors, intermediates), requireTrustedAuthors: t.requireTrustedAuthors });
  });

  const connectors = new Map<string, Connector>();
  for (const [name, options] of Object.entries(config.connectors)) {
    const factory = CONNECTOR_TYPES[options.type];
    if (!factory) {
      problems.push(`connectors.${name}.type: unknown connector type "${options.type}" (known: ${Object.keys(CONNECTOR_TYPES).join(', ')})`);
      continue;
    }
    const result = factory.options.safeParse(Object.fromEntries(Object.entries(options).filter(([k]) => k !== 'type')));
    if (!result.success) problems.push(...formatIssues(`connectors.${name}`, result.error.issues));
    else {
      try {
        connectors.set(name, factory.create(name, result.data));
      } catch (error) {
        problems.push(`connectors.${name}: ${(error as Error).message}`);
      }
    }
  }

  const mapping = mappingSettings(config, baseDir);
  let procedureIds: string[] = [];
  try {
    procedureIds = knownProcedureIds(mapping);
  } catch (error) {
    problems.push(`mapping.procedureDirs: ${(error as Error).message}`);
  }
  for (const [i, dir] of mapping.procedureDirs.entries()) if (!existsSync(dir)) problems.push(`mapping.procedureDirs.${i}: ${dir} does not exist`);
  for (const [i, file] of mapping.catalogs.entries()) if (!existsSync(file)) problems.push(`mapping.catalogs.${i}: ${file} does not exist`);
  if (mapping.schemaDir !== undefined && !existsSync(mapping.schemaDir)) problems.push(`mapping.schemaDir: ${mapping.schemaDir} does not exist`);
  config.routes.forEach((r, i) => {
    for (const c of r.connectors) if (!(c in config.connectors)) problems.push(`routes.${i}.connectors: unknown connector "${c}"`);
    if (!procedureIds.includes(r.procedure)) problems.push(`routes.${i}.procedure: unknown procedure "${r.procedure}" (known: ${procedureIds.join(', ')})`);
    if (r.match.tenant && !config.tenants.some((t) => t.id === r.match.tenant)) problems.push(`routes.${i}.match.tenant: unknown tenant "${r.match.tenant}"`);
  });

  const tokenEnv = config.http.operatorTokenEnv;
  const operatorToken = tokenEnv ? env[tokenEnv] : undefined;
  if (tokenEnv && (operatorToken === undefined || operatorToken.length < 24)) problems.push(`http.operatorTokenEnv: environment variable ${tokenEnv} must hold a token of at least 24 characters`);

  if (problems.length > 0) {
    for (const c of connectors.values()) void c.close();
    throw new ConfigError(problems);
  }
  return {
    config,
    operatorToken,
    dataDir: abs(config.dataDir),
    redisUrl: config.redisUrl ?? env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    tenants,
    connectors,
    routes: config.routes,
    mapping,
  };
}

function loadKey(ks: TenantConfig['cipher'], where: string, env: NodeJS.ProcessEnv, abs: (p: string) => string, problems: string[]): KeyIdentity | undefined {
  let passphrase: string | undefined;
  if (ks.passphraseEnv !== undefined) {
    passphrase = env[ks.passphraseEnv];
    if (passphrase === undefined) problems.push(`${where}.passphraseEnv: environment variable ${ks.passphraseEnv} is not set`);
  } else if (ks.passphraseFile !== undefined) {
    try {
      passphrase = readFileSync(abs(ks.passphraseFile), 'utf8').split(/\r?\n/)[0] ?? '';
    } catch (error) {
      problems.push(`${where}.passphraseFile: cannot read ${ks.passphraseFile} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  let data: Buffer;
  try {
    data = readFileSync(abs(ks.p12));
  } catch (error) {
    problems.push(`${where}.p12: cannot read ${ks.p12} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
  if (passphrase === undefined) return undefined;
  try {
    return loadPkcs12(data, passphrase);
  } catch (error) {
    problems.push(`${where}.p12: ${(error as Error).message}`);
    return undefined;
  }
}

function loadCert(path: string, where: string, problems: string[]) {
  try {
    return [loadCertificate(readFileSync(path))];
  } catch (error) {
    problems.push(`${where}: cannot read a certificate from ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    return [];
  }
}
