// The 25-class major/minor chord vocabulary of the talk's chord recognizer: indices 0–11
// are C:maj … B:maj, 12–23 are C:min … B:min, 24 is 'N' (no chord). Any Harte label maps
// onto it as mir_eval's 'majmin' rule compares chords: the label's notes up to the fifth
// (degrees 1–5, so sevenths and extensions fall away) must be exactly a major or minor
// triad; anything else (dim, aug, sus, power chords, 'X') maps to −1, which the majmin
// evaluation leaves out. Also: binary templates and transposition (for pitch-shift
// augmentation, where rotating the CQT by k bins moves every chord k semitones).

import { encodeChord } from './harte.ts';

export type ChordLabel = string;

export const pitchClasses = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'] as const;

export const noChordIndex = 24;

export const vocabulary: readonly ChordLabel[] = Object.freeze([
  ...pitchClasses.map((root) => `${root}:maj`),
  ...pitchClasses.map((root) => `${root}:min`),
  'N',
]);

const majorTriad = [1, 0, 0, 0, 1, 0, 0, 1];
const minorTriad = [1, 0, 0, 1, 0, 0, 0, 1];
const sameUpToFifth = (semitones: readonly number[], triad: number[]): boolean => triad.every((bit, i) => semitones[i] === bit);

/**
 * The vocabulary index of a Harte label under mir_eval's majmin reduction: 'C:maj7' → 0
 * (C:maj), 'A:min7' → 21 (A:min), 'N' → 24; 'X', 'C:dim', 'C:sus4', 'C:5' → −1. A label
 * that is not valid Harte syntax throws, naming it.
 */
export function chordIndex(label: ChordLabel): number {
  const { root, semitones } = encodeChord(label);
  if (root < 0) return semitones.every((bit) => bit === 0) ? noChordIndex : -1;
  if (sameUpToFifth(semitones, majorTriad)) return root;
  if (sameUpToFifth(semitones, minorTriad)) return 12 + root;
  return -1;
}

/** The vocabulary label of an index; −1 (excluded) is 'X'. */
export function chordLabel(index: number): ChordLabel {
  if (index === -1) return 'X';
  const label = vocabulary[index];
  if (label === undefined || !Number.isInteger(index)) {
    throw new Error(`chordLabel: ${index} is not a vocabulary index (0–24, or −1 for excluded).`);
  }
  return label;
}

/** 25 × 12 binary pitch-class templates in vocabulary order; 'N' is all zeros. */
export function chordTemplates(): number[][] {
  return vocabulary.map((_, index) => {
    const template = new Array<number>(12).fill(0);
    if (index === noChordIndex) return template;
    const root = index % 12;
    const third = index < 12 ? 4 : 3;
    for (const interval of [0, third, 7]) template[(root + interval) % 12] = 1;
    return template;
  });
}

/** The index of the chord `semitones` higher (negative: lower); 'N' and −1 stay as they are. */
export function transposeChord(index: number, semitones: number): number {
  if (!Number.isInteger(index) || index < -1 || index > noChordIndex) {
    throw new Error(`transposeChord: ${index} is not a vocabulary index (0–24, or −1 for excluded).`);
  }
  if (!Number.isInteger(semitones)) throw new Error(`transposeChord: the shift must be a whole number of semitones, not ${semitones}.`);
  if (index === -1 || index === noChordIndex) return index;
  const quality = index < 12 ? 0 : 12;
  return quality + ((((index - quality + semitones) % 12) + 12) % 12);
}
