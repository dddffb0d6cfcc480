import { defineProcedure } from '../../framework/define.js';
import { el, leaf, type XmlNode } from '../../framework/xml-builder.js';

const P = 'xga:';
const NS = 'http://www.xgewerbeanzeige.de/spezifikation/2.2';
const MESSAGE = 'alg.gewerbemeldung.0300';

interface Code {
  code: string;
  name?: string;
}
interface Anschrift {
  strasse: string;
  hausnummer: string;
  plz: string;
  ort: string;
  staat?: Code;
}
interface Inhaber {
  familienname: string;
  vornamen: string;
  geburtsname?: string;
  geschlecht: Code;
  geburtsdatum: string;
  geburtsort: string;
  geburtsland?: string;
  staatsangehoerigkeit: Code;
  anschrift: Anschrift;
  telefon?: string;
  email?: string;
}
/** The EfA Gewerbeanmeldung as the input schema describes it. */
export interface Gewerbeanmeldung {
  gewerbeamt: { gemeindeschluessel: string; name: string; email?: string };
  betrieb: {
    name?: string;
    rechtsform: Code;
    register?: { art: Code; nummer: string; ort: string; gericht?: Code };
    anschrift: Anschrift;
    vollzeitBeschaeftigte?: number;
    teilzeitBeschaeftigte?: number;
    art: { industrie?: boolean; handwerk?: boolean; handel?: boolean; sonstiges?: boolean };
    nebenerwerb?: boolean;
    reisegewerbe?: boolean;
  };
  inhaber: Inhaber[];
  taetigkeit: { schwerpunkt: string; schluessel?: string; weitere?: string[] };
  beginn: string;
  grundAnmeldung?: Code;
}

const code = (name: string, value: Code | string | undefined, attrs?: Record<string, string>) =>
  value === undefined ? undefined : el(`${P}${name}`, attrs ?? null, leaf('code', typeof value === 'string' ? value : value.code));
const flag = (name: string, value: boolean | undefined) => code(name, value ? '1' : '0');
/** XGewerbeanzeige writes dates of birth as DDMMYYYY. */
const ddmmyyyy = (iso: string) => `${iso.slice(8, 10)}${iso.slice(5, 7)}${iso.slice(0, 4)}`;

function anschrift(a: Anschrift): XmlNode | undefined {
  return el(`${P}anschrift`, null, leaf(`${P}strasse`, a.strasse), leaf(`${P}hausNrVon`, a.hausnummer), leaf(`${P}ort`, a.ort), leaf(`${P}plz`, a.plz), code('nationSchluessel', a.staat ?? '000', { listVersionID: '2' }));
}

function erreichbarkeit(kanal: string, kennung: string | undefined): XmlNode | undefined {
  return kennung ? el(`${P}erreichbarkeit`, null, code('kanal', kanal), leaf(`${P}kennung`, kennung)) : undefined;
}

function person(p: Inhaber): XmlNode | undefined {
  return el(
    `${P}beteiligtePerson`,
    null,
    code('personFunktion', '1'),
    leaf(`${P}familienname`, p.familienname),
    leaf(`${P}vorname`, p.vornamen),
    code('geschlecht', p.geschlecht, { listVersionID: '3' }),
    leaf(`${P}geburtsname`, p.geburtsname),
    leaf(`${P}geburtsdatum`, ddmmyyyy(p.geburtsdatum)),
    leaf(`${P}geburtsort`, p.geburtsort),
    leaf(`${P}geburtsland`, p.geburtsland),
    el(`${P}staatangehoerigkeiten`, null, code('staatsangehoerigkeitSchluessel', p.staatsangehoerigkeit)),
    anschrift(p.anschrift),
    erreichbarkeit('02', p.telefon),
    erreichbarkeit('01', p.email),
  );
}

/**
 * EfA Gewerbeanmeldung (JSON) → XGewerbeanzeige 2.2 `alg.gewerbemeldung.0300` with one `satz/anmeldung`, element
 * for element in the shape of the KoSIT test-suite instances.
 */
