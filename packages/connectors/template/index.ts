import type { ConnectorFactory } from '../contract/connector.js';
import { __Name__Connector } from './connector.js';
import { __NAME__Options } from './options.js';

/** Step 3: the factory the gateway's registry and configuration refer to by `type: __name__`. */
export const __NAME__: ConnectorFactory<typeof __NAME__Options> = {
  type: '__name__',
  description: 'TODO: one line for operators',
  options: __NAME__Options,
  create: (name, options) => new __Name__Connector(name, options),
};
