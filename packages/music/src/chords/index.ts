// Chords: pitch classes, Harte labels parsed as mir_eval reads them, the 25-class
// major/minor vocabulary with templates and transposition, and .lab files.

export type { ChordLabel } from './vocabulary.ts';
export { pitchClasses, vocabulary, noChordIndex, chordIndex, chordLabel, chordTemplates, transposeChord } from './vocabulary.ts';
export type { ChordVocabulary, VocabularyName } from './vocabularies.ts';
export { chordVocabulary, vocabularyFamilies, vocabularyHasTwins, vocabularyLabel, vocabularyTwins, vocabularyNames, vocabularyQualities, vocabularyReduction } from './vocabularies.ts';
export type { EncodedChord } from './harte.ts';
export { encodeChord, pitchClassOf, chordQualities } from './harte.ts';
export type { Segment } from './lab.ts';
export { parseLab, readLab, formatLab, writeLab } from './lab.ts';
export type { BassOptions } from './bass.ts';
export { bassDefaults, bassDegrees, bassEstimable, bassOptionsFor, estimateBass, labelWithLowestNote, withBass } from './bass.ts';
