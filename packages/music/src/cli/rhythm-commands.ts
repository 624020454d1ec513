// What the CLI's mel, mfcc, onsets, tempo and beats commands compute, as functions of a
// mono signal (22050 Hz) and an acquired device, so that tests call them in-process and
// theorbo.ts only parses flags and writes files. The graph parts (mel spectrogram,
// decibels, DCT, onset strength, tempogram and the tempo arg max) are compiled for the
// device as one graph per call over a batch of one clip; peak picking and the beat
// tracker's dynamic program run on the host over the envelope the device returns.
// librosa's defaults throughout: nFft 2048, hop 512, 128 mel bands, 20 MFCCs.
// A fine-tuned front end (--model DIR: loadFrontEnd) replaces the mel filterbank by its
// trained one (M ⊙ exp(G), 128 bands) everywhere, the onset envelope and peak picking by
// its own (band weights, max filter, its activation network's onset output, delta,
// latency), and the tempo and beats by its beat envelope (with the network's beat output)
// and tempo scores (prior and relative weights); the per-frame
// tempo (tempo --all) takes its beat envelope and prior only.
// Figures (--figure on mel and beats) are drawn by plot/rhythm-figures.ts. Left out: a
// picture of the MFCC matrix.
//
// Shapes: signal [samples] → one [1, samples] batch; mel [nFrames, nMels];
// MFCCs [nFrames, nMfcc]; envelope and per-frame tempo [nFrames].

import * as T from '@theorbo/graph';
import { compile, type AcquiredDevice } from '@theorbo/codegen';
import { melDefaults, melSpectrogram, mfccDefaults, mfccFromLogMel, powerToDb, signalDefaults, signalInput } from '../signal/index.ts';
import {
  beatTrack, designedFrontEnd, framesToTime, frontEndEnvelopesOfSignal, frontEndOnsetTimes, frontEndLogPrior, frontEndMelWeights, frontEndTempoPair, frontEndTempoScores, onsetDetect, onsetStrength, tempo, tempoCandidates, tempoPair, tempoScores,
  type BeatTrack, type RhythmFrontEnd,
} from '../rhythm/index.ts';

/** The mel weights and tempo prior of a fine-tuned front end, as the builders' options (nothing for the designed one). */
const melWeightsOf = (frontEnd?: RhythmFrontEnd) => (frontEnd ? { weights: frontEndMelWeights(frontEnd) } : {});
const priorOf = (frontEnd?: RhythmFrontEnd) => (frontEnd ? { logPrior: frontEndLogPrior(frontEnd) } : {});

export interface FrontEndOption {
  /** A fine-tuned front end (loadFrontEnd); its filterbank has 128 bands. */
  frontEnd?: RhythmFrontEnd;
}

export const analysisRate = signalDefaults.sampleRate;
export const analysisHop = signalDefaults.hop;
const hop = analysisHop;

/** Runs a graph of one [1, samples] signal on the device; outputs lose their batch axis. */
async function runOnSignal(signal: Float32Array, device: AcquiredDevice, build: (x: T.Variable) => T.Variable[]): Promise<T.NDArray[]> {
  if (signal.length <= signalDefaults.nFft / 2) {
    throw new Error(`the audio is ${signal.length} samples at ${analysisRate} Hz; it needs more than ${signalDefaults.nFft / 2} (one frame's half) to analyse`);
  }
  const x = signalInput(signal.length, 'signal', 1);
  const outputs = build(x);
  const forward = compile({ inputs: [x], outputs, device });
  const results = (await forward(T.array(signal, { shape: [1, signal.length], dtype: 'float32' }))) as T.NDArray[];
  return results.map((result) => result.reshape(result.shape.slice(1)));
}

/** Frame f's time in seconds: f · hop / sampleRate (frames are centred). */
export const frameTimes = (count: number): Float64Array => framesToTime(Int32Array.from({ length: count }, (_, f) => f), { sampleRate: analysisRate, hop });

