// Inversions: the bass note of a chord, written as Harte's '/degree' ('C:maj/3' is C major
// with E in the bass), estimated from the CQT after the chord itself is decoded.
//
// The estimate: within each decoded chord segment, each frame votes for the chord tone
// whose CQT peak is the lowest one sounding (a bin at least as strong as its neighbours
// and within `floor` of the frame's strongest bin, on the log1p-compressed CQT the models
// read), weighted by that strongest bin. A note's partials all lie above its fundamental, so the lowest peak that is a
// chord tone is the bass's fundamental (or, where that is weak, its octave, the same pitch
// class). The segment's bass is the chord tone with most votes; the root where none voted.
// The bass is always one of the decoded chord's tones, so mir_eval's rules without '_inv'
// score the labels as they would score them without the bass (the bass joins the chord's
// pitch classes, which already hold it).
// Twins: where the vocabulary has classes of the same notes (C:maj6 and A:min7, C:sus4 and
// F:sus2, and three ways C:aug, E:aug and G#:aug), no chroma tells them apart and template
// matching always answers the first. Given the vocabulary, a chord whose estimated bass is
// the root of a twin becomes that twin in root position (A:min7 with C lowest → C:maj6, not
// A:min7/b3; C:aug over E → E:aug): root position is the likelier reading, as in the
// synthesized data (half the chords) and in most music. Neighbours that end up alike merge.
// Left out: a bass outside the chord (C:maj/b7 as a passing tone), a learned bass head.

import type { NDArray } from '@theorbo/graph';
import { encodeChord } from './harte.ts';
import type { Segment } from './lab-format.ts';
import { vocabularyTwins, type ChordVocabulary } from './vocabularies.ts';

/** Harte's degree for each interval above the root, in semitones. */
export const bassDegrees = ['1', 'b2', '2', 'b3', '3', '4', 'b5', '5', '#5', '6', 'b7', '7'] as const;

/** `label` with the bass `semitones` above its root ('C:maj', 4 → 'C:maj/3'); root position and N stay as they are. */
export function withBass(label: string, semitones: number): string {
  const bass = ((semitones % 12) + 12) % 12;
  if (label === 'N' || label === 'X' || bass === 0) return label;
  if (label.includes('/')) throw new Error(`withBass: '${label}' already names a bass`);
  return `${label}/${bassDegrees[bass]}`;
}

/** A reference label for notes played lowest first: the chord's label with the lowest note's interval above `root` as its bass. */
export function labelWithLowestNote(label: string, root: number | null, lowestMidi: number | undefined): string {
  if (root === null || lowestMidi === undefined) return label;
  return withBass(label, lowestMidi - root);
}

export interface BassOptions {
  /** The CQT's lowest bin's pitch class (C = 0) and bins per octave (one bin per semitone is read; others are refused). */
  firstPitchClass: number;
  binsPerOctave: number;
  /** A bin counts as sounding within this much of the frame's strongest (log1p units; 2.3 ≈ 20 dB). */
  floor: number;
  /** The vocabulary the chords were decoded in: a chord whose bass is the root of another class of the same notes becomes that class (twins, above). */
  vocabulary?: ChordVocabulary;
}

/** For each label of `vocabulary` with a twin (another class of the same template): the twins by root pitch class. */
function twinsOf(vocabulary: ChordVocabulary): Map<string, Map<number, string>> {
  const twins = new Map<string, Map<number, string>>();
  for (const labels of vocabularyTwins(vocabulary)) {
    const byRoot = new Map(labels.map((label) => [encodeChord(label).root, label] as const));
    for (const label of labels) twins.set(label, byRoot);
  }
  return twins;
}

/**
 * C1 as the lowest bin (the models' CQT), 12 bins an octave, and the floor chosen on the
 * validation split of the demo's data (seed 7, 48 triad clips, the shipped model's chords;
 * first with the weights 33765cfd and one vote a frame): majmin_inv 78.9, 82.8, 83.8, 84.8,
 * 85.0, 79.6, 71.5 at floors 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, and sevenths_inv on 24
 * seventh-chord clips 74.2, 76.0, 79.8, 79.4, 73.5, 60.2, 47.7: 1.25 (≈ 11 dB) is the best
 * for both together. With the weights e98eced9 and votes weighted by the frame's strongest
 * bin: 80.6, 82.7, 82.1, 83.1, 78.1 and 75.4, 79.7, 79.9, 77.3, 62.5 at 0.75 … 1.75 (one vote
 * a frame: 81.3, 82.2, 82.2, 82.1, 77.6 and 76.0, 79.2, 79.0, 73.7, 61.1), so 1.25 stays;
 * with the weights f0bc8866: 80.9, 83.1, 83.3, 83.8, 79.2 and 77.9, 81.6, 82.5, 79.9, 63.6.
 * Above it, the low bins' leakage (the CQT's lowest kernels are wider than the 2048-sample
 * frame's resolution) starts to count as notes.
 */
