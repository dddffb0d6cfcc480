import type { ConnectorFactory } from '../contract/connector.js';
import { SmtpConnector } from './connector.js';
import { smtpOptions } from './options.js';

/** E-mail with the mapped document attached, for small authorities without a Fachverfahren. */
export const smtp: ConnectorFactory<typeof smtpOptions> = {
  type: 'smtp',
  description: 'Sends each delivery as an e-mail with its documents attached (STARTTLS required by default)',
  options: smtpOptions,
  create: (name, options) => new SmtpConnector(name, options),
};

export { SmtpConnector, smtpOptions };
