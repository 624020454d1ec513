// .npz files on disk (Node only): saveNpz, loadNpz and readNpz around npz-codec.ts's
// encodeNpz and decodeNpz, which the browser build uses alone. Left out: anything but files.

import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../files/atomic-write.ts';
import { FileFormatError } from '../files/file-format-error.ts';
import { decodeNpz, encodeNpz, type NamedArrays, type NpzContents, type SaveNpzOptions } from './npz-codec.ts';

export { decodeNpz, encodeNpz, type NamedArrays, type NpzContents, type SaveNpzOptions } from './npz-codec.ts';

/** Writes `arrays` to `path` as an .npz archive that numpy.load reads, replacing the file atomically (its directory is created if missing). */
export function saveNpz(path: string, arrays: NamedArrays, options: SaveNpzOptions = {}): void {
  writeFileAtomic(path, encodeNpz(arrays, options, `saveNpz ${path}`), { operation: 'saveNpz', createDirectory: true, hooks: options.hooks });
}

/** The arrays of an .npz file (numpy.savez or saveNpz); errors name the file and what is wrong with it. */
export function loadNpz(path: string): NamedArrays {
  return readNpz(path).arrays;
}

/** The arrays and the other members of an .npz file. */
export function readNpz(path: string, operation = 'loadNpz'): NpzContents {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new FileFormatError(operation, path, `cannot be read: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`, undefined, { cause: error });
  }
  return decodeNpz(bytes, path, operation);
}
