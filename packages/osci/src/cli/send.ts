import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { buildAcceptDelivery, buildProcessDelivery } from '../build/orders.js';
import type { ContentInput } from '../build/content.js';
import { escapeText } from '../lib/xml.js';
import { openMessage } from '../open-message.js';
import { loadCertificate, loadPkcs12 } from '../pki/keystore.js';
import { TrustStore } from '../pki/trust.js';
import { parseArgs, UsageError } from './args.js';

export const SEND_USAGE = `  osci send URL --payload FILE [--attachment FILE …] --intermediary-cipher P12 --intermediary-signature P12
                 --recipient CERT [--originator-signature P12] [--originator-cipher CERT] [--pin PIN]
                 [--process] [--message-id ID] [--subject TEXT] [--service URN] [--trust CERT …]
      Builds an AcceptDelivery (or ProcessDelivery with --process) as an OSCI intermediary would, POSTs it, opens
      and verifies the answer with the intermediary's cipher key and prints one JSON object; exits 0 when the
      recipient answered 0800, 3 otherwise. PINs: --pin or env OSCI_PIN.`;

/** XTA MessageMetaData header naming the service, so that routes can match on it. */
function messageMetaData(service: string): { id: string; xml: string } {
  return {
    id: 'messagemetadata',
    xml: `<xta:MessageMetaData xmlns:xta="http://www.osci.eu/ws/2014/10/transport" Id="messagemetadata"><xta:Qualifier><xta:Service>${escapeText(service)}</xta:Service></xta:Qualifier></xta:MessageMetaData>`,
  };
}

export async function send(argv: string[]): Promise<number> {
  const args = parseArgs(argv, {
    valued: ['payload', 'attachment', 'intermediary-cipher', 'intermediary-signature', 'recipient', 'originator-signature', 'originator-cipher', 'pin', 'message-id', 'subject', 'service', 'trust'],
    flags: ['process'],
  });
  const url = args.positionals[0];
  const one = (name: string) => args.options.get(name)?.[0];
  const need = (name: string) => one(name) ?? failUsage(`--${name} is required`);
  if (!url || !/^https?:\/\//.test(url)) throw new UsageError('send needs the recipient URL');
  const pin = one('pin') ?? process.env.OSCI_PIN ?? failUsage('--pin or OSCI_PIN is required');
  const intermediaryCipher = loadPkcs12(readFileSync(need('intermediary-cipher')), pin);
  const intermediarySignature = loadPkcs12(readFileSync(need('intermediary-signature')), pin);
  const recipient = loadCertificate(readFileSync(need('recipient')));
  const originatorSignature = one('originator-signature') ? loadPkcs12(readFileSync(one('originator-signature')!), pin) : intermediarySignature;
  const originatorCipher = one('originator-cipher') ? loadCertificate(readFileSync(one('originator-cipher')!)) : intermediaryCipher.certificate;
  const contents: ContentInput[] = [{ kind: 'base64', data: readFileSync(need('payload')) }];
  for (const file of args.options.get('attachment') ?? []) contents.push({ kind: 'attachment', refId: basename(file).replace(/[^A-Za-z0-9._-]/g, '_'), data: readFileSync(file) });
  const messageId = one('message-id') ?? `efa-send-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const options = {
    intermediary: { signature: intermediarySignature, cipherCertificate: intermediaryCipher.certificate },
    originator: { cipherCertificate: originatorCipher, signature: originatorSignature },
    addresseeCipher: recipient,
    messageId,
    ...(one('subject') ? { subject: one('subject')! } : {}),
    content: { contents },
    ...(one('service') ? { customHeaders: [messageMetaData(one('service')!)] } : {}),
  };
  const built = args.flags.has('process') ? buildProcessDelivery({ ...options, messageIdResponse: `${messageId}-response` }) : buildAcceptDelivery(options);
  const body = Buffer.concat(built.message.chunks);
  const started = performance.now();
  const response = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'text/xml' } });
  const answer = Buffer.from(await response.arrayBuffer());
  const trustFiles = args.options.get('trust') ?? [];
  let result: Record<string, unknown>;
  try {
    const opened = openMessage(answer, {
      keys: [intermediaryCipher],
      allowUnencrypted: true,
      requireOrderSignature: false,
      ...(trustFiles.length ? { trust: new TrustStore(trustFiles.map((f) => loadCertificate(readFileSync(f)))) } : {}),
    });
    const codes = opened.envelope.fault ? [opened.envelope.fault.code ?? ''] : opened.envelope.order.feedback.map((f) => f.code);
    const challengeEchoed = opened.envelope.controlBlock?.response === built.challenge;
    const signed = opened.signatures[0];
    result = {
      ok: codes.length === 1 && codes[0] === '0800' && challengeEchoed && signed?.valid === true,
      messageId,
      httpStatus: response.status,
      answer: opened.messageType,
      codes,
      challengeEchoed,
      signature: signed ? { valid: signed.valid, signer: signed.signer, trusted: signed.certificate?.trusted } : null,
      encrypted: opened.transport.encrypted,
      requestBytes: body.length,
      latencyMs: Math.round(performance.now() - started),
    };
  } catch (error) {
    result = { ok: false, messageId, httpStatus: response.status, error: (error as Error).message };
  }
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  return result.ok ? 0 : 3;
}

function failUsage(message: string): never {
  throw new UsageError(message);
}