/** A matrix [nFrames, width] as CSV: a header row (time, then the column names), then one row per frame. */
export function matrixCsv(matrix: T.NDArray, columns: string[]): string {
  const [frames, width] = matrix.shape as [number, number];
  const times = frameTimes(frames);
  const rows = Array.from({ length: frames }, (_, f) => [times[f]!.toFixed(4), ...Array.from(matrix.data.subarray(f * width, (f + 1) * width), (v) => Number(v).toPrecision(6))].join(','));
  return `time,${columns.join(',')}\n${rows.join('\n')}\n`;
}

export interface MelCommandOptions extends FrontEndOption { nMels?: number; db?: boolean }

/** The mel spectrogram (power, or decibels with db) [nFrames, nMels]. */
export async function melOf(signal: Float32Array, device: AcquiredDevice, options: MelCommandOptions = {}): Promise<T.NDArray> {
  const nMels = options.nMels ?? melDefaults.nMels;
  const [mel] = await runOnSignal(signal, device, (x) => {
    const power = melSpectrogram(x, { nMels, ...melWeightsOf(options.frontEnd) });
    return [options.db ? powerToDb(power) : power];
  });
  return mel!;
}

export interface MfccCommandOptions extends FrontEndOption { nMels?: number; nMfcc?: number }

/** The MFCCs [nFrames, nMfcc] (librosa's mfcc: the DCT of the mel spectrogram in decibels). */
export async function mfccOf(signal: Float32Array, device: AcquiredDevice, options: MfccCommandOptions = {}): Promise<T.NDArray> {
  const nMels = options.nMels ?? melDefaults.nMels;
  const nMfcc = options.nMfcc ?? mfccDefaults.nMfcc;
  const [coefficients] = await runOnSignal(signal, device, (x) => [mfccFromLogMel(powerToDb(melSpectrogram(x, { nMels, ...melWeightsOf(options.frontEnd) })), { nMfcc })]);
  return coefficients!;
}

/** The onset envelope [nFrames] and, with the tempo graph, the tempo: one BPM, or one per frame with perFrame. */
/** The onset envelope, the beat envelope (the same one when designed) and the tempo: one BPM, or one per frame. */
async function envelopesAndTempo(signal: Float32Array, device: AcquiredDevice, perFrame: boolean, frontEnd?: RhythmFrontEnd): Promise<{ onset: T.NDArray; beat: T.NDArray; bpm: T.NDArray }> {
  if (!frontEnd) {
    const [envelope, bpm] = await runOnSignal(signal, device, (x) => {
      const strength = onsetStrength(x);
      return [strength, tempo(strength, perFrame ? { aggregate: null } : {})];
    });
    return { onset: envelope!, beat: envelope!, bpm: bpm! };
  }
  const [onset, beat, scores] = await runOnSignal(signal, device, (x) => {
    const envelopes = frontEndEnvelopesOfSignal(x, frontEnd);
    return [envelopes.onset, envelopes.beat, perFrame ? tempo(envelopes.beat, { aggregate: null, ...priorOf(frontEnd) }) : frontEndTempoScores(envelopes.beat, frontEnd)];
  });
  const bpm = perFrame ? scores! : T.array(Float32Array.of(tempoPair(scores!.data, frontEnd.candidates)[0]), { shape: [1] });
  return { onset: onset!, beat: beat!, bpm };
}

/** Onset times of an envelope: librosa's peak picking, or the front end's (its delta and latency). */
function onsetTimes(envelope: ArrayLike<number>, frontEnd: RhythmFrontEnd | undefined, backtrack: boolean): Float64Array {
  if (frontEnd) return frontEndOnsetTimes(envelope, frontEnd, { sampleRate: analysisRate, hop, backtrack });
  return framesToTime(onsetDetect(envelope, { backtrack }), { sampleRate: analysisRate, hop });
}

/** Onset times in seconds (librosa's onset_detect on the onset envelope; backtrack moves each to the preceding minimum). */
export async function onsetTimesOf(signal: Float32Array, device: AcquiredDevice, options: { backtrack?: boolean } & FrontEndOption = {}): Promise<Float64Array> {
  const [envelope] = await runOnSignal(signal, device, (x) => [options.frontEnd ? frontEndEnvelopesOfSignal(x, options.frontEnd).onset : onsetStrength(x)]);
  return onsetTimes(envelope!.data, options.frontEnd, options.backtrack ?? false);
}

