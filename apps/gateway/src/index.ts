export { Gateway, type GatewayOptions } from './gateway.js';
export { loadConfig, ConfigError, type RuntimeConfig, type Tenant } from './config/load.js';
export { configSchema, type GatewayConfig, type GatewayConfigInput } from './config/schema.js';
export { laufzettel } from './http/app.js';