export default defineProcedure<Gewerbeanmeldung>({
  read(ctx) {
    const data = ctx.application.json as Gewerbeanmeldung;
    const received = ctx.input.receivedAt.toISOString().slice(0, 10);
    if (data.beginn < '1900-01-01') ctx.problem('/beginn', 'plausible-date', 'Beginn der Tätigkeit vor 1900');
    data.inhaber.forEach((p, i) => {
      if (p.geburtsdatum > received) ctx.problem(`/inhaber/${i}/geburtsdatum`, 'not-in-future', 'Geburtsdatum liegt nach dem Eingang des Antrags');
    });
    const art = data.betrieb.art;
    if (!art.industrie && !art.handwerk && !art.handel && !art.sonstiges) ctx.problem('/betrieb/art', 'one-of-required', 'mindestens eine Betriebsart (Industrie, Handwerk, Handel, Sonstiges) angeben');
    return data;
  },

  map(a, ctx) {
    const received = ctx.input.receivedAt.toISOString().replace(/\.\d{3}Z$/, '+00:00');
    const autor = el(
      `${P}autor`,
      null,
      el(`${P}behoerdenkennung`, null, code('praefix', 'MELDID', { listVersionID: '7' }), code('kennung', a.gewerbeamt.gemeindeschluessel, { listURI: 'urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:ags', listVersionID: '2018-01-31' })),
      erreichbarkeit('01', a.gewerbeamt.email),
      leaf(`${P}behoerdenname`, a.gewerbeamt.name),
    );
    const b = a.betrieb;
    const weitere = a.taetigkeit.weitere?.length ? el(`${P}weitereTaetigkeiten`, null, leaf(`${P}taetigkeitenZusammengefasst`, a.taetigkeit.weitere.join('|'))) : undefined;
    const root = el(
      `${P}${MESSAGE}`,
      { 'xmlns:xga': NS, produkt: 'efa-gateway', produkthersteller: 'efa-gateway', produktversion: ctx.manifest.version, standard: 'XGewerbeanzeige', version: '2.2' },
      el(
        `${P}nachrichtenkopf`,
        null,
        el(`${P}identifikation.nachricht`, null, leaf(`${P}nachrichtenUUID`, ctx.uuid('nachricht')), el(`${P}nachrichtentyp`, null, leaf('code', '0300')), leaf(`${P}erstellungszeitpunkt`, received)),
        el(`${P}leser`, null, leaf(`${P}behoerdenname`, a.gewerbeamt.name)),
        autor,
      ),
      el(
        `${P}satz`,
        null,
        el(
          `${P}anmeldung`,
          null,
          leaf(`${P}satzErstellung`, received),
          leaf(`${P}ereigniszeitpunkt`, received),
          code('istKorrektur', '0'),
          code('gemeindeSchluessel', a.gewerbeamt.gemeindeschluessel, { listVersionID: '2019-05-31' }),
          leaf(`${P}uuid`, ctx.uuid('satz')),
          el(
            `${P}gewerbe`,
            null,
            el(
              `${P}betrieb`,
              null,
              leaf(`${P}ID`, '1'),
              leaf(`${P}eingetragenerName`, b.name),
              leaf(`${P}eintragungNr`, b.register?.nummer),
              leaf(`${P}eintragungOrt`, b.register?.ort),
              code('eintragungArt', b.register?.art),
              code('gerichtSchluessel', b.register?.gericht, { listVersionID: '5' }),
              code('rechtsformSchluessel', b.rechtsform),
            ),
            leaf(`${P}anzahlVollzeitBeschaeftigte`, b.vollzeitBeschaeftigte),
            leaf(`${P}anzahlTeilzeitBeschaeftigte`, b.teilzeitBeschaeftigte),
            el(`${P}betriebArt`, null, flag('industrie', b.art.industrie), flag('handwerk', b.art.handwerk), flag('handel', b.art.handel), flag('sonstiges', b.art.sonstiges)),
            code('niederlassungArt', '1'),
            flag('istReisegewerbe', b.reisegewerbe),
            flag('istNebenerwerb', b.nebenerwerb),
            anschrift(b.anschrift),
            a.inhaber.map(person),
          ),
          leaf(`${P}gueltigAb`, a.beginn),
          leaf(`${P}datumMeldung`, ctx.input.receivedAt.toISOString().slice(0, 10)),
          el(`${P}taetigkeitenGesamt`, null, el(`${P}schwerpunkt`, null, leaf(`${P}taetigkeitSchwerpunkt`, a.taetigkeit.schwerpunkt), leaf(`${P}taetigkeitSchluessel`, a.taetigkeit.schluessel)), weitere),
          code('grundAnmeldungSchluessel', a.grundAnmeldung ?? '01'),
        ),
      ),
    );
    return { message: { fileName: `${ctx.uuid('nachricht')}_${MESSAGE}.xml`, root }, packaging: { kind: 'files' } };
  },
});
