import { defineProcedure, type MappingContext, type OutputFile } from '../../framework/define.js';
import { extensionOf, safeFileName } from '../../framework/files.js';
import { verificationLines, type FormSection } from '../../framework/form-view.js';
import { renderApplicationPdf } from '../../framework/pdf.js';
import { el, empty, leaf, type XmlNode } from '../../framework/xml-builder.js';
import { dateiformatCode, DATEIFORMAT_LIST, DATEIFORMAT_VERSION } from './dateiformat.js';

const X = 'xdomea:';
const NS = 'urn:xoev-de:xdomea:schema:3.0.0';
const MESSAGE = 'Abgabe.Abgabe.0401';

interface Akte {
  readonly subject: string;
  readonly sections: FormSection[];
  readonly sender: string;
  readonly verification: string[];
}

interface PrimaryDocument {
  readonly id: string;
  readonly title: string;
  readonly type: string;
  readonly originalName: string;
  readonly fileName: string;
  readonly contentType: string;
  readonly data: Buffer;
}

function signerName(report: unknown): string | undefined {
  const signatures = (report as { verification?: { signatures?: Array<{ scope?: string; certificate?: { subject?: string } }> } })?.verification?.signatures ?? [];
  const subject = signatures.find((s) => s.scope !== 'content')?.certificate?.subject ?? signatures[0]?.certificate?.subject;
  if (!subject) return undefined;
  return /(?:^|,\s*)CN=([^,]+)/.exec(subject)?.[1] ?? subject;
}

const iso = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
const day = (d: Date): string => d.toISOString().slice(0, 10);

function primary(ctx: MappingContext, doc: Omit<PrimaryDocument, 'id' | 'fileName'>, n: number): PrimaryDocument {
  const id = ctx.uuid(`dokument-${n}`);
  return { ...doc, id, fileName: `${id}_${doc.originalName}` };
}

function dokument(ctx: MappingContext, doc: PrimaryDocument, n: number, akte: Akte): XmlNode | undefined {
  const code = dateiformatCode(ctx, extensionOf(doc.originalName) ?? 'bin');
  return el(
    `${X}Dokument`,
    null,
    el(`${X}Identifikation`, null, leaf(`${X}ID`, doc.id), leaf(`${X}NummerImUebergeordnetenContainer`, n)),
    el(`${X}AllgemeineMetadaten`, null, leaf(`${X}Betreff`, doc.title), leaf(`${X}Kennzeichen`, ctx.input.messageId)),
    leaf(`${X}FremdesGeschaeftszeichen`, ctx.input.messageId),
    leaf(`${X}Posteingangsdatum`, day(ctx.input.receivedAt)),
    leaf(`${X}Typ`, doc.type),
    el(
      `${X}Version`,
      null,
      leaf(`${X}Nummer`, '1'),
      el(
        `${X}Format`,
        null,
        el(`${X}Name`, { listURI: DATEIFORMAT_LIST, listVersionID: DATEIFORMAT_VERSION }, leaf('code', code)),
        empty(`${X}Version`),
        el(`${X}Primaerdokument`, null, leaf(`${X}Dateiname`, doc.fileName), leaf(`${X}DateinameOriginal`, doc.originalName), leaf(`${X}Ersteller`, akte.sender), leaf(`${X}DatumUhrzeit`, iso(ctx.input.receivedAt))),
      ),
    ),
  );
}

/**
 * Any EfA application → xdomea 3.0.0 `Abgabe.Abgabe.0401`: one Vorgang holding the human-readable PDF of the
 * application, the original application data and every attachment, packed with the message in one zip.
 */
