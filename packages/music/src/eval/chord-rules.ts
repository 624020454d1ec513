// mir_eval.chord's comparison rules: does an estimated chord label match the reference
// one? 1 yes, 0 no, −1 the reference is out of the rule's gamut (left out of the score).
// Labels are encoded as mir_eval encodes them (harte.ts: root, 12-entry bitmap relative to
// the root with the bass note added, bass interval; 'N' is root −1 with no notes, 'X' root
// −1 with a bitmap of −1s). Every rule leaves out a reference 'X'.
//   root        same root ('N' matches 'N': both roots are −1)
//   thirds      same root and the same minor-third bit (semitone 3)
//   triads      same root and the same bitmap up to the fifth (semitones 0–7)
//   tetrads     same root and the same whole bitmap
//   majmin      as triads, scoring only references that are maj or min up to the fifth, or N
//   sevenths    as tetrads, scoring only references that are exactly maj, min, maj7, 7, min7 or N
//   mirex       the chords share at least 3 pitch classes (absolute, after rotating each
//               bitmap by its root), or both have no root; references with 1 or 2 notes are
//               left out
//   *_inv       the rule, and the same bass interval too (majmin_inv and sevenths_inv also
//               leave out a reference whose bass is not a note of its chord; since the bass
//               is added to the bitmap, such a chord already falls outside maj/min etc.)
// Left out: mir_eval's reduce_extended_chords (9/11/13 folded into the octave).

import { encodeChord, chordQualities, type EncodedChord } from '../chords/harte.ts';
import type { ChordLabel } from '../chords/vocabulary.ts';

export const chordRules = [
  'root', 'majmin', 'majmin_inv', 'mirex', 'thirds', 'thirds_inv', 'triads', 'triads_inv', 'sevenths', 'sevenths_inv', 'tetrads', 'tetrads_inv',
] as const;
export type ChordRule = (typeof chordRules)[number];

const isX = (chord: EncodedChord): boolean => chord.semitones.some((bit) => bit < 0);
const isN = (chord: EncodedChord): boolean => chord.root < 0 && chord.semitones.every((bit) => bit === 0);
const sameBits = (a: readonly number[], b: readonly number[], upTo = 12): boolean => {
  for (let i = 0; i < upTo; i++) if (a[i] !== b[i]) return false;
  return true;
};
const majMinOrN = (chord: EncodedChord): boolean =>
  isN(chord) || sameBits(chord.semitones, chordQualities.maj!, 8) || sameBits(chord.semitones, chordQualities.min!, 8);
const seventhQualities = ['maj', 'min', 'maj7', '7', 'min7'].map((name) => chordQualities[name]!);
const seventhOrN = (chord: EncodedChord): boolean => isN(chord) || seventhQualities.some((bits) => sameBits(chord.semitones, bits));
const bassInChord = (chord: EncodedChord): boolean => chord.bass < 0 || chord.semitones[chord.bass] === 1;

/** The chord's pitch classes as absolute positions (C = 0): the bitmap rotated by the root. */
function absoluteNotes(chord: EncodedChord): number[] {
  const notes = new Array<number>(12);
  // numpy's roll by −1 for 'N' and 'X', as mir_eval rotates them too (the values are all alike).
  for (let i = 0; i < 12; i++) notes[(((i + chord.root) % 12) + 12) % 12] = chord.semitones[i]!;
  return notes;
}

/** 1 if `estimate` matches `reference` under `rule`, 0 if not, −1 if the reference is left out. */
export function compareChordLabels(reference: ChordLabel, estimate: ChordLabel, rule: ChordRule): number {
  const ref = encodeChord(reference);
  const est = encodeChord(estimate);
  if (isX(ref)) return -1;
  const sameRoot = ref.root === est.root;
  const sameBass = ref.bass === est.bass;
  switch (rule) {
    case 'root': return sameRoot ? 1 : 0;
    case 'thirds': return sameRoot && ref.semitones[3] === est.semitones[3] ? 1 : 0;
    case 'thirds_inv': return sameRoot && sameBass && ref.semitones[3] === est.semitones[3] ? 1 : 0;
    case 'triads': return sameRoot && sameBits(ref.semitones, est.semitones, 8) ? 1 : 0;
    case 'triads_inv': return sameRoot && sameBass && sameBits(ref.semitones, est.semitones, 8) ? 1 : 0;
    case 'tetrads': return sameRoot && sameBits(ref.semitones, est.semitones) ? 1 : 0;
    case 'tetrads_inv': return sameRoot && sameBass && sameBits(ref.semitones, est.semitones) ? 1 : 0;
    case 'majmin':
      if (!majMinOrN(ref)) return -1;
      return sameRoot && sameBits(ref.semitones, est.semitones, 8) ? 1 : 0;
    case 'majmin_inv':
      if (!majMinOrN(ref) || !bassInChord(ref)) return -1;
      return sameRoot && sameBass && sameBits(ref.semitones, est.semitones, 8) ? 1 : 0;
    case 'sevenths':
      if (!seventhOrN(ref)) return -1;
      return sameRoot && sameBits(ref.semitones, est.semitones) ? 1 : 0;
    case 'sevenths_inv':
      if (!seventhOrN(ref) || !bassInChord(ref)) return -1;
      return sameRoot && sameBass && sameBits(ref.semitones, est.semitones) ? 1 : 0;
    case 'mirex': {
      const count = ref.semitones.filter((bit) => bit > 0).length;
      if (count > 0 && count < 3) return -1;
      if (ref.root < 0 && est.root < 0) return 1;
      const a = absoluteNotes(ref);
      const b = absoluteNotes(est);
      let shared = 0;
      for (let i = 0; i < 12; i++) shared += a[i]! * b[i]!;
      return shared >= 3 ? 1 : 0;
    }
    default: throw new Error(`compareChordLabels: the rule must be one of ${chordRules.join(', ')}, not '${String(rule)}'.`);
  }
}
