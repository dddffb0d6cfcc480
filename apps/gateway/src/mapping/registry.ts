import { isAbsolute, resolve } from 'node:path';
import { listProcedureIds, loadProcedures, type ProcedureRegistry } from '@efa-gateway/xoev-mapping';
import type { GatewayConfig } from '../config/schema.js';

/** Where the mapping framework finds schemas, catalogs and the operator's own procedure folders (absolute paths). */
export interface MappingSettings {
  readonly schemaDir: string | undefined;
  readonly catalogs: readonly string[];
  readonly procedureDirs: readonly string[];
}

export function mappingSettings(config: GatewayConfig, baseDir: string): MappingSettings {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  return {
    schemaDir: config.mapping.schemaDir !== undefined ? abs(config.mapping.schemaDir) : undefined,
    catalogs: config.mapping.catalogs.map(abs),
    procedureDirs: config.mapping.procedureDirs.map(abs),
  };
}

/** Procedure ids a route may name (`auto` picks by recognition at run time). */
export function knownProcedureIds(settings: MappingSettings): string[] {
  return ['auto', ...listProcedureIds(settings.procedureDirs)];
}

export function loadRegistry(settings: MappingSettings): Promise<ProcedureRegistry> {
  return loadProcedures({ ...(settings.schemaDir !== undefined ? { schemaDir: settings.schemaDir } : {}), catalogs: settings.catalogs, procedureDirs: settings.procedureDirs });
}
