// The FIR filterbank as a chord model: raw audio → conv1d front end (signal/
// fir-filterbank.ts, filters from the non-recursive CQT's time-domain kernels) →
// log1p(cqtGain·|X|) → · W → 12-dimensional chroma, with the template loss and template
// matching of the other models (models.ts). Untrained, its log-CQT is the designed
// feature (clipFeatures' cqt) and with W from the learned chroma it is that model.
// Two graphs share the parameters: the training graph takes one window of `taps` samples
// per frame (the samples the frame's filters see, zeros beyond the clip; frames are what
// the pipeline shuffles into minibatches), the clip graph takes whole clips and runs the
// bank as a conv1d with stride hop. Both give the same frames.
// The trainable filters are stored in units of each bin's designed peak (filters =
// scale · v, scale per bin): a short high bin's taps are ~15× larger than a long low
// bin's, and with v of order 1 one Adam rate moves every bin by the same fraction.
// Left out: augmentation on raw audio (the CQT models rotate bins; here only noise would
// apply), and a front end other than the CQT's.
//
// Shapes: windows [batch, taps] → chroma [batch, 12]; clip [1, samples] → [frames, 12];
// filters [2·nBins, 1, taps]; chroma weights [nBins, 12].

import * as T from '@theorbo/graph';
import { compile, type AcquiredDevice } from '@theorbo/codegen';
import { cqtFilterbank, firFilterbank, type CqtFilterbank } from '../signal/fir-filterbank.ts';
import { frameCount } from '../signal/framing.ts';
import { logCompress } from '../signal/dft.ts';
import { featureDefaults, type FeatureOptions } from './features.ts';
import { octaveFolding, templateMatch, templatesVariable, withLoss, type ChromaModel, type TemplateLoss } from './models.ts';

/** C3 to B6 (48 bins): the non-recursive kernels are 4096 taps, against 16384 from C1. */
export const firFeatureDefaults: FeatureOptions = { ...featureDefaults, fmin: 130.8127826502993, nBins: 48 };

export interface FirChromaModel extends ChromaModel {
  bank: CqtFilterbank;
  /** The trainable filters in units of each bin's designed peak: [2·nBins, 1, taps]. */
  filters: T.SharedVariable;
  /** The filters as applied, scale · filters. */
  appliedFilters: T.Variable;
  /** The log-CQT of the training windows [batch, nBins]. */
  logCqt: T.Variable;
  /** The same model over whole clips. */
  clip: { signal: T.Variable; logCqt: T.Variable; chroma: T.Variable; predictions: T.Variable };
}

export interface FirChromaInit {
  /** Where the chroma weights start: octave folding times this gain, unless `chromaWeights` is given. */
  gain: number;
  chromaWeights?: T.NDArray;
  /** Train W with the filters (default true); false trains the front end alone. */
  trainChroma?: boolean;
}

/** The designed bank for feature options, as the designed features compute it (cqtHost's options). */
export function featureFilterbank(options: FeatureOptions): CqtFilterbank {
  const { sampleRate, hop, nFft, fmin, nBins, binsPerOctave } = options;
  return cqtFilterbank({ sampleRate, hop, nFft, fmin, nBins, binsPerOctave });
}

/** The peak |tap| of each bin over its real and imaginary filters: [2·nBins, 1, 1]. */
function binPeaks(bank: CqtFilterbank): T.NDArray {
  const { nBins, taps, filters } = bank;
  const peaks = new Float32Array(2 * nBins);
  for (let b = 0; b < nBins; b++) {
    let peak = 0;
    for (const row of [b, nBins + b]) for (let n = 0; n < taps; n++) peak = Math.max(peak, Math.abs(filters.data[row * taps + n]!));
    peaks[b] = peak;
    peaks[nBins + b] = peak;
  }
  return T.array(peaks, { shape: [2 * nBins, 1, 1] });
}

