// Learnable front ends (issue 18): the mel filterbank, the DCT of the MFCCs and the tempo
// prior as shared variables initialized to the designed values, so a model built on them
// computes exactly the designed features until it is trained, and gradients reach them.
// Each returns its shared variables (to hand to train as parameters) and a graph builder
// that reads them through the existing builders' `weights` / `logPrior` options.
// The onset envelope learns through the mel weights: onsetStrength(x, { weights }).
// Float32 only, as compiled graphs are. Left out: a training loop for rhythm labels, a
// learnable peak picker or beat tracker (host code, not differentiable).
//
// Shapes: mel weights [nFft/2 + 1, nMels]; DCT [nMels, nMfcc]; log prior [candidates].

import * as T from '@theorbo/graph';
import { melDefaults, melFilterbank, melSpectrogram, type MelSpectrogramOptions } from '../signal/mel.ts';
import { dctMatrix, mfccFromLogMel, type MfccOptions } from '../signal/mfcc.ts';
import { powerToDb } from '../signal/decibels.ts';
import { tempo, tempoCandidates, tempoScores, type TempoCandidates, type TempoOptions } from './tempo.ts';

export interface LearnableMel {
  weights: T.SharedVariable;
  /** [batch, samples] → [batch, nFrames, nMels], as melSpectrogram with these weights. */
  melSpectrogram(signal: T.Variable): T.Variable;
}

/** A mel spectrogram whose filterbank is a shared variable starting at melFilterbank(options). */
export function learnableMel(options: Omit<MelSpectrogramOptions, 'weights'> = {}, name = 'mel_weights'): LearnableMel {
  const weights = T.shared(melFilterbank(options), name);
  return { weights, melSpectrogram: (signal) => melSpectrogram(signal, { ...options, weights }) };
}

export interface LearnableMfcc {
  melWeights: T.SharedVariable;
  dctWeights: T.SharedVariable;
  /** [batch, samples] → [batch, nFrames, nMfcc], as mfcc with these weights. */
  mfcc(signal: T.Variable): T.Variable;
}

/** MFCCs whose mel filterbank and (liftered) DCT matrix are shared variables starting at the designed ones. */
export function learnableMfcc(options: Omit<MfccOptions, 'weights'> = {}, name = 'mfcc'): LearnableMfcc {
  const mel = learnableMel(options, `${name}_mel_weights`);
  const dctWeights = T.shared(dctMatrix(options.nMels ?? melDefaults.nMels, options).astype('float32'), `${name}_dct_weights`);
  return {
    melWeights: mel.weights,
    dctWeights,
    mfcc: (signal) => mfccFromLogMel(powerToDb(mel.melSpectrogram(signal), options.db), { weights: dctWeights }),
  };
}

export interface LearnableTempo {
  logPrior: T.SharedVariable;
  candidates: TempoCandidates;
  /** Differentiable scores [batch, 1 | nFrames, candidates], as tempoScores with this prior. */
  scores(envelope: T.Variable): T.Variable;
  /** The arg max's BPM, as tempo with this prior (not differentiable). */
  tempo(envelope: T.Variable): T.Variable;
}

/** Tempo scores whose log prior over the candidate lags is a shared variable starting at the log-normal one. */
export function learnableTempo(options: TempoOptions = {}, name = 'tempo_log_prior'): LearnableTempo {
  const candidates = tempoCandidates(options);
  const logPrior = T.shared(Float32Array.from(candidates.logPrior), name);
  return {
    logPrior,
    candidates,
    scores: (envelope) => tempoScores(envelope, { ...options, logPrior }).scores,
    tempo: (envelope) => tempo(envelope, { ...options, logPrior }),
  };
}
