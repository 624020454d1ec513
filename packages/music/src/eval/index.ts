// MIR evaluation as mir_eval does it: weighted chord symbol recall over segments (root
// and majmin rules), frame accuracy and confusion, and decoding frames into segments;
// onset F-measure, tempo P-score, and beat F-measure, Cemgil and continuity.

export type { RecallRule } from './recall.ts';
export { weightedChordSymbolRecall, compareChords } from './recall.ts';
export type { ChordRule } from './chord-rules.ts';
export { chordRules, compareChordLabels } from './chord-rules.ts';
export type { ChordScores, SegmentationScores } from './chord-segmentation.ts';
export { chordScores, segmentationScores, directionalHammingDistance, mergeChordSegments, fitToSpan } from './chord-segmentation.ts';
export type { ChordDecoder, ChordDecoding } from './chord-decoding.ts';
export { chordDecoders, chordDecodingDefaults, decodeChordFrames, decodingForVocabulary, frameArgmax } from './chord-decoding.ts';
export type { ConfusionMatrix } from './frames.ts';
export { frameAccuracy, confusionMatrix } from './frames.ts';
export type { FrameScores, ViterbiOptions, FrameTiming } from './decode.ts';
export { medianFilterFrames, viterbiDecode, framesToSegments, segmentsToFrames } from './decode.ts';
export type { ViterbiGraph } from './viterbi-graph.ts';
export { viterbiGraph, stickyTransitions, transitionsFromLabels, transitionVariable } from './viterbi-graph.ts';
export type { ChordTransitions } from './chord-transitions.ts';
export { chordTransitionsFromSegments, countTransitions, formatChordTransitions, parseChordTransitions, transitionLogMatrix, withLearnedTransitions } from './chord-transitions.ts';
export type { EventScores } from './events.ts';
export { matchEvents, fMeasure, checkEvents } from './events.ts';
export type { TempoScores, ContinuityScores, BeatScores } from './rhythm.ts';
export {
  onsetWindow, beatWindow, onsetScores, tempoPScore, trimBeats, beatFMeasure, beatVariations, cemgil, continuity, beatScores,
} from './rhythm.ts';