/** The tempo in BPM (librosa's tempo with its defaults). */
export async function tempoOf(signal: Float32Array, device: AcquiredDevice, options: FrontEndOption = {}): Promise<number> {
  return (await envelopesAndTempo(signal, device, false, options.frontEnd)).bpm.data[0]!;
}

/**
 * Two tempi (mir_eval's estimate): the tempo as tempoOf gives it, then its half or double: the one the tempogram
 * scores higher (tempoPair), or with a fine-tuned front end the one its learned rule picks from the first tempo and
 * the swing (frontEndTempoPair, as the rhythm experiment scores it).
 */
export async function tempoPairOf(signal: Float32Array, device: AcquiredDevice, options: FrontEndOption = {}): Promise<[number, number]> {
  const frontEnd = options.frontEnd;
  if (!frontEnd) {
    // The graph tempoOf takes (onset strength, tempo scores) with the arg max on the host: the same first tempo.
    const [scores] = await runOnSignal(signal, device, (x) => [tempoScores(onsetStrength(x)).scores]);
    return tempoPair(scores!.data, tempoCandidates());
  }
  const designed = designedFrontEnd();
  const [onset, beat, scores, fullBandScores] = await runOnSignal(signal, device, (x) => {
    const envelopes = frontEndEnvelopesOfSignal(x, frontEnd);
    return [envelopes.onset, envelopes.beat, frontEndTempoScores(envelopes.beat, frontEnd), frontEndTempoScores(envelopes.onset, designed)];
  });
  return frontEndTempoPair(frontEnd, { onset: onset!.data, beat: beat!.data, scores: scores!.data, fullBandScores: fullBandScores!.data });
}

/** The tempo of each frame: times [nFrames] and BPM [nFrames]. */
export async function tempoCurveOf(signal: Float32Array, device: AcquiredDevice, options: FrontEndOption = {}): Promise<{ times: Float64Array; bpm: ArrayLike<number> }> {
  const { bpm } = await envelopesAndTempo(signal, device, true, options.frontEnd);
  return { times: frameTimes(bpm.size), bpm: bpm.data };
}

/**
 * Beats by dynamic programming on the device's envelope, following the device's tempo;
 * with the envelope [nFrames] and the onsets picked from it (seconds), for the figure.
 */
export async function beatsOf(signal: Float32Array, device: AcquiredDevice, options: FrontEndOption = {}): Promise<BeatTrack & { envelope: ArrayLike<number>; onsets: Float64Array }> {
  const { onset, beat, bpm } = await envelopesAndTempo(signal, device, false, options.frontEnd);
  const bpmValue = bpm.data[0]!;
  // An envelope with no onsets has no tempo; beatTrack returns no beats for it.
  const track = beatTrack(beat.data, { sampleRate: analysisRate, hop, ...(bpmValue > 0 ? { bpm: bpmValue } : {}) });
  const onsets = onsetTimes(onset.data, options.frontEnd, false);
  return { ...track, envelope: onset.data, onsets };
}

/**
 * The signal with a click at each time (librosa's clicks: 100 ms of 1 kHz, decaying
 * exponentially by 2⁻¹⁰), mixed at half amplitude and scaled down if the sum would clip.
 */
export function mixClicks(signal: Float32Array, times: ArrayLike<number>, sampleRate = analysisRate): Float32Array {
  const length = Math.round(0.1 * sampleRate);
  const click = Float64Array.from({ length }, (_, i) => Math.sin((2 * Math.PI * 1000 * i) / sampleRate) * 2 ** (-10 * i / (length - 1)));
  const mixed = Float64Array.from(signal);
  for (const time of Array.from(times)) {
    const start = Math.round(time * sampleRate);
    for (let i = 0; i < length && start + i < mixed.length; i++) if (start + i >= 0) mixed[start + i] = mixed[start + i]! + 0.5 * click[i]!;
  }
  let peak = 0;
  for (const value of mixed) peak = Math.max(peak, Math.abs(value));
  const scale = peak > 1 ? 1 / peak : 1;
  return Float32Array.from(mixed, (value) => value * scale);
}
