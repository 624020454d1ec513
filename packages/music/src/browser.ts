// @theorbo/music in a browser (the package's `browser` export condition): the signal
// graphs (STFT, CQT, chroma, mel, MFCC), the chord vocabulary and .lab text, decoding,
// additive-synthesis chord clips made in memory, the chroma models, a saved model from
// its two files' bytes, the training updates, chord recognition of a signal and the
// heatmap colours. Left out, because they read or write files or run native programs
// (Node's entry, index.ts, has them): audio-file decoding (a page uses Web Audio's
// decodeAudioData), FluidSynth and the data-set cache, .npz/.lab/model folders on disk,
// checkpointed train(), the experiments' reports, PNG output and the CLI.

export { SeededRandom, deriveSeed } from './random/seeded-random.ts';
export { FileFormatError } from './files/file-format-error.ts';
export type { Audio } from './audio/audio.ts';
export { toMono } from './audio/audio.ts';
export { resample } from './audio/resample.ts';
export * from './signal/index.ts';

export type { ChordLabel } from './chords/vocabulary.ts';
export { pitchClasses, vocabulary, noChordIndex, chordIndex, chordLabel, chordTemplates, transposeChord } from './chords/vocabulary.ts';
export type { EncodedChord } from './chords/harte.ts';
export { encodeChord, pitchClassOf, chordQualities } from './chords/harte.ts';
export type { Segment } from './chords/lab-format.ts';
export { parseLab, formatLab } from './chords/lab-format.ts';
export type { BassOptions } from './chords/bass.ts';
export { bassDefaults, bassDegrees, bassEstimable, bassOptionsFor, estimateBass, labelWithLowestNote, withBass } from './chords/bass.ts';

export type { ChordDecoder, ChordDecoding } from './eval/chord-decoding.ts';
export { chordDecoders, chordDecodingDefaults, decodeChordFrames, frameArgmax } from './eval/chord-decoding.ts';
export { frameAccuracy, confusionMatrix } from './eval/frames.ts';
export { medianFilterFrames, viterbiDecode, framesToSegments, segmentsToFrames } from './eval/decode.ts';

export type { AdditiveClip, AdditiveClipsOptions } from './data/additive-clips.ts';
export { additiveClipPlans, renderAdditive } from './data/additive-clips.ts';
export type { AdditiveClipPlan, PlannedSegment, PlanSettings } from './data/clip-plan.ts';
export { defaultPlanSettings } from './data/clip-plan.ts';
export { labelsAtTimes } from './data/labels.ts';
export type { Split } from './data/splits.ts';

export * from './model/features.ts';
export * from './model/models.ts';
export * from './model/registry.ts';
export * from './model/saved-chroma.ts';
export * from './model/chroma-graph.ts';
export * from './model/recognize.ts';
export { checkModelConfig } from './model/config-schema.ts';

export { buildTrainingUpdates, checkOptimizerOptions, defaultLearningRate } from './train/updates.ts';
export type { OptimizerOptions } from './train/updates.ts';
export { dropout, trainingFlag } from './train/dropout.ts';
export { takeRows } from './train/batches.ts';
export { decodeNpz, encodeNpz } from './train/npz-codec.ts';
export type { NamedArrays, NpzContents } from './train/npz-codec.ts';
export { decodeNpy, encodeNpy } from './train/npy.ts';
export { assignSavedWeights, assignWeights, decodeModel } from './train/model-codec.ts';
export type { LoadModelOptions, SavedModel } from './train/model-codec.ts';
export { decodeGraphFiles, encodeGraphFiles, graphValuesFile } from './train/graph-codec.ts';
export type { GraphFileNames } from './train/graph-codec.ts';

export type { ColormapName, Rgb } from './plot/colormap.ts';
export { colormapColor } from './plot/colormap.ts';
