import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { validateXML } from 'xmllint-wasm';
import { SCHEMA_DIR } from './vectors.js';

/** Literal schemaLocation URLs of the OSCI XSDs → file names of the local copies (as catalog-offline.xml maps them). */
const LOCATION_MAP: Record<string, string> = {
  'http://schemas.xmlsoap.org/soap/envelope/': 'soap-envelope.xsd',
  'http://www.w3.org/2001/xml.xsd': 'xml.xsd',
  'http://www.w3.org/TR/2002/REC-xmldsig-core-20020212/xmldsig-core-schema.xsd': 'xmldsig-core-schema.xsd',
  'http://www.w3.org/TR/2001/CR-xmldsig-core-20010419/xmldsig-core-schema.xsd': 'xmldsig-core-schema.xsd',
  'http://www.w3.org/TR/xmlenc-core/xenc-schema.xsd': 'xenc-schema.xsd',
  'https://www.w3.org/2008/xmlsec/Drafts/xmlenc-core-11/xenc-schema-11.xsd': 'xenc-schema-11.xsd',
};

let preload: Array<{ fileName: string; contents: string }> | undefined;

/** The OSCI XSDs from ../shared/schemas/osci, flattened into one in-memory folder for xmllint-wasm. */
function schemaFiles(): Array<{ fileName: string; contents: string }> {
  if (preload) return preload;
  const dir = join(SCHEMA_DIR, 'osci');
  const files = [...readdirSync(dir).map((f) => join(dir, f)), ...readdirSync(join(dir, 'extern')).map((f) => join(dir, 'extern', f))].filter((f) => f.endsWith('.xsd'));
  preload = files.map((file) => ({
    fileName: basename(file),
    contents: readFileSync(file, 'utf8').replace(/schemaLocation="([^"]+)"/g, (_m, loc: string) => `schemaLocation="${LOCATION_MAP[loc] ?? loc.replace(/^\.\//, '')}"`),
  }));
  return preload;
}

/** Validates an OSCI envelope against the named OSCI XSD (e.g. `soapResponseToAcceptDelivery.xsd`). Test-only: ~100s of ms per call. */
export async function validateOsci(xml: string, schemaFile: string): Promise<{ valid: boolean; errors: string[] }> {
  const files = schemaFiles();
  const main = files.find((f) => f.fileName === schemaFile);
  if (!main) throw new Error(`no schema ${schemaFile}`);
  const result = await validateXML({
    xml: [{ fileName: 'message.xml', contents: xml }],
    schema: [main],
    preload: files.filter((f) => f !== main),
    maxMemoryPages: 4096,
  });
  return { valid: result.valid, errors: result.errors.map((e) => e.rawMessage).filter((m) => !/parser warning/.test(m)) };
}
