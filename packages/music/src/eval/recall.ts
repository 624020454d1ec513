// Weighted chord symbol recall (WCSR) over labelled segments, as mir_eval.chord.evaluate
// computes it: the estimate is cut to the reference's span and padded with 'N' where it
// says nothing, both are split at every boundary of either, and each piece scores its
// duration when the two labels agree under the rule: any of mir_eval's (chord-rules.ts:
// root, majmin, mirex, thirds, triads, sevenths, tetrads and their _inv forms), e.g.
//   'root'   — same root pitch class ('N' matches 'N'); reference 'X' pieces are left out.
//   'majmin' — the same notes up to the fifth; reference pieces outside maj/min/N (dim,
//              aug, sus, 'X', ...) are left out.
// The score is the agreeing duration over the duration not left out (0 when nothing is
// scored, as mir_eval returns). One deliberate difference: mir_eval assumes gap-free
// segments and stretches the previous label over a gap; here a gap in the reference is not
// scored (there is nothing to recall) and a gap in the estimate counts as 'N'. Gap-free
// inputs, the usual case, score exactly as in mir_eval.

import { encodeChord } from '../chords/harte.ts';
import { chordRules, compareChordLabels, type ChordRule } from './chord-rules.ts';
import type { ChordLabel } from '../chords/vocabulary.ts';
import type { Segment } from '../chords/lab.ts';

export type RecallRule = ChordRule;

/** 1 if `estimate` matches `reference` under `rule`, 0 if not, −1 if the reference is left out. */
export function compareChords(reference: ChordLabel, estimate: ChordLabel, rule: RecallRule): number {
  return compareChordLabels(reference, estimate, rule);
}

/** The fraction of the (scorable) reference duration that `estimate` labels correctly. */
export function weightedChordSymbolRecall(reference: readonly Segment[], estimate: readonly Segment[], rule: RecallRule): number {
  if (!(chordRules as readonly string[]).includes(rule)) throw new Error(`weightedChordSymbolRecall: the rule must be one of ${chordRules.join(', ')}, not '${String(rule)}'.`);
  checkSegments('reference', reference);
  checkSegments('estimate', estimate);
  if (reference.length === 0) throw new Error('weightedChordSymbolRecall: the reference has no segments, so there is nothing to recall.');
  const spanStart = reference[0]!.start;
  const spanEnd = reference[reference.length - 1]!.end;
  const boundaries = [...new Set([
    ...reference.flatMap((segment) => [segment.start, segment.end]),
    ...estimate.flatMap((segment) => [segment.start, segment.end]).filter((time) => time > spanStart && time < spanEnd),
  ])].sort((a, b) => a - b);

  let scored = 0;
  let correct = 0;
  let referenceCursor = 0;
  let estimateCursor = 0;
  for (let i = 0; i + 1 < boundaries.length; i++) {
    const start = boundaries[i]!;
    const end = boundaries[i + 1]!;
    const middle = (start + end) / 2;
    const referenceLabel = labelAt(reference, middle, referenceCursor);
    referenceCursor = referenceLabel.cursor;
    if (referenceLabel.label === undefined) continue; // a gap in the reference
    const estimateLabel = labelAt(estimate, middle, estimateCursor);
    estimateCursor = estimateLabel.cursor;
    const comparison = compareChords(referenceLabel.label, estimateLabel.label ?? 'N', rule);
    if (comparison < 0) continue;
    scored += end - start;
    correct += comparison * (end - start);
  }
  return scored > 0 ? correct / scored : 0;
}

/** The label of the segment holding `time`, scanning forward from `cursor` (times only increase). */
function labelAt(segments: readonly Segment[], time: number, cursor: number): { label: ChordLabel | undefined; cursor: number } {
  while (cursor < segments.length && segments[cursor]!.end <= time) cursor++;
  const segment = segments[cursor];
  return { label: segment !== undefined && segment.start <= time ? segment.label : undefined, cursor };
}

/** Throws unless the segments are finite, in time order and do not overlap; labels are parsed. */
export function checkSegments(which: string, segments: readonly Segment[]): void {
  segments.forEach((segment, index) => {
    const where = `weightedChordSymbolRecall: ${which} segment ${index} (${segment.start}–${segment.end} s, '${segment.label}')`;
    if (!Number.isFinite(segment.start) || !Number.isFinite(segment.end) || segment.end < segment.start) {
      throw new Error(`${where} must have finite times with end ≥ start.`);
    }
    const previous = segments[index - 1];
    if (previous !== undefined && segment.start < previous.end - 1e-9) {
      throw new Error(`${where} starts before segment ${index - 1} ends (${previous.end} s); segments must be in time order without overlaps.`);
    }
    try {
      encodeChord(segment.label);
    } catch (error) {
      throw new Error(`${where} has an invalid label: ${(error as Error).message}`);
    }
  });
}
