// Fine-tuning the rhythm front end (front-end.ts) on labelled tracks, with the engine's
// autodiff and train(), in three stages on the decibel mel spectrograms (computed once per
// track; the STFT once on the host):
//   onsets (epochs.onset > 0): the onset band weights (and, with trainMel, the
//     filterbank's log gains, which then cost an STFT-sized matmul per step) on an onset
//     loss, per track, on the envelope scaled by its own peak (the peak picker sees it
//     so): (1 − the largest value within ±2 frames of each true onset)², averaged over
//     onsets, plus the mean square of the frames more than 3 frames from any onset;
//   activations (epochs.activation > 0): the activation network (front-end.ts) and two
//     pairs of loss-only scalars k, c, on the binary cross-entropy of k·(e / max e) + c
//     against frame targets (1 at each labelled onset, or beat, and the frame after) for
//     the onset envelope and the beat envelope, summed (the network's input windows and
//     the designed fluxes depend on nothing this stage trains and are computed once:
//     pnpm train:rhythm, 288 tracks, went from 276 s to 114 s; the windows hold 864
//     floats a frame, 1.8 MB a 12-second track, 515 MB for 288, in memory through the stage);
//   tempo: the beat envelope's band weights, the prior's bumps and the relative weights
//     under a softmax over the sharpened scores, cross-entropy against every candidate
//     within 4% of the track's quarter-note tempo (the beat tracker follows the first
//     tempo, and the beats are quarter notes), through a tempogram of every 16th window
//     (the scores' mean over windows changes little; an epoch costs a sixteenth).
// The activation stage (chosen on 48 validation tracks of seed 7, 2026-12-06: 30 epochs
// at 0.003; 15 epochs gave 92.4 / 95.3 / 93.3 onset F / tempo P / beat F, 30 gave 94.4 /
// 95.3 / 93.9, librosa's 89.0 / 86.1 / 84.1; ±8 frames of context instead of ±4 changed
// nothing; at 0.01 the beat activation pushed the whole beat envelope under zero, where
// relu passes no gradient, and tempo P fell to 10; a leaky relu there let the envelopes'
// peaks go negative and the loss diverge).
// Peak picking and the beat tracker are host code and are not trained. Before training
// the front end equals the designed one exactly.
// The defaults (stages, learning rates, epochs, smoothness, sharpness, window hop) were
// chosen on training and validation tracks of seed 7; its test tracks chose nothing.
// Validation with 10 kits of a kind (36 training and 24 validation tracks, librosa's 87.2
// / 84.4 / 73.8 onset F / tempo P / beat F) chose: no onset stage (the onset loss above
// and a peak-picking hinge loss moved onset F by −1.4 and −0.2 points with the band
// weights; a 7-tap envelope filter lost 20), the beat band weights alone in the tempo
// stage at 0.1 (beat F 80.9; with the prior's bumps and the relative weights too they
// fitted the training tempi and lost 15 points of tempo P and 11 of beat F). With 20 kits
// of a kind (librosa's 89.2 / 87.1 / 76.7 on 24 validation tracks), 72 training tracks
// and 10 epochs gave 94.5 / 94.6 / 85.2 (with the max filter of 7), 36 tracks and 15
// epochs 94.5 / 90.5 / 83.9.
//
// Shapes: power [batch, nFrames, nFft/2 + 1]; decibel mel [batch, nFrames, nMels];
// onset targets and masks [batch, nFrames]; envelope [batch, nFrames]; tempo targets
// [batch, candidates].

import * as T from '@theorbo/graph';
import { compile, type AcquiredDevice } from '@theorbo/codegen';
import { signalDefaults } from '../signal/index.ts';
import { train, type TrainableModel } from '../train/index.ts';
import { activationsOfWindows, activationWindows, beatEnvelopeFromDb, envelopesFromDb, frontEndDb, frontEndTempoScores, onsetEnvelopeFromDb, withActivation, type RhythmFrontEnd } from './front-end.ts';
import type { TempoCandidates } from './tempo.ts';

/** Stacks equally long [nFrames, width] arrays into [count, nFrames, width]. */
export function stackRows(arrays: readonly T.NDArray[]): T.NDArray {
  const shape = arrays[0]!.shape;
  for (const array of arrays) if (array.shape.join() !== shape.join()) throw new Error(`stackRows: arrays of shapes [${shape.join(', ')}] and [${array.shape.join(', ')}] differ; tracks must be equally long`);
  const size = arrays[0]!.size;
  const out = new Float32Array(arrays.length * size);
  arrays.forEach((array, i) => out.set(array.data as Float32Array, i * size));
  return T.array(out, { shape: [arrays.length, ...shape], dtype: 'float32' });
}

/** The frame whose start is nearest `time` seconds. */
const frameOf = (time: number, sampleRate: number, hop: number): number => Math.round((time * sampleRate) / hop);

