export { MappingError, type MappedDocument, type MappingInput, type MappingProcedure } from './procedure.js';
export { passthrough } from './passthrough.js';
