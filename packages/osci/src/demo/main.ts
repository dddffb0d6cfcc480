/**
 * OSCI round trip on a freshly generated demo PKI: an intermediary builds an AcceptDelivery with a sample EfA
 * application, the authority opens and verifies it and answers with a signed, encrypted ResponseToAcceptDelivery,
 * which the intermediary opens in turn. Prints the inspection summaries (hashes only, no content).
 */
import { buildAcceptDelivery } from '../build/orders.js';
import { buildResponseToAcceptDelivery } from '../build/responses.js';
import { inspectMessage } from '../inspect.js';
import { openMessage } from '../open-message.js';
import { createDemoPki } from '../pki/demo-pki.js';
import { TrustStore } from '../pki/trust.js';

const out = (line: string) => process.stdout.write(line + '\n');

out('creating a demo PKI (RSA-3072) …');
const pki = createDemoPki();
const trust = new TrustStore([pki.ca]);
const application = Buffer.from(
  '<?xml version="1.0" encoding="UTF-8"?><fim:Antrag xmlns:fim="urn:example:efa:antrag"><Leistung>99050012104000</Leistung><Antragsteller>Max Demo</Antragsteller></fim:Antrag>',
);
const { message } = buildAcceptDelivery({
  intermediary: { signature: pki.intermediarySignature, cipherCertificate: pki.intermediaryCipher.certificate },
  originator: { cipherCertificate: pki.senderCipher.certificate, signature: pki.senderSignature },
  addresseeCipher: pki.authorityCipher.certificate,
  messageId: `demo-${Date.now()}`,
  subject: 'EfA Gewerbeanmeldung (Demo)',
  content: { contents: [{ kind: 'base64', data: application }, { kind: 'attachment', refId: 'nachweis.pdf', contentType: 'application/pdf', data: Buffer.from('%PDF-1.4 demo\n') }] },
});
const request = Buffer.concat(message.chunks);
out(`\nAcceptDelivery: ${request.length} bytes on the wire; the authority opens it:`);
out(JSON.stringify(inspectMessage(request, { keys: [pki.authorityCipher], trust }), null, 2));

const opened = openMessage(request, { keys: [pki.authorityCipher], trust });
const response = Buffer.concat(buildResponseToAcceptDelivery({ request: opened.envelope, identity: { signature: pki.authoritySignature }, feedback: ['0800'] }).chunks);
out(`\nResponseToAcceptDelivery: ${response.length} bytes; the intermediary opens it:`);
out(JSON.stringify(inspectMessage(response, { keys: [pki.intermediaryCipher], trust }), null, 2));
