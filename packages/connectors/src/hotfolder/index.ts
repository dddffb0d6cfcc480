import type { ConnectorFactory } from '../contract/connector.js';
import { HotfolderConnector } from './connector.js';
import { hotfolderOptions } from './options.js';

/** Import hotfolder of a DMS or Fachverfahren (d.3, enaio, regisafe …). */
export const hotfolder: ConnectorFactory<typeof hotfolderOptions> = {
  type: 'hotfolder',
  description: 'Writes each delivery atomically (temp name, fsync, rename) into an import folder',
  options: hotfolderOptions,
  create: (name, options) => new HotfolderConnector(name, options),
};

export { HotfolderConnector, hotfolderOptions };
