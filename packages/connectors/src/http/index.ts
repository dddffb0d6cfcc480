import type { ConnectorFactory } from '../contract/connector.js';
import { HttpConnector } from './connector.js';
import { httpOptions } from './options.js';

/** REST endpoint of a Fachverfahren: multipart or JSON, mTLS, HMAC, Idempotency-Key. */
export const http: ConnectorFactory<typeof httpOptions> = {
  type: 'http',
  description: 'POSTs each delivery (multipart or JSON, streamed) with Idempotency-Key, optional HMAC signature and mutual TLS',
  options: httpOptions,
  create: (name, options) => new HttpConnector(name, options),
};

export { HttpConnector, httpOptions };
