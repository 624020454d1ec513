// Several audio files or folders per call for the per-file commands (`theorbo chords a.wav
// b.wav`, `theorbo chroma dir/`, mel and mfcc): a folder stands for the audio files directly in it
// (sorted by name), each input's outputs go beside it or into `--out DIR` under the
// input's name, and a file that cannot be read is reported on stderr with its path while
// the others are still processed; the command then fails (exit 1) after the last file.
// The caller loads its model and starts its device once, for all files.
// Left out: recursion into subfolders, glob patterns (the shell expands those).

import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { StepProgress } from '../train/progress.ts';
import { UsageError } from './flags.ts';

/** The extensions loadMono reads (WAV, MP3, FLAC, Ogg Vorbis). */
export const audioExtensions = ['.wav', '.wave', '.mp3', '.flac', '.ogg', '.oga'] as const;

/**
 * The files named by `args`: a folder becomes its files with one of `extensions` (audio by
 * default), a file (or a path that does not exist, reported when it is read) stays as it
 * is. A folder without such files is refused.
 */
export function expandInputs(command: string, args: readonly string[], extensions: readonly string[] = audioExtensions): { files: string[]; several: boolean } {
  const wanted = (name: string): boolean => extensions.includes(extname(name).toLowerCase());
  const files: string[] = [];
  let folder = false;
  for (const arg of args) {
    if (existsSync(arg) && statSync(arg).isDirectory()) {
      folder = true;
      const found = readdirSync(arg, { withFileTypes: true }).filter((entry) => entry.isFile() && wanted(entry.name)).map((entry) => join(arg, entry.name)).sort();
      if (found.length === 0) throw new UsageError(`${command}: the folder ${arg} holds no ${extensions === audioExtensions ? 'audio ' : ''}files (${extensions.join(', ')}).`);
      files.push(...found);
    } else {
      files.push(arg);
    }
  }
  return { files, several: folder || files.length > 1 };
}

/**
 * Where each input's output goes: the input's name without its extension, plus `suffix`
 * ('.lab'; '' for a prefix the caller extends), beside the input or in `out`. With several
 * inputs (or `out` an existing folder, or ending in '/') `out` is a folder, created if
 * needed; with one input it is the output path itself. Two inputs that would write the
 * same output are refused.
 */
export function outputPaths(command: string, files: readonly string[], several: boolean, out: string | undefined, suffix = ''): string[] {
  const stem = (path: string): string => basename(path).replace(/\.[^.]+$/, '');
  const outFolder = out !== undefined && (several || out.endsWith('/') || (existsSync(out) && statSync(out).isDirectory()));
  const stems = files.map((file) => {
    if (out === undefined) return join(dirname(file), stem(file) + suffix);
    return outFolder ? join(out, stem(file) + suffix) : out;
  });
  const seen = new Map<string, string>();
  stems.forEach((path, i) => {
    const earlier = seen.get(path);
    if (earlier !== undefined) throw new UsageError(`${command}: ${earlier} and ${files[i]} would both write ${path}${suffix === '' ? '.*' : ''}; give them different names or separate --out folders.`);
    seen.set(path, files[i]!);
  });
  if (outFolder) mkdirSync(out!, { recursive: true });
  return stems;
}

/**
 * Where a data command (mel, mfcc) writes each file's CSV: stdout (undefined) for one file
 * without --out, as before; with several files --out must name a folder, since stdout
 * can hold only one.
 */
export function dataOutputPaths(command: string, files: readonly string[], several: boolean, out: string | undefined, suffix: string): (string | undefined)[] {
  if (out === undefined) {
    if (several) throw new UsageError(`${command}: with several audio files, --out DIR names the folder for their ${suffix} files (stdout can hold only one).`);
    return [undefined];
  }
  return outputPaths(command, files, several, out, suffix);
}

/**
 * Runs `work` on each file in turn; a file whose work fails is reported (`command: path:
 * reason`) and the others go on. Throws after the last file if any failed; a single
 * file's error is thrown as it is. With `progress`, several files show a progress line
 * (files done, rate, ETA) on a terminal's stderr.
 */
export async function forEachInput(command: string, files: readonly string[], work: (file: string, index: number) => Promise<void>, report: (line: string) => void = (line) => console.error(line), progress = false): Promise<void> {
  if (files.length === 1) return work(files[0]!, 0);
  const failed: string[] = [];
  const line = new StepProgress(command, 'files', { enabled: progress });
  for (const [index, file] of files.entries()) {
    try {
      await work(file, index);
    } catch (error) {
      if (error instanceof UsageError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      report(`theorbo ${command}: ${message.includes(file) ? message : `${file}: ${message}`}`);
      failed.push(file);
    }
    line.update(index + 1, files.length);
  }
  line.finish();
  if (failed.length > 0) throw new Error(`${command}: ${failed.length} of ${files.length} file${files.length === 1 ? '' : 's'} could not be processed (${failed.join(', ')}); the others were written.`);
}
