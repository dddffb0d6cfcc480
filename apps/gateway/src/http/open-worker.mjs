// Entry of the OpenPool worker threads. A worker thread does not inherit a TypeScript loader from a test runner, so
// it registers tsx itself before loading the TypeScript module.
import { register } from 'tsx/esm/api';

register();
const { default: open } = await import('./open-worker.ts');
export default open;
