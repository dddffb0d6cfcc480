/**
 * `pnpm --filter @efa-gateway/connectors new-connector NAME [--root DIR]` — copies the template into
 * src/NAME/ and test/NAME.test.ts with the names filled in.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export async function newConnector(name: string, root = packageRoot): Promise<string[]> {
  if (!/^[a-z][a-z0-9]{1,30}$/.test(name)) throw new Error(`connector name "${name}" must be lower-case letters and digits, starting with a letter`);
  const target = join(root, 'src', name);
  if (await stat(target).then(() => true, () => false)) throw new Error(`${target} exists already`);
  const Name = name[0]!.toUpperCase() + name.slice(1);
  const fill = (text: string) => text.replaceAll('__NAME__', name).replaceAll('__Name__', Name).replaceAll('__name__', name);
  const written: string[] = [];
  await mkdir(target, { recursive: true });
  for (const file of ['options.ts', 'connector.ts', 'index.ts']) {
    await writeFile(join(target, file), fill(await readFile(join(packageRoot, 'template', file), 'utf8')));
    written.push(join(target, file));
  }
  await mkdir(join(root, 'test'), { recursive: true });
  const testFile = join(root, 'test', `${name}.test.ts`);
  await writeFile(testFile, fill(await readFile(join(packageRoot, 'template', 'connector.test.ts'), 'utf8')));
  written.push(testFile);
  return written;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [name, flag, dir] = process.argv.slice(2);
  newConnector(name ?? '', flag === '--root' && dir ? resolve(dir) : packageRoot).then(
    (files) => process.stdout.write(`created\n  ${files.join('\n  ')}\nnext: implement deliver() in src/${name}/connector.ts, register it in src/index.ts, run pnpm test\n`),
    (error: Error) => {
      process.stderr.write(`new-connector: ${error.message}\n`);
      process.exitCode = 2;
    },
  );
}
