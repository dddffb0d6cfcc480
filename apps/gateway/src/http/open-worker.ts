import { workerData } from 'node:worker_threads';
import { runOpenTask, tenantFromPortable, type OpenContext, type OpenOutcome, type OpenTask, type PortableTenant } from './open-task.js';

/** What OpenPool hands every worker thread once. */
export interface OpenWorkerData {
  readonly tenants: readonly PortableTenant[];
  readonly spoolKey: Uint8Array;
  readonly allowLegacyAlgorithms: boolean;
  readonly allowUnencryptedTransport: boolean;
  readonly maxMessageBytes: number;
  readonly xmlLimits: OpenContext['xmlLimits'];
}

const data = workerData as OpenWorkerData;
const context: OpenContext = {
  tenants: new Map(data.tenants.map((t) => [t.id, tenantFromPortable(t)])),
  spoolKey: Buffer.from(data.spoolKey),
  allowLegacyAlgorithms: data.allowLegacyAlgorithms,
  allowUnencryptedTransport: data.allowUnencryptedTransport,
  maxMessageBytes: data.maxMessageBytes,
  xmlLimits: data.xmlLimits,
};

export default function open(task: OpenTask): Promise<OpenOutcome> {
  return runOpenTask(task, context);
}
