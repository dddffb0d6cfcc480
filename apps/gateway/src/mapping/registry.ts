import { passthrough, type MappingProcedure } from '@efa-gateway/xoev-mapping';

/** Procedures routes may name. Per-procedure packages (xdomea, XGewerbeanzeige …) register here as they arrive. */
export const PROCEDURES: ReadonlyMap<string, MappingProcedure> = new Map([[passthrough.id, passthrough]]);