export default defineProcedure<Akte>({
  read(ctx) {
    const { input } = ctx;
    return {
      subject: input.subject?.trim() || `EfA-Antrag ${input.messageId}`,
      sections: ctx.formView(),
      sender: signerName(input.report) ?? 'EfA-Onlinedienst',
      verification: verificationLines(input.report),
    };
  },

  async map(akte, ctx) {
    const { input, manifest } = ctx;
    const received = input.receivedAt;
    const processId = ctx.uuid('prozess');
    const pdf = await renderApplicationPdf({
      title: akte.subject,
      createdAt: received,
      meta: [
        { label: 'OSCI-MessageId', value: input.messageId },
        { label: 'Eingegangen am', value: received.toISOString() },
        { label: 'Absender (Signatur)', value: akte.sender },
        ...(input.metadata.service ? [{ label: 'Dienst', value: input.metadata.service }] : []),
        { label: 'Verfahren', value: `${manifest.id} ${manifest.version}` },
        ...akte.verification.map((v, i) => ({ label: i === 0 ? 'Prüfergebnis' : '', value: v })),
      ],
      sections: akte.sections,
    });
    const app = ctx.application;
    const documents: PrimaryDocument[] = [
      primary(ctx, { title: `${akte.subject} (lesbare Fassung)`, type: 'Antrag', originalName: 'antrag.pdf', contentType: 'application/pdf', data: pdf }, 1),
      primary(ctx, { title: 'Antragsdaten (Original)', type: 'Antragsdaten', originalName: `antragsdaten.${app.format}`, contentType: app.format === 'json' ? 'application/json' : 'application/xml', data: app.raw }, 2),
    ];
    const used = new Set(documents.map((d) => d.originalName));
    input.attachments.forEach((a, i) => {
      let name = safeFileName(a.refId, a.contentType);
      if (used.has(name)) name = `${i + 1}-${name}`;
      used.add(name);
      documents.push(primary(ctx, { title: `Anlage ${i + 1}: ${name}`, type: 'Anlage', originalName: name, contentType: a.contentType, data: a.data }, documents.length + 1));
    });

    const contact = (name: string) => el(`${X}Institution`, null, leaf(`${X}Name`, name));
    const root = el(
      `${X}${MESSAGE}`,
      { 'xmlns:xdomea': NS },
      el(
        `${X}Kopf`,
        null,
        leaf(`${X}ProzessID`, processId),
        el(`${X}Nachrichtentyp`, { listURI: 'urn:xoev-de:xdomea:codeliste:nachrichtentyp', listVersionID: '2.0' }, leaf('code', '0401'), leaf('name', 'Abgabe.Abgabe')),
        leaf(`${X}Erstellungszeitpunkt`, iso(received)),
        el(`${X}Absender`, null, contact(akte.sender)),
        el(`${X}Empfaenger`, null, contact(input.tenant)),
        leaf(`${X}Hinweis`, `Eingang über OSCI-Transport (MessageId ${input.messageId}), umgesetzt von ${manifest.id} ${manifest.version}`),
        leaf(`${X}Importbestaetigung`, '1'),
        leaf(`${X}Empfangsbestaetigung`, '0'),
      ),
      el(
        `${X}Schriftgutobjekt`,
        null,
        el(
          `${X}Vorgang`,
          null,
          el(`${X}Identifikation`, null, leaf(`${X}ID`, ctx.uuid('vorgang'))),
          el(
            `${X}AllgemeineMetadaten`,
            null,
            leaf(`${X}Betreff`, akte.subject),
            leaf(`${X}Kennzeichen`, input.messageId),
            leaf(`${X}Bemerkung`, akte.verification.join('\n')),
            el(`${X}Medium`, { listURI: 'urn:xoev-de:xdomea:codeliste:medium', listVersionID: '1.0' }, leaf('code', '001')),
          ),
          leaf(`${X}Typ`, 'EfA-Antrag'),
          el(`${X}HistorienProtokollInformation`, null, leaf(`${X}Akteur`, 'efa-gateway'), leaf(`${X}DatumUhrzeit`, iso(received)), leaf(`${X}Aktion`, `Eingang des Antrags von ${akte.sender}`)),
          documents.map((d, i) => dokument(ctx, d, i + 1, akte)),
        ),
      ),
    );
    const files: OutputFile[] = documents.map((d) => ({ name: d.fileName, contentType: d.contentType, data: d.data }));
    return { message: { fileName: `${processId}_${MESSAGE}.xml`, root }, files, packaging: { kind: 'zip', name: `${processId}_${MESSAGE}.zip` } };
  },
});
