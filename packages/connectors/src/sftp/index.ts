import type { ConnectorFactory } from '../contract/connector.js';
import { SftpConnector } from './connector.js';
import { sftpOptions } from './options.js';
export { fingerprint } from './session.js';

/** SFTP drop of a Fachverfahren or DMS, with a pinned host key. */
export const sftp: ConnectorFactory<typeof sftpOptions> = {
  type: 'sftp',
  description: 'Uploads each delivery over SFTP to a temporary name and renames it into place; host key pinned',
  options: sftpOptions,
  create: (name, options) => new SftpConnector(name, options),
};

export { SftpConnector, sftpOptions };
