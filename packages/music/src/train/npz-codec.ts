// `.npz` archives as numpy.savez writes them: a zip (fflate) whose member `name.npy` holds
// the array `name`. Members are stored uncompressed, as savez does (savez_compressed's
// deflated archives are read too), with a fixed timestamp so that equal arrays give equal
// bytes. Other members (not ending in .npy) are carried through as raw bytes, which is
// also how numpy.load hands them out: the checkpoint keeps its JSON record there, so that
// one atomic file holds the whole state. Saves go through writeFileAtomic. Reading
// checks every member's size and CRC-32 (zip-read.ts); damage is a FileFormatError
// naming the file and the member.
// Left out: memory-mapped loading, and archives too large for memory (all is read at once).
// This file is the browser-safe half (bytes in, bytes out); npz.ts reads and writes files.

import { zipSync, type Zippable } from 'fflate';
import type { NDArray } from '@theorbo/graph';
import type { AtomicWriteHooks } from '../files/atomic-write.ts';
import { FileFormatError } from '../files/file-format-error.ts';
import { encodeNpy, parseNpy } from './npy.ts';
import { readZip } from './zip-read.ts';

/** Named arrays, as numpy.load(path) gives them (`archive['weights0']`). */
export type NamedArrays = Record<string, NDArray>;

export interface NpzContents {
  arrays: NamedArrays;
  /** Members that are not .npy files, by their full member name. */
  otherFiles: Record<string, Uint8Array>;
}

export interface SaveNpzOptions {
  /** Deflate the members, as numpy.savez_compressed does (default false, as numpy.savez). */
  compress?: boolean;
  /** Extra non-array members, stored as they are (numpy.load returns them as bytes). */
  otherFiles?: Record<string, Uint8Array>;
  hooks?: AtomicWriteHooks;
}

// DOS timestamps start in 1980; a fixed one keeps archives byte-for-byte reproducible.
const fixedTime = new Date(2000, 0, 1);

function checkName(name: string, where: string): void {
  if (name === '' || name.includes('\0') || name.startsWith('/') || name.split('/').includes('..')) {
    throw new Error(`${where}: ${JSON.stringify(name)} cannot name an archive member (it must be non-empty, relative, and free of '..' and NUL)`);
  }
}

/** The bytes of an .npz archive holding `arrays` (and any other members). */
export function encodeNpz(arrays: NamedArrays, options: Omit<SaveNpzOptions, 'hooks'> = {}, where = 'npz'): Uint8Array {
  const level = options.compress ? 6 : 0;
  const members: Zippable = {};
  for (const [name, array] of Object.entries(arrays)) {
    checkName(name, where);
    members[`${name}.npy`] = [encodeNpy(array), { level, mtime: fixedTime }];
  }
  for (const [name, bytes] of Object.entries(options.otherFiles ?? {})) {
    checkName(name, where);
    if (name.endsWith('.npy')) throw new Error(`${where}: the extra member '${name}' ends in .npy and would be read as an array; pass arrays in the arrays argument`);
    if (name in members) throw new Error(`${where}: the member '${name}' is given twice`);
    members[name] = [bytes, { level, mtime: fixedTime }];
  }
  return zipSync(members);
}

/** The arrays and other members of an .npz archive's bytes; `file` names them in errors, which are FileFormatErrors. */
export function decodeNpz(bytes: Uint8Array, file: string, operation = 'decodeNpz'): NpzContents {
  const fail = (problem: string, field?: string): never => { throw new FileFormatError(operation, file, problem, field); };
  if (bytes.length < 4 || bytes[0] !== 0x50 || bytes[1] !== 0x4b) {
    fail(`is not an npz file (not a zip archive: it does not start with the zip signature "PK"${bytes.length === 0 ? '; it is empty' : ''})`);
  }
  const members = readZip(bytes, (problem, field) => fail(problem.startsWith('is not a zip') ? `is not an npz file (${problem.slice(3)})` : problem, field));
  const arrays: NamedArrays = {};
  const otherFiles: Record<string, Uint8Array> = {};
  for (const [name, member] of members) {
    if (name.endsWith('/')) continue; // a directory entry
    if (name === '__proto__.npy' || name === '__proto__') fail(`has a member named '${name}', which cannot be an array's name`, name);
    if (name.endsWith('.npy')) arrays[name.slice(0, -'.npy'.length)] = parseNpy(member, (problem) => fail(`(member '${name}') ${problem}`, name));
    else otherFiles[name] = member;
  }
  return { arrays, otherFiles };
}
