// The folder a `train` run writes (--out): a lock so that two runs cannot interleave
// their checkpoints and weights, and the refusal to replace an earlier run without
// --force. The lock is `<out>/train.lock`, created with O_EXCL (one creator wins) and
// holding the creator's pid; it is removed when the run ends. A lock whose pid is no
// longer running (the run was killed) is taken over, with a note.
// Left out: locks across machines (a pid means nothing on another host of a shared
// file system), and telling a reused pid from the run that left the lock: the message
// says which file to delete if no run is using the folder.

import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { checkpointPaths } from '../train/checkpoint.ts';
import { modelPaths } from '../train/model-files.ts';
import { UsageError } from './flags.ts';

export const lockPath = (out: string): string => join(out, 'train.lock');

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, someone else's
  }
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Takes `<out>/train.lock` for this process and returns its release; refuses if a live run holds it. */
export function lockRunFolder(out: string, note: (line: string) => void = (line) => console.error(line)): () => void {
  mkdirSync(out, { recursive: true });
  const path = lockPath(out);
  let tookOver = false;
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let text: string;
    try {
      text = readFileSync(path, 'utf8').trim();
    } catch {
      continue; // released between our open and our read: try again
    }
    // An empty lock is one whose creator has not written its pid yet: give it a moment.
    if (text === '' && attempt < 10) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      continue;
    }
    const pid = /^[0-9]+$/.test(text) ? Number(text) : undefined;
    // After one take-over, a lock found again is another run's that won the race for it.
    if (tookOver || (pid !== undefined && running(pid))) {
      throw new Error(`train: ${out} is in use by another train run (${pid === undefined ? 'pid unknown' : `pid ${pid}`}, lock file ${path}); wait for it to end, or choose another --out. If no run is using the folder, delete ${path}.`);
    }
    note(`train: taking over ${path}, left by ${pid === undefined ? `a run that wrote no pid in it ('${text}')` : `pid ${pid}, which is no longer running`}`);
    // Removed only if it still holds what we read: another run may have taken it over
    // meanwhile. (Between this read and the removal a window of microseconds remains.)
    if (readOrEmpty(path) === text) rmSync(path, { force: true });
    tookOver = true;
  }
  return () => {
    if (readOrEmpty(path) === String(process.pid)) rmSync(path, { force: true });
  };
}

/** The files of an earlier run in `out`: config.json, weights.npz and the checkpoint. */
export function runFiles(out: string): string[] {
  const checkpoint = checkpointPaths(join(out, 'checkpoint'));
  const { config, weights } = modelPaths(out);
  return [config, weights, checkpoint.npz, checkpoint.json].filter((path) => existsSync(path));
}

/**
 * Before a run that does not resume: refuses a folder holding an earlier run unless
 * `force`, and with `force` removes that run's files, so that a new run killed early
 * never leaves the old run's weights beside its own checkpoint.
 */
export function prepareFreshRun(out: string, force: boolean): void {
  const found = runFiles(out);
  if (found.length === 0) return;
  if (!force) {
    throw new UsageError(`train: ${out} already holds a run (${found.map((path) => path.slice(out.length + 1)).join(', ')}); pass --resume to continue it, --force to replace it, or choose another --out.`);
  }
  for (const path of found) rmSync(path, { force: true });
}
