// Atomic file replacement for every file the package writes (WAV, .lab, PNG, reports,
// .npz weights, checkpoints, configs): the bytes go to a new temporary file in the
// target's own directory (so the rename stays on one file system), are flushed with
// fsync, and the temporary file is renamed over the target; the directory is then
// fsynced so that the rename itself survives a power cut. A reader, or a run resumed
// after a crash at any point, sees either the complete old file or the complete new one.
// On any failure the temporary file is removed and the target is left as it was.
// Lives outside audio/ and train/ so that both (and chords/, plot/, model/) import it
// without importing each other.
// Left out: Windows semantics (rename over an open file), and locking against two
// writers (the last rename wins, which is still a whole file).

import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Points where a test can make the write fail, to check what a crash there leaves behind. */
export interface AtomicWriteHooks {
  /** Replaces the rename of the temporary file over the target (throw to simulate a crash before it). */
  rename?: (from: string, to: string) => void;
}

export interface AtomicWriteOptions {
  /** The public operation that writes, named first in error messages (e.g. 'writeWav'). */
  operation?: string;
  /**
   * Create the target's directory and its parents if missing (the savers of train/ write
   * into a folder they own). Otherwise a missing directory is an error that says so, which
   * catches a mistyped output path.
   */
  createDirectory?: boolean;
  hooks?: AtomicWriteHooks;
}

// Temporary names combine the process id, a per-module counter and a random part: the
// counter keeps one thread's names apart, the random part keeps worker threads (same pid,
// each with its own counter) apart, and 'wx' refuses to reuse a name that exists anyway.
let sequence = 0;

/** Writes `bytes` (a string is written as UTF-8) to `path` so that it is replaced whole or not at all. */
export function writeFileAtomic(path: string, bytes: Uint8Array | string, options: AtomicWriteOptions = {}): void {
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  const directory = dirname(path);
  const unique = `${process.pid}.${sequence++}.${Math.random().toString(36).slice(2, 10)}`;
  const temporary = join(directory, `.${basename(path)}.${unique}.tmp`);
  try {
    if (options.createDirectory) mkdirSync(directory, { recursive: true });
    const fd = openSync(temporary, 'wx');
    try {
      for (let offset = 0; offset < data.length;) offset += writeSync(fd, data, offset, data.length - offset);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    (options.hooks?.rename ?? renameSync)(temporary, path);
  } catch (error) {
    removeQuietly(temporary);
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' && !options.createDirectory
      ? `its directory ${directory} does not exist`
      : (error as Error).message;
    const prefix = options.operation === undefined ? '' : `${options.operation}: `;
    throw new Error(`${prefix}cannot write ${path}: ${reason}; the previous file, if any, is unchanged`, { cause: error });
  }
  syncDirectory(directory);
}

function removeQuietly(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // Nothing was created there (e.g. the directory is a file): nothing to clean up.
  }
}

/** fsync of the directory entry; some file systems refuse to open a directory for it, which costs only durability. */
function syncDirectory(directory: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(directory, 'r');
    fsyncSync(fd);
  } catch {
    // Not every platform can fsync a directory; the rename has still happened.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
