// .lab files on disk (Node only): readLab and writeLab around lab-format.ts's parseLab and
// formatLab, which the browser build uses alone. Left out: anything but files.

import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../files/atomic-write.ts';
import { formatLab, parseLab, type Segment } from './lab-format.ts';

export { formatLab, parseLab, type Segment } from './lab-format.ts';
/** Reads a .lab file; errors name the path (and the line, for content problems). */
export function readLab(path: string): Segment[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `readLab: ${path} does not exist.` : `readLab: ${path} cannot be read: ${(error as Error).message}.`);
  }
  return parseLab(text, path);
}

/** Writes `segments` to `path` as a .lab file, atomically. */
export function writeLab(path: string, segments: readonly Segment[]): void {
  writeFileAtomic(path, formatLab(segments), { operation: 'writeLab' });
}