/** Onset targets (1 at each onset's frame) and the loss's negative mask (frames over 3 from every onset), each [nFrames]. */
export function onsetTargets(onsets: ArrayLike<number>, nFrames: number, sampleRate: number = signalDefaults.sampleRate, hop: number = signalDefaults.hop): { target: Float32Array; far: Float32Array } {
  const target = new Float32Array(nFrames);
  const far = new Float32Array(nFrames).fill(1);
  for (const time of Array.from(onsets)) {
    const frame = frameOf(time, sampleRate, hop);
    if (frame >= 0 && frame < nFrames) target[frame] = 1;
    for (let d = -3; d <= 3; d++) if (frame + d >= 0 && frame + d < nFrames) far[frame + d] = 0;
  }
  return { target, far };
}

/** Envelopes [batch, nFrames] each divided by its peak over the clip (as the peak picker and the beat tracker see them). */
const peakScaled = (envelope: T.Variable): T.Variable => T.div(envelope, T.add(T.max(envelope, 1, true), 1e-6));

/** The onset loss (see the file comment) of envelopes [batch, nFrames]. */
export function onsetLoss(envelope: T.Variable, target: T.Variable, far: T.Variable): T.Variable {
  return T.composite('onsetLoss', () => {
    const scaled = peakScaled(envelope);
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

/** Frame targets [nFrames]: 1 at each event's frame and the next (an envelope peaks at or just after a sound starts). */
export function eventFrames(times: ArrayLike<number>, nFrames: number, sampleRate: number = signalDefaults.sampleRate, hop: number = signalDefaults.hop): Float32Array {
  const out = new Float32Array(nFrames);
  for (const time of Array.from(times)) {
    const frame = frameOf(time, sampleRate, hop);
    for (const d of [0, 1]) if (frame + d >= 0 && frame + d < nFrames) out[frame + d] = 1;
  }
  return out;
}

/**
 * The activation stage's loss for one envelope [batch, nFrames] and its targets: binary
 * cross-entropy of k·(e / max e) + c per frame, k and c learned (the peak picker and the
 * beat tracker see the envelope scaled by its peak).
 */
export function activationLoss(envelope: T.Variable, target: T.Variable, gain: T.Variable, offset: T.Variable): T.Variable {
  return T.composite('activationLoss', () => {
    const logits = T.add(T.mul(peakScaled(envelope), gain), offset);
    return T.mean(T.add(T.mul(target, T.softplus(T.neg(logits))), T.mul(T.sub(1, target), T.softplus(logits))));
  });
}

export interface FineTuneOptions {
  device: AcquiredDevice;
  /** Epochs of each stage: onset band weights, the activation network, the tempo weights. */
  epochs: { onset: number; activation: number; tempo: number };
  batchSize?: number;
  learningRate?: { onset: number; activation: number; tempo: number };
  seed?: number;
  progress?: boolean;
  /** Train the filterbank's log gains in the onset stage too (default false). */
  trainMel?: boolean;
  /** Weight of the penalty on the tempo stage's weights: their mean square (default 1). */
  smoothness?: number;
  /** The scores are multiplied by this before the softmax (default 30): the larger, the closer the loss follows the arg max. */
  sharpness?: number;
  /** The training tempogram keeps every windowHop-th window (default 16). */
  windowHop?: number;
  /** Which tempo-stage weights train (default the beat band weights only). */
  tempoParams?: readonly ('beatBands' | 'prior' | 'relatives')[];
}

export const fineTuneDefaults = { epochs: { onset: 0, activation: 30, tempo: 10 }, batchSize: 8, learningRate: { onset: 0.01, activation: 0.003, tempo: 0.1 }, smoothness: 1, sharpness: 30, windowHop: 16, tempoParams: ['beatBands'] } as const;

const stackColumns = (rows: Float32Array[]): T.NDArray => T.array(Float32Array.from(rows.flatMap((row) => Array.from(row))), { shape: [rows.length, rows[0]!.length], dtype: 'float32' });

/** Trains the front end's onset band weights (if epochs.onset > 0), then its activation network (if epochs.activation > 0), then its tempo parameters (if epochs.tempo > 0); returns the loss histories. */
export async function fineTuneFrontEnd(
  frontEnd: RhythmFrontEnd,
  data: { power: T.NDArray; onsets: ArrayLike<number>[]; beats: ArrayLike<number>[]; bpm: number[] },
  options: FineTuneOptions,
): Promise<{ onsetLoss: number[]; activationLoss: number[]; tempoLoss: number[] }> {
  const [, frames, bins] = data.power.shape as [number, number, number];
  const common = { device: options.device, batchSize: options.batchSize ?? fineTuneDefaults.batchSize, seed: options.seed ?? 0, progress: options.progress ?? false, rule: 'adam' as const };
  const learningRate = options.learningRate ?? fineTuneDefaults.learningRate;
  const power = T.tensor('float32', [null, frames, bins], 'power');
  const db = ((await compile({ inputs: [power], outputs: [frontEndDb(power, frontEnd)], device: options.device })(data.power)) as T.NDArray[])[0]!;
  const dbInput = T.tensor('float32', [null, frames, db.shape[2]!], 'mel_db');
  let onsetLosses: number[] = [];
  if (options.epochs.onset > 0) {
    const targets = data.onsets.map((onsets) => onsetTargets(onsets, frames));
    const target = T.tensor('float32', [null, frames], 'onset_target');
    const far = T.tensor('float32', [null, frames], 'onset_far');
    const onsetData = [stackColumns(targets.map((t) => t.target)), stackColumns(targets.map((t) => t.far))];
    const onsetModel: TrainableModel = options.trainMel
      ? { params: [frontEnd.melLogGain, frontEnd.bandLogWeights], inputs: [power, target, far], loss: onsetLoss(envelopesFromDb(frontEndDb(power, frontEnd), frontEnd).onset, target, far) }
      : { params: [frontEnd.bandLogWeights], inputs: [dbInput, target, far], loss: onsetLoss(envelopesFromDb(dbInput, frontEnd).onset, target, far) };
    const run = await train({ ...common, model: onsetModel, data: { train: [options.trainMel ? data.power : db, ...onsetData] }, epochs: options.epochs.onset, learningRate: learningRate.onset });
    onsetLosses = run.history.map((epoch) => epoch.train.loss!);
  }
  // With trainMel the filterbank moved: the tempo stage reads the new decibels.
  const tempoDb = options.trainMel && options.epochs.onset > 0 ? ((await compile({ inputs: [power], outputs: [frontEndDb(power, frontEnd)], device: options.device })(data.power)) as T.NDArray[])[0]! : db;
  let activationLosses: number[] = [];
  if (options.epochs.activation > 0) {
    const onsetTarget = T.tensor('float32', [null, frames], 'onset_frames');
    const beatTarget = T.tensor('float32', [null, frames], 'beat_frames');
    const gain = T.shared(Float32Array.of(10, 10), 'activation_loss_gain');
    const offset = T.shared(Float32Array.of(-4, -4), 'activation_loss_offset');
    // Neither the network's input windows nor the designed fluxes depend on what this stage trains: computed once.
    const fixed = (await compile({ inputs: [dbInput], outputs: [activationWindows(dbInput), onsetEnvelopeFromDb(dbInput, frontEnd), beatEnvelopeFromDb(dbInput, frontEnd)], device: options.device })(tempoDb)) as T.NDArray[];
    const windows = T.tensor('float32', [null, frames, fixed[0]!.shape[2]!], 'activation_windows');
    const [onsetFlux, beatFlux] = [T.tensor('float32', [null, frames], 'onset_flux'), T.tensor('float32', [null, frames], 'beat_flux')];
    const activations = activationsOfWindows(windows, frontEnd);
    const [onset, beat] = [withActivation(onsetFlux, activations.onset), withActivation(beatFlux, activations.beat)];
    const loss = T.add(activationLoss(onset, onsetTarget, T.get(gain, 0), T.get(offset, 0)), activationLoss(beat, beatTarget, T.get(gain, 1), T.get(offset, 1)));
    const model: TrainableModel = { params: [frontEnd.activationHidden, frontEnd.activationBias, frontEnd.activationOut, gain, offset], inputs: [windows, onsetFlux, beatFlux, onsetTarget, beatTarget], loss };
    const targets = [stackColumns(data.onsets.map((times) => eventFrames(times, frames))), stackColumns(data.beats.map((times) => eventFrames(times, frames)))];
    const run = await train({ ...common, model, data: { train: [...fixed, ...targets] }, epochs: options.epochs.activation, learningRate: learningRate.activation });
    activationLosses = run.history.map((epoch) => epoch.train.loss!);
  }
  const tempoTargetInput = T.tensor('float32', [null, frontEnd.candidates.bpm.length], 'tempo_target');
  const scores = frontEndTempoScores(envelopesFromDb(dbInput, frontEnd).beat, frontEnd, options.windowHop ?? fineTuneDefaults.windowHop);
  const chosen = options.tempoParams ?? fineTuneDefaults.tempoParams;
  const weights = ([['beatBands', frontEnd.beatBandWeights], ['prior', frontEnd.priorBasisWeights], ['relatives', frontEnd.relativeWeights]] as const).filter(([name]) => chosen.includes(name)).map(([, weight]) => weight);
  const penalty = weights.map((w) => T.mean(T.square(w))).reduce((sum, term) => T.add(sum, term));
  const tempoModel: TrainableModel = {
    params: weights, inputs: [dbInput, tempoTargetInput],
    loss: T.add(T.neg(T.mean(T.sum(T.mul(tempoTargetInput, T.logSoftmax(T.mul(scores, options.sharpness ?? fineTuneDefaults.sharpness), -1)), -1))), T.mul(penalty, options.smoothness ?? fineTuneDefaults.smoothness)),
  };
  const tempoRun = options.epochs.tempo > 0 ? await train({ ...common, model: tempoModel, data: { train: [tempoDb, stackColumns(data.bpm.map((bpm) => tempoTarget(bpm, frontEnd.candidates)))] }, epochs: options.epochs.tempo, learningRate: learningRate.tempo }) : { history: [] };
  return { onsetLoss: onsetLosses, activationLoss: activationLosses, tempoLoss: tempoRun.history.map((epoch) => epoch.train.loss!) };
}
