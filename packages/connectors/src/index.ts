/**
 * @efa-gateway/connectors — deliver mapped xÖV messages to Fachverfahren and DMS.
 * A connector type is a {@link ConnectorFactory}: an options schema plus `create`. The registry below is what the
 * gateway's configuration refers to by `type`.
 */
import type { ConnectorFactory } from './contract/connector.js';
import { hotfolder } from './hotfolder/index.js';
import { http } from './http/index.js';
import { sftp } from './sftp/index.js';
import { smtp } from './smtp/index.js';

export type { Connector, ConnectorFactory } from './contract/connector.js';
export type { Delivery, DeliveryDocument, DeliveryContext, Receipt, DeliveredReceipt, AwaitingPickupReceipt, PickupUpdate, HealthResult } from './contract/delivery.js';
export { ConnectorError, CONNECTOR_ERROR_CODES, isConnectorError, fromSystemError, type ConnectorErrorCode } from './contract/errors.js';
export { createConnector, formatIssues } from './contract/options.js';
export { hotfolder, http, sftp, smtp };
export { fingerprint as sshHostKeyFingerprint } from './sftp/session.js';
export { appendDurably, fsyncDescriptor, fsyncDirectory, fsyncFile, readSmallFile, writeNewFileSynced, writeSmallFileAtomically } from './lib/fs-atomic.js';

/** The built-in connector types by name. */
export const CONNECTOR_TYPES: Readonly<Record<string, ConnectorFactory>> = Object.freeze({ hotfolder, http, sftp, smtp });
