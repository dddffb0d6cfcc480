import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createDemoPki, toPkcs12 } from '@efa-gateway/osci';

export interface DemoPkiFiles {
  readonly dir: string;
  readonly passphraseFile: string;
  readonly ca: string;
  readonly authorityCipher: string;
  readonly authoritySignature: string;
  readonly intermediaryCipher: string;
  readonly intermediarySignature: string;
  readonly senderSignature: string;
  readonly authorityCipherCert: string;
}

/** The demo PKI under `<dataDir>/pki`, created with node-forge on first run (PKCS#12 files, one passphrase file). */
export async function ensureDemoPki(dataDir: string): Promise<DemoPkiFiles> {
  const dir = join(dataDir, 'pki');
  const files: DemoPkiFiles = {
    dir,
    passphraseFile: join(dir, 'passphrase'),
    ca: join(dir, 'demo-ca.pem'),
    authorityCipher: join(dir, 'authority-cipher.p12'),
    authoritySignature: join(dir, 'authority-signature.p12'),
    intermediaryCipher: join(dir, 'intermediary-cipher.p12'),
    intermediarySignature: join(dir, 'intermediary-signature.p12'),
    senderSignature: join(dir, 'online-service-signature.p12'),
    authorityCipherCert: join(dir, 'authority-cipher.pem'),
  };
  if (existsSync(files.passphraseFile) && existsSync(files.senderSignature)) return files;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const pki = createDemoPki();
  const passphrase = randomBytes(18).toString('base64url');
  const p12 = (id: string) => toPkcs12(pki.pem[id]!.certificate, pki.pem[id]!.privateKey, passphrase, [pki.caPem]);
  await writeFile(files.ca, pki.caPem);
  await writeFile(files.authorityCipherCert, pki.pem['demo-authority-cipher']!.certificate);
  await writeFile(files.authorityCipher, p12('demo-authority-cipher'), { mode: 0o600 });
  await writeFile(files.authoritySignature, p12('demo-authority-signature'), { mode: 0o600 });
  await writeFile(files.intermediaryCipher, p12('demo-intermediary-cipher'), { mode: 0o600 });
  await writeFile(files.intermediarySignature, p12('demo-intermediary-signature'), { mode: 0o600 });
  await writeFile(files.senderSignature, p12('demo-online-service-signature'), { mode: 0o600 });
  await writeFile(files.passphraseFile, passphrase + '\n', { mode: 0o600 });
  return files;
}

export async function demoPassphrase(files: DemoPkiFiles): Promise<string> {
  return (await readFile(files.passphraseFile, 'utf8')).trim();
}
