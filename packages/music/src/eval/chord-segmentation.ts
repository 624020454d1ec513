// Segment-level chord scores as mir_eval.chord computes them, and all the recall rules at
// once. Segmentation quality (Harte 2010; mir_eval's overseg, underseg, seg) compares only
// where the chord changes: each segment's labels are first merged with equal neighbours
// (equal root, notes and bass), then
//   d(A → B) = Σ over segments a of A (|a| − the longest part of a that no boundary of B cuts) / span of A
//   over-segmentation  = 1 − d(reference → estimate)   (1: the estimate never cuts a reference segment)
//   under-segmentation = 1 − d(estimate → reference)   (1: the reference never cuts an estimated one)
//   seg = min of the two.
// The estimate is first fitted to the reference's span as mir_eval's adjust_intervals does:
// cut at the span's ends and padded with 'N'; a gap inside the estimate also reads as 'N'.

import { encodeChord } from '../chords/harte.ts';
import type { Segment } from '../chords/lab.ts';
import { chordRules, type ChordRule } from './chord-rules.ts';
import { checkSegments, weightedChordSymbolRecall } from './recall.ts';

export interface SegmentationScores {
  overSegmentation: number;
  underSegmentation: number;
  /** min(over, under). */
  segmentation: number;
}

export type ChordScores = Record<ChordRule, number> & SegmentationScores;

/** Merges neighbouring segments whose labels encode alike ('C' and 'C:maj', not 'C' and 'C/3'). */
export function mergeChordSegments(segments: readonly Segment[]): Segment[] {
  const merged: Segment[] = [];
  for (const segment of segments) {
    const last = merged[merged.length - 1];
    if (last !== undefined && Math.abs(last.end - segment.start) < 1e-9 && sameChord(last.label, segment.label)) last.end = segment.end;
    else merged.push({ ...segment });
  }
  return merged;
}

function sameChord(a: string, b: string): boolean {
  const x = encodeChord(a);
  const y = encodeChord(b);
  return x.root === y.root && x.bass === y.bass && x.semitones.every((bit, i) => bit === y.semitones[i]);
}

/** The estimate cut to [start, end], with 'N' before, after and in any gap. */
export function fitToSpan(estimate: readonly Segment[], start: number, end: number): Segment[] {
  const out: Segment[] = [];
  let cursor = start;
  for (const segment of estimate) {
    const from = Math.max(segment.start, start);
    const to = Math.min(segment.end, end);
    if (to <= from) continue;
    if (from > cursor) out.push({ start: cursor, end: from, label: 'N' });
    out.push({ start: from, end: to, label: segment.label });
    cursor = to;
  }
  if (cursor < end) out.push({ start: cursor, end, label: 'N' });
  return out;
}

/** mir_eval's directional Hamming distance d(A → B) between two segmentations (labels ignored). */
export function directionalHammingDistance(from: readonly Segment[], to: readonly Segment[]): number {
  if (from.length === 0) throw new Error('directionalHammingDistance: the first segmentation has no segments.');
  const span = from[from.length - 1]!.end - from[0]!.start;
  if (!(span > 0)) throw new Error(`directionalHammingDistance: the first segmentation spans ${span} s; it must span a positive time.`);
  const boundaries = [...new Set(to.flatMap((segment) => [segment.start, segment.end]))].sort((a, b) => a - b);
  let distance = 0;
  for (const { start, end } of from) {
    const cuts = [start, ...boundaries.filter((time) => time >= start && time < end), end];
    let longest = 0;
    for (let i = 1; i < cuts.length; i++) longest = Math.max(longest, cuts[i]! - cuts[i - 1]!);
    distance += end - start - longest;
  }
  return distance / span;
}

/** Over-, under-segmentation and seg of `estimate` against `reference`, as mir_eval.chord.evaluate reports them. */
export function segmentationScores(reference: readonly Segment[], estimate: readonly Segment[]): SegmentationScores {
  checkSegments('reference', reference);
  checkSegments('estimate', estimate);
  if (reference.length === 0) throw new Error('segmentationScores: the reference has no segments.');
  const start = reference[0]!.start;
  const end = reference[reference.length - 1]!.end;
  const mergedReference = mergeChordSegments(reference);
  const mergedEstimate = mergeChordSegments(fitToSpan(estimate, start, end));
  const overSegmentation = 1 - directionalHammingDistance(mergedReference, mergedEstimate);
  const underSegmentation = 1 - directionalHammingDistance(mergedEstimate, mergedReference);
  return { overSegmentation, underSegmentation, segmentation: Math.min(overSegmentation, underSegmentation) };
}

/** Every recall rule (weightedChordSymbolRecall) and the segmentation scores of one estimate. */
export function chordScores(reference: readonly Segment[], estimate: readonly Segment[]): ChordScores {
  const recalls = Object.fromEntries(chordRules.map((rule) => [rule, weightedChordSymbolRecall(reference, estimate, rule)])) as Record<ChordRule, number>;
  return { ...recalls, ...segmentationScores(reference, estimate) };
}
