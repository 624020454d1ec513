// Atomic file replacement for every save of the training code (checkpoints, weights,
// configs): the bytes go to a temporary file in the target's own directory (so the
// rename stays on one file system), are flushed with fsync, and the temporary file is
// renamed over the target; the directory is then fsynced so that the rename itself
// survives a power cut. A reader, or a run resumed after a crash at any point, sees
// either the complete old file or the complete new one. On any failure the temporary
// file is removed and the target is left as it was.
// Left out: Windows semantics (rename over an open file), and locking against two
// writers (the last rename wins, which is still a whole file).
// The audio area has its own writer of the same name; this one differs in syncing the
// directory and in the fault-injection hooks that the checkpoint tests use.

import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Points where a test can make the write fail, to check what a crash there leaves behind. */
export interface AtomicWriteHooks {
  /** Replaces the rename of the temporary file over the target (throw to simulate a crash before it). */
  rename?: (from: string, to: string) => void;
}

let sequence = 0;

/** Writes `bytes` (a string is written as UTF-8) to `path` so that it is replaced whole or not at all. */
export function writeFileAtomic(path: string, bytes: Uint8Array | string, hooks: AtomicWriteHooks = {}): void {
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  const directory = dirname(path);
  const temporary = join(directory, `.${basename(path)}.${process.pid}.${sequence++}.tmp`);
  try {
    mkdirSync(directory, { recursive: true });
    const fd = openSync(temporary, 'wx');
    try {
      for (let offset = 0; offset < data.length;) offset += writeSync(fd, data, offset, data.length - offset);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    (hooks.rename ?? renameSync)(temporary, path);
  } catch (error) {
    removeQuietly(temporary);
    throw new Error(`cannot write ${path}: ${(error as Error).message}; the previous file, if any, is unchanged`, { cause: error });
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
