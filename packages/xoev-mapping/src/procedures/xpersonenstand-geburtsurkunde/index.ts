import { defineProcedure } from '../../framework/define.js';
import { el, leaf, type XmlNode } from '../../framework/xml-builder.js';

const P = 'xpsw:';
const NS = 'http://xpsw.domap.de/xpsw2611';
const MESSAGE = 'portal2StA.Geburt.081030';

/** The EfA Urkundenbestellung (Geburtenregister) as the input schema describes it. */
export interface Urkundenbestellung {
  uebermittlung: { standesamt: { kennung: string; name: string }; portal: { kennung: string; name: string } };
  antragsteller: {
    anrede: string;
    familienname: string;
    vornamen: string;
    geburtsdatum: string;
    anschrift: { strasse: string; plz: string; ort: string; ortsteil?: string; staat?: string };
    email?: string;
    telefon?: string;
    verwandtschaft: string;
    berechtigtesInteresse?: string;
    identifiziert?: boolean;
  };
  person: { familienname: string; vornamen: string; geburtsdatum: string; geburtsort: string; registernummer?: string };
  urkunden: { geburtsurkunde?: number; registerausdruck?: number; mehrsprachig?: number };
  verwendungszweck?: { code: string; name?: string };
  abholung?: boolean;
  bezahlt?: boolean;
}

const dvdv = () => el('verzeichnisdienst', { listURI: 'urn:xoev-de:kosit:codeliste:verzeichnisdienst', listVersionID: '3' }, leaf('code', 'DVDV'));
/** Erreichbarkeit (xoev basisnachricht, unqualified): 01 E-Mail, 02 Telefon. */
const kommunikation = (name: string, kanal: string, kennung: string | undefined): XmlNode | undefined =>
  kennung ? el(name, null, el('kanal', { listURI: 'urn:de:xoev:codeliste:erreichbarkeit', listVersionID: '1' }, leaf('code', kanal)), leaf('kennung', kennung)) : undefined;
const allgemeinerName = (name: string, value: string) => el(`${P}${name}`, null, leaf('name', value));
const fixedTrue = (name: string, value: boolean | undefined) => (value ? leaf(`${P}${name}`, 'true') : undefined);

/**
 * EfA Urkundenbestellung → XPersonenstand 26.11 `portal2StA.Geburt.081030` (Anforderung von Urkunden aus dem
 * Geburtenregister), with the header in the shape of the portal2StA instances.
 */
export default defineProcedure<Urkundenbestellung>({
  read(ctx) {
    const data = ctx.application.json as Urkundenbestellung;
    const u = data.urkunden;
    if (!u.geburtsurkunde && !u.registerausdruck && !u.mehrsprachig) ctx.problem('/urkunden', 'at-least-one', 'mindestens eine Urkunde bestellen');
    const a = data.antragsteller;
    if (!a.email && !a.telefon) ctx.problem('/antragsteller/email', 'contact-required', 'E-Mail oder Telefon angeben (XPersonenstand verlangt eine Kommunikationsverbindung)');
    if (!/Kind|selbst|Elternteil|Mutter|Vater|Ehe|Abkömmling|Vorfahr|Geschwister/i.test(a.verwandtschaft) && !a.berechtigtesInteresse)
      ctx.problem('/antragsteller/berechtigtesInteresse', 'required-unless-related', 'ohne Verwandtschaft in gerader Linie ist ein berechtigtes Interesse anzugeben (§ 62 PStG)');
    if (data.person.geburtsdatum > ctx.input.receivedAt.toISOString().slice(0, 10)) ctx.problem('/person/geburtsdatum', 'not-in-future', 'Geburtsdatum liegt nach dem Eingang des Antrags');
    return data;
  },

  map(b, ctx) {
    const a = b.antragsteller;
    const created = ctx.input.receivedAt.toISOString();
    const root = el(
      `${P}${MESSAGE}`,
      { 'xmlns:xpsw': NS, produkt: 'efa-gateway', produkthersteller: 'efa-gateway', produktversion: ctx.manifest.version, standard: 'XPersonenstand', version: '26.11' },
      el(
        'nachrichtenkopf.g2g',
        null,
        el(
          'identifikation.nachricht',
          null,
          leaf('nachrichtenUUID', ctx.uuid('nachricht').toUpperCase()),
          el('nachrichtentyp', { listURI: 'urn:xoev-de:xpersonenstand:codelist:nachrichtentyp', listVersionID: '26.11' }, leaf('code', '081030'), leaf('name', MESSAGE)),
          leaf('erstellungszeitpunkt', created),
        ),
        el('leser', null, dvdv(), leaf('kennung', b.uebermittlung.standesamt.kennung), leaf('name', b.uebermittlung.standesamt.name)),
        el('autor', null, dvdv(), leaf('kennung', b.uebermittlung.portal.kennung), leaf('name', b.uebermittlung.portal.name)),
      ),
      el(
        `${P}antragsteller`,
        null,
        el(
          `${P}natuerlichePerson`,
          null,
          leaf(`${P}anrede`, a.anrede),
          allgemeinerName('familienname', a.familienname),
          allgemeinerName('vorname', a.vornamen),
          kommunikation(`${P}kommunikation`, '01', a.email),
          kommunikation(`${P}kommunikation`, '02', a.telefon),
          el(`${P}anschrift`, null, leaf(`${P}strasse`, a.anschrift.strasse), leaf(`${P}plz`, a.anschrift.plz), leaf(`${P}ort`, a.anschrift.ort), leaf(`${P}ortsteil`, a.anschrift.ortsteil), leaf(`${P}staat`, a.anschrift.staat)),
          fixedTrue('gesicherteIdentifikationErfolgt', a.identifiziert),
          leaf(`${P}geburtsdatum`, a.geburtsdatum),
          leaf(`${P}verwandtschaftsverhaeltnis`, a.verwandtschaft),
          leaf(`${P}berechtigtesInteresse`, a.berechtigtesInteresse),
        ),
      ),
      el(`${P}modalitaeten`, null, fixedTrue('abholungImStandesamt', b.abholung), fixedTrue('zahlungErfolgt', b.bezahlt)),
      b.verwendungszweck ? el(`${P}verwendungszweck`, null, leaf('code', b.verwendungszweck.code)) : undefined,
      el(
        `${P}kind`,
        null,
        el(`${P}namen`, null, allgemeinerName('familienname', b.person.familienname), allgemeinerName('vornamen', b.person.vornamen)),
        leaf(`${P}geburtsdatum`, b.person.geburtsdatum),
        leaf(`${P}registernummer`, b.person.registernummer),
        leaf(`${P}geburtsort`, b.person.geburtsort),
      ),
      el(`${P}angeforderteUrkunden`, null, leaf(`${P}anzahlStandardformat`, b.urkunden.geburtsurkunde), leaf(`${P}anzahlRegisterausdruck`, b.urkunden.registerausdruck), leaf(`${P}anzahlCIEC16`, b.urkunden.mehrsprachig)),
      ctx.input.attachments.map((att) => el(`${P}anhang`, { filesize: String(att.data.length) }, leaf(`${P}dokumentid`, att.refId), leaf(`${P}dokumentart`, 'Nachweis'))),
    );
    const files = ctx.input.attachments.map((att) => ({ name: att.refId, contentType: att.contentType, data: att.data }));
    return { message: { fileName: `${ctx.uuid('nachricht')}_${MESSAGE}.xml`, root }, files, packaging: { kind: 'files' } };
  },
});
