import { strToU8, zipSync, type Zippable } from 'fflate';

/**
 * Packs files into a zip (deflate; already compressed formats stored) with a fixed timestamp, so the same
 * message gives the same bytes. Names must be unique and free of path separators.
 */
export function zipFiles(files: ReadonlyArray<{ readonly name: string; readonly data: Buffer }>, mtime: Date): Buffer {
  const entries: Zippable = {};
  for (const f of files) {
    if (f.name in entries) throw new Error(`duplicate file name in package: ${f.name}`);
    if (/[\\/]|^\.\.?$/.test(f.name)) throw new Error(`file name not allowed in package: ${f.name}`);
    const stored = /\.(pdf|zip|png|jpe?g|gif|docx|xlsx|odt|gz)$/i.test(f.name);
    entries[f.name] = [new Uint8Array(f.data.buffer, f.data.byteOffset, f.data.byteLength), { level: stored ? 0 : 6, mtime }];
  }
  return Buffer.from(zipSync(entries));
}

export { strToU8 };
