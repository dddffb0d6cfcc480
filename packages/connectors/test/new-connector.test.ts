import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { newConnector } from '../scripts/new-connector.js';

const run = promisify(execFile);
const pkg = resolve(import.meta.dirname, '..');
const repo = resolve(pkg, '../..');

describe('integrator guide: a connector built from the template', () => {
  it(
    'is generated, type-checks and passes the contract suite against its peer',
    async () => {
      // A scratch copy of the package layout: the SDK folders are linked, the new connector is generated into it.
      const root = await mkdtemp(join(tmpdir(), 'efa-new-connector-'));
      try {
        await mkdir(join(root, 'src'));
        for (const dir of ['contract', 'lib', 'testing']) await symlink(join(pkg, 'src', dir), join(root, 'src', dir));
        await symlink(join(pkg, 'node_modules'), join(root, 'node_modules'));
        const files = await newConnector('archiv', root);
        expect(files.map((f) => f.slice(root.length + 1)).sort()).toEqual(['src/archiv/connector.ts', 'src/archiv/index.ts', 'src/archiv/options.ts', 'test/archiv.test.ts']);
        expect(await readFile(join(root, 'src/archiv/index.ts'), 'utf8')).toContain("type: 'archiv'");
        await expect(newConnector('archiv', root)).rejects.toThrow(/exists already/);
        await expect(newConnector('Bad-Name', root)).rejects.toThrow(/lower-case/);

        await writeFile(join(root, 'package.json'), JSON.stringify({ type: 'module', private: true }));
        await writeFile(
          join(root, 'tsconfig.json'),
          JSON.stringify({ extends: join(repo, 'tsconfig.base.json'), compilerOptions: { typeRoots: [join(repo, 'node_modules/@types')] }, include: ['src/archiv/**/*.ts', 'test/**/*.ts'] }),
        );
        await run(join(repo, 'node_modules/.bin/tsc'), ['-p', join(root, 'tsconfig.json')], { cwd: root });
        const { stdout } = await run(join(repo, 'node_modules/.bin/vitest'), ['run', '--root', root, '--reporter=json', '--dir', 'test'], { cwd: root, env: { ...process.env, CI: 'true' }, maxBuffer: 16 * 1024 * 1024 });
        const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { numFailedTests: number; numPassedTests: number };
        expect(report.numFailedTests).toBe(0);
        expect(report.numPassedTests).toBeGreaterThanOrEqual(7);
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    },
    300_000,
  );
});
