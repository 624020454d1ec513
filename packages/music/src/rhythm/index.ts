// @theorbo/music rhythm: onset strength (spectral flux of the log-mel spectrogram) and the
// tempogram and tempo scores as graphs, with CPU peers; onset peak picking, backtracking
// and beat tracking by dynamic programming on the host. librosa's names and defaults
// (camelCase): 22050 Hz, hop 512, 128 mel bands, tempo prior 120 BPM ± 1 octave.

export {
  onsetDefaults, onsetStrengthFromSpectrogram, onsetStrength, onsetStrengthFromSpectrogramHost, onsetStrengthHost,
  type OnsetAggregate, type OnsetStrengthOptions, type SignalOnsetOptions,
} from './onset-strength.ts';
export {
  peakPick, onsetBacktrack, onsetPeakPickDefaults, onsetDetect, framesToTime,
  type PeakPickOptions, type OnsetDetectOptions,
} from './onset-detect.ts';
export {
  tempogramDefaults, tempogram, tempogramHost, tempoFrequencies, tempoDefaults, tempoCandidates, tempoScores, tempo, tempoHost, tempoPair,
  type TempogramOptions, type TempoOptions, type TempoScoreOptions, type TempoCandidates,
} from './tempo.ts';
export { learnableMel, learnableMfcc, learnableTempo, type LearnableMel, type LearnableMfcc, type LearnableTempo } from './learnable.ts';
export { beatDefaults, beatTrack, type BeatTrackOptions, type BeatTrack } from './beat.ts';
export {
  designedFrontEnd, activationShape, envelopesFromDb, frontEndActivations, beatBands, beatBandBasis, beatEnvelopeFromDb, onsetEnvelopeFromDb, frontEndDb, frontEndOnsetTimes, frontEndEnvelopes, frontEndEnvelopesOfSignal, frontEndMelWeights,
  frontEndLogPrior, frontEndParams, frontEndTempoScores, frontEndTempoScoresFromPooled, pooledTempogram, priorBasis, tempoRelatives, trackPower,
  type RhythmFrontEnd, type RhythmFrontEndSettings,
} from './front-end.ts';
export { onsetLoss, onsetTargets, activationLoss, eventFrames, tempoTarget, stackRows, fineTuneFrontEnd, fineTuneDefaults, type FineTuneOptions } from './fine-tune.ts';
export { chooseDelta, deltaChoices, medianLag, evaluateFrontEnd, frontEndOutputs, frontEndTempoPair, fineTunedFrontEnd, saveFrontEnd, runRhythmExperiment, rhythmExperimentDefaults, shippedRhythmRecipe, type FineTunedFrontEnd, type RhythmScores, type RhythmExperimentOptions, type RhythmExperimentResult, type RhythmModelConfig } from './rhythm-experiment.ts';
export { loadFrontEnd } from './front-end-model.ts';
export { beatPhases, estimateSwing, fitSecondTempoRule, secondTempo, secondTempoGrid, swingDefaults, trackSwing, type SecondTempoExample, type SecondTempoRule } from './second-tempo.ts';
export { shippedRhythmDir, trainShippedFrontEnd } from './shipped-front-end.ts';
