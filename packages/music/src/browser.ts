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
// The signal modules one by one rather than signal/index.ts, so that a Node-only module
// added to that barrel does not reach the page.
export { windowCoefficients, windowNames, window, centredWindow, type WindowName } from './signal/windows.ts';
export {
  signalDefaults, maxViewPieces, frameCount, signalInput, frameSignal, framesAt,
  type PadMode, type FrameOptions, type FrameSignalOptions, type FramingMethod, type FramePlacement,
} from './signal/framing.ts';
export {
  binCount, dftMatrices, stftComplex, dftOfFrames, spectrumMagnitude, stft, logCompress,
  type StftOptions, type DftMatrices, type ComplexSpectrum, type SpectrumScale, type LogOptions,
} from './signal/dft.ts';
export { stftHost, stftHostComplex, paddedSample, type HostSignal, type HostSpectrum } from './signal/fft-host.ts';
export { halfBandDesign, halfBandTaps, halfBandFilter, decimateByTwo } from './signal/decimate.ts';
export {
  cqtDefaults, cqtQ, cqtFrequencies, cqtKernel,
  type CqtKernel, type CqtKernelOptions, type CqtLevel, type SparseKernel, type DenseComplex,
} from './signal/cqt-kernel.ts';
export { cqt, cqtFromSpectrum, cqtHost, type CqtOptions, type KernelDomain } from './signal/cqt.ts';
export { cqtFilterbank, firFilterbank, type CqtFilterbank, type FirFilterbankOptions, type FirPadding } from './signal/fir-filterbank.ts';
export {
  defaultMaxRadius, bandPassBiquad, cqtBandPassBank, biquadFilterHost, biquadPoles, stableParameters, biquadsFromParameters,
  stableDenominator, stableOffsets, biquadArrays, iirFilterbank, stableIirFilterbank, bandEnergies,
  type Biquad, type CqtBandPassBank, type StableParameters, type BandEnergyOptions,
} from './signal/iir-filterbank.ts';
export { identifyBiquad, defaultIdentificationRate, type IdentificationOptions, type Identification } from './signal/iir-identification.ts';
export {
  chromaBins, chromaMatrix, stftChromaMatrix, normalizeFrames, chroma, chromaFromStft,
  type ChromaSpread, type ChromaNorm, type ChromaMatrixOptions, type StftChromaOptions,
} from './signal/chroma.ts';
export { estimateTuning, spectralPeaks, pitchTuning, type TuningOptions, type PitchPeak } from './signal/tuning.ts';
export {
  melDefaults, hzToMel, melToHz, melFrequencies, fftFrequencies, melFilterbank, melFromStft, melSpectrogram, melSpectrogramHost,
  type MelNorm, type MelOptions, type MelFromStftOptions, type MelSpectrogramOptions,
} from './signal/mel.ts';
export { powerToDb, amplitudeToDb, powerToDbHost, type DbOptions } from './signal/decibels.ts';
export {
  mfccDefaults, dctMatrix, mfccFromLogMel, mfcc, mfccFromLogMelHost, mfccHost,
  type DctOptions, type MfccFromLogMelOptions, type MfccOptions,
} from './signal/mfcc.ts';
export { deltaDefaults, savitzkyGolay, delta, deltaHost, type DeltaOptions, type SavitzkyGolay } from './signal/delta.ts';

export type { ChordLabel } from './chords/vocabulary.ts';
export { pitchClasses, vocabulary, noChordIndex, chordIndex, chordLabel, chordTemplates, transposeChord } from './chords/vocabulary.ts';
export type { EncodedChord } from './chords/harte.ts';
export { encodeChord, pitchClassOf, chordQualities } from './chords/harte.ts';
export type { Segment } from './chords/lab-format.ts';
export { parseLab, formatLab } from './chords/lab-format.ts';

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

export type { ColormapName, Rgb } from './plot/colormap.ts';
export { colormapColor } from './plot/colormap.ts';
