import { readFile } from 'node:fs/promises';
import { buildAcceptDelivery, loadCertificate, loadPkcs12, openMessage } from '@efa-gateway/osci';
import type { DemoPkiFiles } from './demo-pki.js';

/** A sample EfA application (Gewerbeanmeldung) as the online service would submit it. Demo data only. */
export const SAMPLE_APPLICATION = `<?xml version="1.0" encoding="UTF-8"?>
<efa:Antrag xmlns:efa="urn:efa-gateway:demo:antrag:1">
  <efa:Leistung leikaId="99050012104000">Gewerbeanmeldung</efa:Leistung>
  <efa:Antragsteller><efa:Vorname>Max</efa:Vorname><efa:Nachname>Demo</efa:Nachname></efa:Antragsteller>
  <efa:Betrieb><efa:Name>Demo Werkstatt</efa:Name><efa:Ort>Musterstadt</efa:Ort></efa:Betrieb>
</efa:Antrag>
`;

/** Sends the sample as the demo intermediary would and checks the signed, encrypted answer. */
export async function sendSample(url: string, pki: DemoPkiFiles, passphrase: string, messageId: string): Promise<{ codes: string[]; signatureValid: boolean }> {
  const intermediaryCipher = loadPkcs12(await readFile(pki.intermediaryCipher), passphrase);
  const intermediarySignature = loadPkcs12(await readFile(pki.intermediarySignature), passphrase);
  const sender = loadPkcs12(await readFile(pki.senderSignature), passphrase);
  const { message, challenge } = buildAcceptDelivery({
    intermediary: { signature: intermediarySignature, cipherCertificate: intermediaryCipher.certificate },
    originator: { cipherCertificate: intermediaryCipher.certificate, signature: sender },
    addresseeCipher: loadCertificate(await readFile(pki.authorityCipherCert)),
    messageId,
    subject: 'EfA Gewerbeanmeldung (Demo)',
    content: {
      contents: [
        { kind: 'base64', data: Buffer.from(SAMPLE_APPLICATION) },
        { kind: 'attachment', refId: 'nachweis.pdf', contentType: 'application/pdf', data: Buffer.from('%PDF-1.4\n% efa-gateway demo attachment\n') },
      ],
    },
  });
  const response = await fetch(url, { method: 'POST', body: Buffer.concat(message.chunks), headers: { 'content-type': 'text/xml' } });
  const answer = openMessage(Buffer.from(await response.arrayBuffer()), { keys: [intermediaryCipher], requireOrderSignature: false, allowUnencrypted: true });
  if (answer.envelope.controlBlock?.response !== undefined && answer.envelope.controlBlock.response !== challenge) throw new Error('the answer does not echo our Challenge');
  return {
    codes: answer.envelope.fault ? [answer.envelope.fault.code ?? ''] : answer.envelope.order.feedback.map((f) => f.code),
    signatureValid: answer.orderSignature?.valid === true,
  };
}
