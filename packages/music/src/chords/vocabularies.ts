// Chord vocabularies a recognizer can output, each a list of Harte labels with 'N' last:
//   majmin   — the 24 major and minor triads and N (25 classes; the same order as
//              vocabulary.ts: C:maj … B:maj, C:min … B:min, N)
//   sevenths — maj, min, 7, maj7, min7 on every root, and N (61; MIREX's 'sevenths' set)
//   full     — those and dim, aug, sus2, sus4, maj6, min6 (133)
// Each class has a binary pitch-class template (absolute: C = 0), which template matching
// compares with a 12-dimensional chroma. A Harte label maps to the class with the same root
// and the same notes once the bass is set aside ('C:maj/3' → C:maj, 'C:9' → C:7 since
// mir_eval drops degrees past the octave; 'N' → N); failing that, to the triad class with
// its notes up to the fifth (as mir_eval's majmin rule reads 'C:7' as C:maj, 'C:min6' in
// sevenths → C:min); a label the vocabulary cannot say either way (a dim chord in
// sevenths, 'X', 'C:5') maps to −1 and is left out of frame scores.
// Inversions are not classes: a recognizer says 'C:maj' for 'C:maj/3'. C:maj6 holds the
// notes of A:min7 and C:min6 those of A:hdim7, so pitch classes alone cannot tell them apart
// (the bass can). Left out: dim7, hdim7 (add them here and to the synthesized qualities
// when data has them).

import { encodeChord } from './harte.ts';
import { pitchClasses, type ChordLabel } from './vocabulary.ts';

export const vocabularyNames = ['majmin', 'sevenths', 'full'] as const;
export type VocabularyName = (typeof vocabularyNames)[number];

/** The qualities of each vocabulary, in class order (all roots of one quality, then the next). */
export const vocabularyQualities: Readonly<Record<VocabularyName, readonly string[]>> = {
  majmin: ['maj', 'min'],
  sevenths: ['maj', 'min', '7', 'maj7', 'min7'],
  full: ['maj', 'min', '7', 'maj7', 'min7', 'dim', 'aug', 'sus2', 'sus4', 'maj6', 'min6'],
};

export interface ChordVocabulary {
  name: VocabularyName;
  /** Harte labels in class order; the last is 'N'. */
  labels: readonly ChordLabel[];
  /** classes × 12 binary templates over absolute pitch classes; N is all zeros. */
  templates: readonly (readonly number[])[];
  /** The class of 'N' (the last). */
  noChord: number;
  /** The class of a Harte label, or −1 when the vocabulary has no class for it. */
  indexOf(label: ChordLabel): number;
}

const cache = new Map<VocabularyName, ChordVocabulary>();

/** The named vocabulary (built once). */
export function chordVocabulary(name: VocabularyName): ChordVocabulary {
  if (!(vocabularyNames as readonly string[]).includes(name)) {
    throw new Error(`chordVocabulary: the vocabulary must be one of ${vocabularyNames.join(', ')}, not '${String(name)}'.`);
  }
  const cached = cache.get(name);
  if (cached !== undefined) return cached;
  const qualities = vocabularyQualities[name];
  const labels = [...qualities.flatMap((quality) => pitchClasses.map((root) => `${root}:${quality}`)), 'N'];
  const templates = labels.map((label) => {
    const template = new Array<number>(12).fill(0);
    const { root, semitones } = encodeChord(label);
    if (root >= 0) semitones.forEach((bit, interval) => { if (bit > 0) template[(root + interval) % 12] = 1; });
    return template;
  });
  // Key: root and the notes relative to it, the bass left out (it is added to the notes by
  // encodeChord, so a bass outside the chord makes another chord, as in mir_eval).
  const key = (root: number, semitones: readonly number[]): string => `${root}:${semitones.join('')}`;
  const classes = new Map<string, number>();
  const triads = new Map<string, number>();
  const upToFifth = (semitones: readonly number[]): number[] => semitones.map((bit, i) => (i < 8 ? bit : 0));
  labels.forEach((label, index) => {
    const { root, semitones } = encodeChord(label);
    classes.set(key(root, semitones), index);
    if (semitones.every((bit, i) => i < 8 || bit === 0)) triads.set(key(root, semitones), index);
  });
  const vocabulary: ChordVocabulary = Object.freeze({
    name,
    labels: Object.freeze(labels),
    templates: Object.freeze(templates.map((template) => Object.freeze(template))),
    noChord: labels.length - 1,
    indexOf(label: ChordLabel): number {
      const { root, semitones } = encodeChord(label);
      if (root < 0) return semitones.every((bit) => bit === 0) ? labels.length - 1 : -1;
      return classes.get(key(root, semitones)) ?? triads.get(key(root, upToFifth(semitones))) ?? -1;
    },
  });
  cache.set(name, vocabulary);
  return vocabulary;
}

/** The vocabulary's label of a class; −1 (left out) is 'X'. */
export function vocabularyLabel(vocabulary: ChordVocabulary, index: number): ChordLabel {
  if (index === -1) return 'X';
  const label = vocabulary.labels[index];
  if (label === undefined || !Number.isInteger(index)) {
    throw new Error(`vocabularyLabel: ${index} is not a class of the ${vocabulary.name} vocabulary (0–${vocabulary.labels.length - 1}, or −1 for left out).`);
  }
  return label;
}

/**
 * The class of `to` that each class of `from` reads as (−1 where `to` has none): from
 * sevenths to majmin, C:7 and C:maj7 → C:maj, A:min7 → A:min, N → N; from full to majmin,
 * C:dim → −1. Summing a model's probabilities over each output class's members is how a
 * model of a larger vocabulary answers in a smaller one.
 */
export function vocabularyReduction(from: ChordVocabulary, to: ChordVocabulary): Int32Array {
  return Int32Array.from(from.labels, (label) => to.indexOf(label));
}

/**
 * Each class's triad family: its majmin class (C:7, C:maj7 and C:maj are one family), or,
 * for a class that no triad reads (dim, aug, sus), a family of its own numbered after the
 * 25 majmin classes. A family decoder chooses families over time, then each run's member.
 */
export function vocabularyFamilies(vocabulary: ChordVocabulary): Int32Array {
  const reduced = vocabularyReduction(vocabulary, chordVocabulary('majmin'));
  let next = chordVocabulary('majmin').labels.length;
  return reduced.map((family) => (family >= 0 ? family : next++));
}

/** The vocabulary's classes of the same notes, each group's labels (full: C:maj6 and A:min7, C:sus4 and F:sus2, C:aug, E:aug and G#:aug), which only the bass tells apart; none in majmin or sevenths. */
export function vocabularyTwins(vocabulary: ChordVocabulary): ChordLabel[][] {
  const byNotes = new Map<string, ChordLabel[]>();
  vocabulary.labels.forEach((label, index) => {
    if (index === vocabulary.noChord) return;
    const key = vocabulary.templates[index]!.join('');
    byNotes.set(key, [...(byNotes.get(key) ?? []), label]);
  });
  return [...byNotes.values()].filter((labels) => labels.length > 1);
}

/** Whether the vocabulary has classes of the same notes (vocabularyTwins). */
export function vocabularyHasTwins(vocabulary: ChordVocabulary): boolean {
  return vocabularyTwins(vocabulary).length > 0;
}
