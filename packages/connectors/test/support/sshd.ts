import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SSHD = '/usr/sbin/sshd';
export const sshdAvailable = existsSync(SSHD) && process.getuid?.() === 0;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/**
 * A real OpenSSH server on a free loopback port, run from a temporary directory with its own host key and an
 * authorized client key for the current user (root in CI). Stopped and started again to simulate an outage.
 */
export class TestSshd {
  readonly user = process.env.USER ?? 'root';
  port = 0;
  dir = '';
  inbox = '';
  clientKey = '';
  hostFingerprint = '';
  #process: ChildProcess | undefined;

  async start(): Promise<this> {
    this.dir = await mkdtemp(join(tmpdir(), 'efa-sshd-'));
    this.inbox = join(this.dir, 'inbox');
    await mkdir(this.inbox);
    await mkdir('/run/sshd', { recursive: true });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(this.dir, 'host_ed25519')]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(this.dir, 'client_ed25519')]);
    await writeFile(join(this.dir, 'authorized_keys'), await readFile(join(this.dir, 'client_ed25519.pub')));
    this.clientKey = join(this.dir, 'client_ed25519');
    this.hostFingerprint = execFileSync('ssh-keygen', ['-lf', join(this.dir, 'host_ed25519.pub')], { encoding: 'utf8' }).split(' ')[1]!;
    this.port = await freePort();
    await writeFile(
      join(this.dir, 'sshd_config'),
      [
        `Port ${this.port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(this.dir, 'host_ed25519')}`,
        `PidFile ${join(this.dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(this.dir, 'authorized_keys')}`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'UsePAM no',
        'StrictModes no',
        'Subsystem sftp internal-sftp',
        'LogLevel ERROR',
      ].join('\n') + '\n',
    );
    await this.resume();
    return this;
  }

  /** Starts (again) on the same port with the same keys. */
  async resume(): Promise<void> {
    this.#process = spawn(SSHD, ['-D', '-e', '-f', join(this.dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#process.stderr?.on('data', () => {});
    for (let i = 0; i < 100; i++) {
      if (await canConnect(this.port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('sshd did not start');
  }

  async pause(): Promise<void> {
    const p = this.#process;
    this.#process = undefined;
    if (!p || p.exitCode !== null) return;
    p.kill('SIGTERM');
    await new Promise((r) => p.once('exit', r));
  }

  async stop(): Promise<void> {
    await this.pause();
    await rm(this.dir, { recursive: true, force: true });
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.connect(port, '127.0.0.1');
  });
}
