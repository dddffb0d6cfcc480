// Entry of the worker threads of `pnpm bench` that open on both cores: a worker thread does not inherit the parent's
// TypeScript loader, so it registers tsx itself before loading open-loop.ts.
import { register } from 'tsx/esm/api';

register();
await import('./open-loop.ts');