export const bassDefaults: BassOptions = { firstPitchClass: 0, binsPerOctave: 12, floor: 1.25 };

/** Whether estimateBass can read a CQT of these settings: one bin per semitone, its lowest no higher than C2 (a FIR model's starts at C3, above most bass notes). */
export function bassEstimable(feature: { fmin: number; binsPerOctave: number }): boolean {
  return feature.binsPerOctave === 12 && feature.fmin <= 65.5;
}

/** Bass options for a CQT starting at `fmin` Hz (its pitch class on A440's grid) with `binsPerOctave`. */
export function bassOptionsFor(feature: { fmin: number; binsPerOctave: number }, floor = bassDefaults.floor): BassOptions {
  const midi = 69 + 12 * Math.log2(feature.fmin / 440);
  return { firstPitchClass: ((Math.round(midi) % 12) + 12) % 12, binsPerOctave: feature.binsPerOctave, floor };
}

/**
 * Each chord segment of `segments` (decoded from frames of `cqt`, [frames, bins], `hop`
 * samples apart at `sampleRate`, frame f centred at f·hop) with its bass: the chord tone
 * whose CQT peak is most often the lowest one sounding over the segment's frames.
 */
export function estimateBass(cqt: NDArray, segments: readonly Segment[], hop: number, sampleRate: number, options: BassOptions = bassDefaults): Segment[] {
  if (options.binsPerOctave !== 12) throw new Error(`estimateBass: the CQT has ${options.binsPerOctave} bins per octave; the bass estimate reads one bin per semitone (12)`);
  if (cqt.shape.length !== 2) throw new Error(`estimateBass: the CQT is [frames, bins], not [${cqt.shape.join(', ')}]`);
  const [frames, bins] = cqt.shape as [number, number];
  const data = cqt.data;
  const twins = options.vocabulary === undefined ? undefined : twinsOf(options.vocabulary);
  const estimated = segments.map((segment) => {
    if (segment.label === 'N' || segment.label === 'X') return segment;
    const chord = encodeChord(segment.label);
    const votes = new Float64Array(12);
    const first = Math.max(0, Math.ceil((segment.start * sampleRate) / hop));
    const last = Math.min(frames - 1, Math.floor((segment.end * sampleRate) / hop - 1e-9));
    for (let f = first; f <= last; f++) {
      const row = f * bins;
      let strongest = -Infinity;
      for (let b = 0; b < bins; b++) strongest = Math.max(strongest, data[row + b]!);
      const threshold = strongest - options.floor;
      for (let b = 0; b < bins; b++) {
        const value = data[row + b]!;
        if (value < threshold || (b > 0 && value < data[row + b - 1]!) || (b + 1 < bins && value < data[row + b + 1]!)) continue;
        const interval = (((b + options.firstPitchClass - chord.root) % 12) + 12) % 12;
        if (chord.semitones[interval] !== 1) continue;
        // A loud frame counts for more than a quiet one (a release tail, a gap inside the
        // segment), and digital silence (every bin 0, each one a "peak") for nothing.
        votes[interval]! += strongest;
        break;
      }
    }
    let bass = 0;
    for (let k = 1; k < 12; k++) if (votes[k]! > votes[bass]!) bass = k;
    const twin = bass === 0 ? undefined : twins?.get(segment.label)?.get((chord.root + bass) % 12);
    return { ...segment, label: twin ?? withBass(segment.label, bass) };
  });
  // A twin can make a segment its neighbour's label (C:maj6, then A:min7 over C): one segment.
  return twins === undefined ? estimated : estimated.reduce<Segment[]>((merged, segment) => {
    const last = merged[merged.length - 1];
    if (last !== undefined && last.label === segment.label && last.end === segment.start) last.end = segment.end;
    else merged.push({ ...segment });
    return merged;
  }, []);
}
