import { z } from 'zod';

const recognition = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('xml'), rootElement: z.string().min(1), namespace: z.string() }),
  z.object({ kind: z.literal('json'), schemaIds: z.array(z.string().min(1)).min(1) }),
  z.object({ kind: z.literal('any') }),
]);

/** `manifest.json` of a procedure folder. */
export const manifestSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
    title: z.string().min(1),
    version: z.string().regex(/^\d+\.\d+\.\d+$/, 'semantic version x.y.z'),
    /** Leistungsschlüssel (LeiKa) of the services whose applications the procedure takes. */
    leika: z.array(z.string().regex(/^\d{14}$/, '14-digit Leistungsschlüssel')).default([]),
    recognises: recognition,
    input: z.object({
      format: z.enum(['json', 'xml', 'any']),
      /** JSON Schema (for json) or namespace resolved through the schema catalog (for xml), relative to the folder. */
      schema: z.string().optional(),
    }),
    target: z.object({
      standard: z.string().min(1),
      version: z.string().min(1),
      messageType: z.string().min(1),
      /** Target namespace; its XSD is found through the schema catalog. */
      namespace: z.string().min(1),
      /** `required`: no output leaves unvalidated. `when-available`: validated once the operator installs the XSD. */
      validation: z.enum(['required', 'when-available']).default('required'),
    }),
  })
  .strict();

export type ProcedureManifest = z.infer<typeof manifestSchema>;

export function parseManifest(data: unknown, file: string): ProcedureManifest {
  const result = manifestSchema.safeParse(data);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`${file}: invalid manifest: ${problems}`);
  }
  return result.data;
}
