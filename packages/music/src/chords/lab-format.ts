// .lab chord annotation files (the Isophonics / MIREX format): one segment per line,
// "start end label", fields separated by any whitespace, times in seconds. Reading checks
// every line (numbers, end ≥ start, a valid Harte label) and names the file and line of
// the first problem; blank lines and '#' comments are skipped. Writing uses the shortest
// decimal that reads back as the same number, so parse(format(segments)) is exact, and
// replaces the file atomically (lab.ts). Left out: ordering and overlap checks (evaluation does
// them), labels containing spaces (not Harte).
// This file is the browser-safe half (text in, text out); lab.ts reads and writes files.

import { encodeChord } from './harte.ts';
import type { ChordLabel } from './vocabulary.ts';

export interface Segment {
  /** Seconds. */
  start: number;
  /** Seconds, ≥ start. */
  end: number;
  label: ChordLabel;
}

/** Parses .lab text; `source` names it in errors (a path, or a description). */
export function parseLab(text: string, source = 'the .lab text'): Segment[] {
  const segments: Segment[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const fail = (problem: string): never => {
      throw new Error(`parseLab: ${source} line ${index + 1}: ${problem} (the line reads '${trimmed}').`);
    };
    const fields = trimmed.split(/\s+/);
    if (fields.length !== 3) fail(`expected 3 fields 'start end label', found ${fields.length}`);
    const [startText, endText, label] = fields as [string, string, string];
    const start = Number(startText);
    const end = Number(endText);
    if (!Number.isFinite(start)) fail(`the start time '${startText}' is not a number`);
    if (!Number.isFinite(end)) fail(`the end time '${endText}' is not a number`);
    if (end < start) fail(`the segment ends (${end} s) before it starts (${start} s)`);
    try {
      encodeChord(label);
    } catch (error) {
      fail((error as Error).message.replace(/^encodeChord: /, ''));
    }
    segments.push({ start, end, label });
  });
  return segments;
}

/** The .lab text of `segments`: one "start end label" line each, space-separated. */
export function formatLab(segments: readonly Segment[]): string {
  return segments.map((segment, index) => {
    const { start, end, label } = segment;
    if (!Number.isFinite(start) || !Number.isFinite(end) || end < start) {
      throw new Error(`formatLab: segment ${index} runs from ${start} to ${end} s; times must be finite with end ≥ start.`);
    }
    if (label === '' || /\s/.test(label)) throw new Error(`formatLab: segment ${index} has the label '${label}', which is empty or has whitespace.`);
    return `${start} ${end} ${label}\n`;
  }).join('');
}
