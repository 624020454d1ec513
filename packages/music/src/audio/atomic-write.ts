// Writes a file so that readers see either the old contents or the new, never a torn
// write: the bytes go to a temporary file beside the target (same directory, so the same
// file system), are flushed, and are renamed over it. Shared by the WAV, .lab and PNG
// writers. Left out: fsync of the directory (a power cut may still lose the rename).

import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Writes `bytes` to `path` atomically; failures name `operation`, the path and the cause. */
export function writeFileAtomic(operation: string, path: string, bytes: Uint8Array | string): void {
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    const fd = openSync(temporary, 'w');
    try {
      for (let offset = 0; offset < data.length;) offset += writeSync(fd, data, offset, data.length - offset);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT'
      ? `its directory ${dirname(path)} does not exist`
      : (error as Error).message;
    throw new Error(`${operation}: cannot write ${path}: ${reason}.`);
  }
}
