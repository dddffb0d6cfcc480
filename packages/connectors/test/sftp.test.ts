import { describe, expect, it } from 'vitest';
import { sftp } from '../src/sftp/index.js';
import { createConnector } from '../src/contract/options.js';
import type { ConnectorError } from '../src/contract/errors.js';
import { defineConnectorContract, snapshotDirectory, bufferDocument, testDelivery } from '../src/testing/index.js';
import { sshdAvailable, TestSshd } from './support/sshd.js';

if (!sshdAvailable) throw new Error('the SFTP tests need OpenSSH sshd at /usr/sbin/sshd and root (installed by .ci/run: apt-get install openssh-server)');

defineConnectorContract('sftp (OpenSSH sshd)', async () => {
  const sshd = await new TestSshd().start();
  const connector = createConnector(sftp, 'drop', { host: '127.0.0.1', port: sshd.port, username: sshd.user, privateKey: sshd.clientKey, hostKeySha256: sshd.hostFingerprint, remotePath: sshd.inbox });
  return {
    connector,
    peer: {
      snapshot: () => snapshotDirectory(sshd.inbox),
      breakTemporarily: () => sshd.pause(),
      restore: () => sshd.resume(),
    },
    cleanup: () => sshd.stop(),
  };
});

describe('sftp specifics', () => {
  const ctx = () => ({ signal: new AbortController().signal, attempt: 1 });

  it('refuses a server whose host key is not the pinned one, and wrong credentials, permanently', async () => {
    const sshd = await new TestSshd().start();
    try {
      const base = { host: '127.0.0.1', port: sshd.port, username: sshd.user, privateKey: sshd.clientKey, remotePath: sshd.inbox };
      const wrongHost = createConnector(sftp, 'drop', { ...base, hostKeySha256: 'SHA256:' + 'A'.repeat(43) });
      const e1 = (await wrongHost.deliver(testDelivery([bufferDocument('a', Buffer.from('a'))]), ctx()).catch((e: unknown) => e)) as ConnectorError;
      expect(e1).toMatchObject({ code: 'HOST_KEY_MISMATCH', retryable: false });
      const wrongUser = createConnector(sftp, 'drop', { ...base, username: 'nobody', hostKeySha256: sshd.hostFingerprint });
      const e2 = (await wrongUser.deliver(testDelivery([bufferDocument('a', Buffer.from('a'))]), ctx()).catch((e: unknown) => e)) as ConnectorError;
      expect(e2).toMatchObject({ code: 'AUTH_FAILED', retryable: false });
      expect(await snapshotDirectory(sshd.inbox)).toEqual([]);
    } finally {
      await sshd.stop();
    }
  });

  it('uploads one file per document in file mode', async () => {
    const sshd = await new TestSshd().start();
    try {
      const c = createConnector(sftp, 'drop', { host: '127.0.0.1', port: sshd.port, username: sshd.user, privateKey: sshd.clientKey, hostKeySha256: sshd.hostFingerprint, remotePath: sshd.inbox, mode: 'file', layout: '{messageId}_{key}' });
      const delivery = testDelivery([bufferDocument('akte.zip', Buffer.from('zip')), bufferDocument('b.pdf', Buffer.from('pdf'))]);
      const receipt = await c.deliver(delivery, ctx());
      expect(receipt.reference.files).toBe(2);
      expect((await snapshotDirectory(sshd.inbox)).map((i) => i.name).sort()).toEqual([expect.stringMatching(/_akte\.zip$/), expect.stringMatching(/_b\.pdf$/)]);
    } finally {
      await sshd.stop();
    }
  });

  it('rejects bad configuration with one line per field', () => {
    let lines: string[] = [];
    try {
      createConnector(sftp, 'drop', { host: '', port: 70000, username: 'u', hostKeySha256: 'md5:aa', remotePath: 'relative' });
    } catch (error) {
      lines = (error as Error).message.split('\n').slice(1).map((l) => l.trim());
    }
    expect(lines).toEqual([
      expect.stringMatching(/^connectors\.drop\.host: /),
      expect.stringMatching(/^connectors\.drop\.port: /),
      expect.stringMatching(/^connectors\.drop\.hostKeySha256: must be an OpenSSH SHA256 fingerprint/),
      'connectors.drop.remotePath: must be an absolute path on the server',
      'connectors.drop.password: give password or privateKey',
    ]);
  });
});
