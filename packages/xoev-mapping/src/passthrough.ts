import { forwardAttachment, type MappedDocument, type MappingInput, type MappingProcedure, type MappingResult } from './procedure.js';

function extensionFor(data: Buffer): string {
  const head = data.subarray(0, 64).toString('utf8').trimStart();
  return head.startsWith('<') ? 'xml' : head.startsWith('{') ? 'json' : 'bin';
}

/**
 * Delivers the application as received: each inline content as `inhalt-<n>.<ext>`, every attachment under its
 * reference id, and the verification report as `laufzettel.json`. For targets that take EfA data unconverted.
 */
export const passthrough: MappingProcedure = {
  id: 'passthrough',
  version: '1.0.0',
  title: 'Unverändert weitergeben (Inhalte, Anlagen, Laufzettel)',
  recognises: { kind: 'any' },
  forwardsAttachments: true,
  map(input: MappingInput): Promise<MappingResult> {
    const docs: MappedDocument[] = input.contents.map((c, i) => {
      const ext = c.kind === 'xml' ? 'xml' : extensionFor(c.data);
      return {
        name: `inhalt-${i + 1}.${ext}`,
        contentType: ext === 'xml' ? 'application/xml' : ext === 'json' ? 'application/json' : 'application/octet-stream',
        role: i === 0 ? 'primary' : 'attachment',
        data: c.data,
      };
    });
    // Forwarded, not copied: the pipeline streams them from the spool (a large attachment is never held whole).
    for (const a of input.attachments) docs.push(forwardAttachment(a));
    docs.push({ name: 'laufzettel.json', contentType: 'application/json', role: 'attachment', data: Buffer.from(JSON.stringify(input.report, null, 2)) });
    return Promise.resolve({ documents: docs, validation: { input: 'not-checked', output: { status: 'not-applicable' } } });
  },
};
