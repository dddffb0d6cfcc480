export {
  MAPPING_ERROR_CODES,
  MappingError,
  documentBytes,
  forwardAttachment,
  type ForwardedAttachment,
  type InputAttachment,
  type MappedBytes,
  type MappedDocument,
  type MappingInput,
  type MappingProcedure,
  type MappingResult,
  type Recognition,
  type ValidationIssue,
} from './procedure.js';
export { passthrough } from './passthrough.js';
export { SchemaDirectory, PROJECT_CATALOG } from './framework/catalog.js';
export { readGenericode, type CodeList } from './framework/codelist.js';
export {
  defineProcedure,
  type ApplicationData,
  type MappingContext,
  type OutputFile,
  type ProcedureDefinition,
  type ProcedureOutput,
} from './framework/define.js';
export { extensionOf, safeFileName } from './framework/files.js';
export { formViewFromJson, formViewFromXml, verificationLines, type FormRow, type FormSection } from './framework/form-view.js';
export { CompiledJsonSchema, titleAt, type JsonSchema } from './framework/json-schema.js';
export { manifestSchema, parseManifest, type ProcedureManifest } from './framework/manifest.js';
export { renderApplicationPdf, type ApplicationPdf } from './framework/pdf.js';
export {
  BUILTIN_PROCEDURES_DIR,
  defaultSchemaDir,
  listProcedureIds,
  loadProcedureFolder,
  loadProcedures,
  ProcedureRegistry,
  type RegistryOptions,
} from './framework/registry.js';
export { ProcedureRuntime, stableUuid } from './framework/runtime.js';
export { el, empty, leaf, serialize, type XmlNode } from './framework/xml-builder.js';
export { CompiledSchema, SchemaCache, SchemaUnavailableError } from './framework/xsd-validator.js';
export { zipFiles } from './framework/zip.js';
export { loadLibxml } from './framework/libxml.js';
