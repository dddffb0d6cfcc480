#!/usr/bin/env -S npx tsx
import { existsSync, readFileSync } from 'node:fs';
import { inspectMessageFile } from '../inspect.js';
import { OsciError } from '../lib/errors.js';
import { loadCertificate, loadPkcs12, type KeyIdentity } from '../pki/keystore.js';
import { TrustStore } from '../pki/trust.js';
import { parseArgs, UsageError } from './args.js';
import { send, SEND_USAGE } from './send.js';

const USAGE = `usage:
  osci inspect FILE --p12 PATH --pin PIN [--p12 PATH --pin PIN …] [--trust CERT …] [--allow-legacy]
                    [--require-encryption] [--at ISO-DATE]
      Opens an OSCI message (the exact HTTP body), prints one JSON object, exits 0 when it opened and
      every signature is valid, 3 when it is rejected, 2 on usage errors.
      --pin may also be given as env OSCI_PIN (used for every --p12 without its own --pin).
${SEND_USAGE}`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'inspect') return inspect(rest);
  if (command === 'send') return send(rest);
  if (command === '--help' || command === 'help' || command === undefined) {
    process.stdout.write(USAGE + '\n');
    return command === undefined ? 2 : 0;
  }
  throw new UsageError(`unknown command "${command}"`);
}

async function inspect(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { valued: ['p12', 'pin', 'trust', 'at'], flags: ['allow-legacy', 'require-encryption'] });
  const file = args.positionals[0];
  if (!file || args.positionals.length > 1) throw new UsageError('inspect needs exactly one FILE');
  const p12s = args.options.get('p12') ?? [];
  const pins = args.options.get('pin') ?? [];
  if (p12s.length === 0) throw new UsageError('at least one --p12 is needed');
  const keys: KeyIdentity[] = p12s.map((path, i) => {
    const pin = pins[i] ?? pins[pins.length - 1] ?? process.env.OSCI_PIN;
    if (pin === undefined) throw new UsageError(`no --pin for ${path}`);
    return loadPkcs12(readFileSync(path), pin);
  });
  const trustFiles = args.options.get('trust') ?? [];
  const at = args.options.get('at')?.[0];
  if (!existsSync(file)) throw new UsageError(`no such file: ${file}`);
  // Opened while it is read: a message of any size is inspected in bounded memory.
  const result = await inspectMessageFile(file, {
    keys,
    ...(trustFiles.length > 0 ? { trust: new TrustStore(trustFiles.map((f) => loadCertificate(readFileSync(f)))) } : {}),
    allowLegacyAlgorithms: args.flags.has('allow-legacy'),
    allowUnencrypted: !args.flags.has('require-encryption'),
    ...(at ? { now: new Date(at) } : {}),
  });
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  return result.ok ? 0 : 3;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`osci: ${error.message}\n${USAGE}\n`);
    process.exitCode = 2;
  } else if (error instanceof OsciError) {
    process.stderr.write(`osci: ${error.reason}: ${error.message}\n`);
    process.exitCode = 2;
  } else throw error;
}
