import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildAcceptDelivery, loadPkcs12 } from '@efa-gateway/osci';
import { PKI } from './support.js';

const key = (stem: string) => loadPkcs12(readFileSync(join(PKI, `${stem}.p12`)), '123456');
const intermediarySignature = key('osci_manager_signature_4096');
const intermediaryCipher = key('osci_manager_cipher_4096');
const alice = key('alice_signature_4096');
const bobCipher = key('bob_cipher_4096');

/** A fresh AcceptDelivery for bob from the vectors' demo PKI (osci_manager as intermediary, alice as author). */
export function acceptDelivery(messageId: string, attachment: Buffer = Buffer.from(`Anlage zu ${messageId}`)): Buffer {
  const { message } = buildAcceptDelivery({
    intermediary: { signature: intermediarySignature, cipherCertificate: intermediaryCipher.certificate },
    originator: { cipherCertificate: intermediaryCipher.certificate, signature: alice },
    addresseeCipher: bobCipher.certificate,
    messageId,
    subject: 'Testantrag',
    content: { contents: [{ kind: 'base64', data: Buffer.from(`<antrag id="${messageId}"/>`) }, { kind: 'attachment', refId: 'anlage.bin', data: attachment }] },
  });
  return Buffer.concat(message.chunks);
}
