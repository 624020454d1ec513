// MIR evaluation as mir_eval does it: weighted chord symbol recall over segments (root
// and majmin rules), frame accuracy and confusion, and decoding frames into segments.

export type { RecallRule } from './recall.ts';
export { weightedChordSymbolRecall, compareChords } from './recall.ts';
export type { ConfusionMatrix } from './frames.ts';
export { frameAccuracy, confusionMatrix } from './frames.ts';
export type { FrameScores, ViterbiOptions, FrameTiming } from './decode.ts';
export { medianFilterFrames, viterbiDecode, framesToSegments, segmentsToFrames } from './decode.ts';