export function firChroma(options: FeatureOptions, init: FirChromaInit, loss: TemplateLoss = 'distance'): FirChromaModel {
  const bank = featureFilterbank(options);
  const scale = binPeaks(bank);
  const units = T.array(Float32Array.from(bank.filters.data, (value, i) => value / scale.data[Math.floor(i / bank.taps)]!), { shape: bank.filters.shape });
  const filters = T.shared(units, 'fir_filters');
  const appliedFilters = T.mul(T.constant(scale, { name: 'fir_filter_scale' }), filters);
  const start = init.chromaWeights ?? T.array(octaveFolding(options).data.map((v) => v * init.gain), { shape: [options.nBins, 12] });
  if (start.shape[0] !== options.nBins || start.shape[1] !== 12) throw new Error(`firChroma: the chroma weights are [${start.shape.join(', ')}], but ${options.nBins} bins need [${options.nBins}, 12]`);
  const weights = T.shared(start, 'chroma_weights');
  const logOf = (magnitude: T.Variable): T.Variable => logCompress(T.reshape(magnitude, [-1, options.nBins]), { method: 'log1p', factor: options.cqtGain });

  const windows = T.tensor('float32', [null, bank.taps], 'windows');
  const logCqt = logOf(firFilterbank(windows, appliedFilters, { hop: options.hop, padding: 'valid' }));
  const params = init.trainChroma === false ? [filters] : [filters, weights];
  const model = withLoss(windows, logCqt.dot(weights), params, weights, undefined, loss);

  const signal = T.tensor('float32', [1, null], 'clip');
  const clipLogCqt = logOf(firFilterbank(signal, appliedFilters, { hop: options.hop, padding: 'center' }));
  const clipChroma = clipLogCqt.dot(weights);
  const clip = { signal, logCqt: clipLogCqt, chroma: clipChroma, predictions: templateMatch(clipChroma, templatesVariable()) };
  return { ...model, bank, filters, appliedFilters, logCqt, clip };
}

/** The window of `taps` samples each listed frame's filters see (frame f centred on sample f·hop, zeros beyond the clip): [frames, taps]. */
export function frameWindows(audio: Float32Array, frames: ArrayLike<number>, taps: number, hop: number): T.NDArray {
  const out = new Float32Array(frames.length * taps);
  for (let i = 0; i < frames.length; i++) {
    const start = frames[i]! * hop - taps / 2;
    const from = Math.max(0, start);
    const to = Math.min(audio.length, start + taps);
    if (to > from) out.set(audio.subarray(from, to), i * taps + (from - start));
  }
  return T.array(out, { shape: [frames.length, taps] });
}

/** Windows of every `stride`-th frame of several clips, stacked in stackFrames' row order. */
export function stackWindows(clips: readonly { audio: Float32Array; frames: number }[], stride: number, taps: number, hop: number): T.NDArray {
  const parts = clips.map((clip) => frameWindows(clip.audio, Array.from({ length: Math.ceil(clip.frames / stride) }, (_, i) => i * stride), taps, hop));
  const rows = parts.reduce((n, part) => n + part.shape[0]!, 0);
  const out = new Float32Array(rows * taps);
  let at = 0;
  for (const part of parts) {
    out.set(part.data as Float32Array, at);
    at += part.size;
  }
  return T.array(out, { shape: [rows, taps] });
}

/** The FIR model's input for clips: the window of every `stride`-th frame (frames centred every hop from sample 0, as clipFeatures' rows). */
export function firWindows(clips: readonly { audio: Float32Array }[], options: FeatureOptions, stride: number): T.NDArray {
  const frames = (audio: Float32Array): number => frameCount(audio.length, { nFft: options.nFft, hop: options.hop, center: true });
  return stackWindows(clips.map((clip) => ({ audio: clip.audio, frames: frames(clip.audio) })), stride, featureFilterbank(options).taps, options.hop);
}

export const isFirModel = (model: ChromaModel): model is FirChromaModel => 'clip' in model && 'bank' in model;

/** The compiled clip graph: audio → chroma [frames, 12] and template matches, frames centred every hop from sample 0. */
export function firClipFunction(model: FirChromaModel, device: AcquiredDevice): (audio: Float32Array) => Promise<{ logCqt: T.NDArray; chroma: T.NDArray; predicted: Int32Array }> {
  const forward = compile({ inputs: [model.clip.signal], outputs: [model.clip.logCqt, model.clip.chroma, model.clip.predictions], device });
  return async (audio) => {
    const [logCqt, chroma, predicted] = (await forward(T.array(audio, { shape: [1, audio.length] }))) as T.NDArray[];
    return { logCqt: logCqt!, chroma: chroma!, predicted: predicted!.data as Int32Array };
  };
}
