// Tempo from the onset envelope's autocorrelation, as librosa's tempogram and tempo do it.
// Tempogram: the envelope is padded by ⌊W/2⌋ frames at each end with linear ramps down to
// zero (numpy's 'linear_ramp'), cut into windows of W frames (hop 1, window t centred on
// frame t), each multiplied by a Hann window and autocorrelated over lags 0 … W − 1, then
// divided by its largest |value| (lag 0's). Lag k frames is 60·sr/(hop·k) BPM.
// Tempo: the tempogram averaged over frames ('mean', librosa's default) or per frame
// (aggregate null), scored as log(1 + 10⁶·tg[k]) + log prior(k), with the log-normal
// prior −½·((log2 bpm_k − log2 startBpm)/stdBpm)², and the best lag's BPM returned.
// Lags faster than maxTempo (320 BPM) are excluded: librosa sets their prior to −∞, here
// they are left out of the scores, which picks the same lag.
// As a graph the autocorrelation is the Wiener–Khinchin pair, two matmuls: the windowed
// frames' DFT of length 2W (so the circular correlation equals the linear one on lags
// below W) as one [W, 2·(W + 1)] constant with the Hann window folded into its rows, the
// power, and a [W + 1, W] cosine matrix back. The scores are differentiable (the prior is
// a constant here; the learnable version makes it a parameter); the arg max is not.
// tempogramHost sums the autocorrelation directly in float64 and is the CPU peer.
// Default W: 384 frames for tempogram (librosa's), ⌊acSize·sr/hop⌋ = 344 for tempo.
// Two tempi (mir_eval's and MIREX's tempo estimate holds two): tempoPair keeps the best
// lag's BPM first (librosa's tempo) and adds the better-scoring of its octave relatives,
// the lags within one of twice and of half the best (half and double tempo), scored as
// above or by a second envelope's scores; librosa itself returns one tempo.
// Left out: other priors (scipy distributions), the Fourier tempogram, tempogram_ratio.
//
// Shapes: envelope [batch, nFrames] → tempogram [batch, nFrames, W];
// scores [batch, 1 | nFrames, candidates]; tempo [batch] (mean) or [batch, nFrames].

import * as T from '@theorbo/graph';
import { framesAt, graphError, signalDefaults } from '../signal/framing.ts';
import { window as windowValues, type WindowName } from '../signal/windows.ts';

export interface TempogramOptions {
  /** Autocorrelation window W in frames (default 384). */
  winLength?: number;
  /** Centre window t on frame t (default true). */
  center?: boolean;
  window?: WindowName;
  /** 'max' divides each frame by its largest |value| (librosa's norm=np.inf; default), null keeps raw sums. */
  norm?: 'max' | null;
  /** Keep every windowHop-th window only (default 1, librosa's): a cheaper tempogram to train through (graph only). */
  windowHop?: number;
}

export const tempogramDefaults = { winLength: 384 } as const;

interface ResolvedTempogram { winLength: number; center: boolean; window: WindowName; norm: 'max' | null }

function resolveTempogram(options: TempogramOptions, fail: (detail: string) => never): ResolvedTempogram {
  const winLength = options.winLength ?? tempogramDefaults.winLength;
  const norm = options.norm === undefined ? 'max' : options.norm;
  if (!(Number.isInteger(winLength) && winLength >= 2)) fail(`winLength ${winLength} must be an integer of at least 2`);
  if (norm !== 'max' && norm !== null) fail(`norm '${String(norm)}' is not 'max' or null`);
  return { winLength, center: options.center ?? true, window: options.window ?? 'hann', norm };
}

// Smallest positive normal float32 and float64: librosa's util.normalize leaves frames below it alone.
const tinyOf = { float32: 1.1754943508222875e-38, float64: 2.2250738585072014e-308 } as const;

/** [W, 2·(W + 1)]: w[n]·cos(2πnm/2W) | −w[n]·sin(2πnm/2W), m = 0 … W. */
function windowedHalfDft(winLength: number, weights: Float64Array, dtype: 'float32' | 'float64'): T.NDArray {
  const size = 2 * winLength;
  const bins = winLength + 1;
  const data = dtype === 'float32' ? new Float32Array(winLength * 2 * bins) : new Float64Array(winLength * 2 * bins);
  for (let n = 0; n < winLength; n++) {
    for (let m = 0; m < bins; m++) {
      const angle = (2 * Math.PI * ((n * m) % size)) / size;
      data[n * 2 * bins + m] = weights[n]! * Math.cos(angle);
      data[n * 2 * bins + bins + m] = -weights[n]! * Math.sin(angle);
    }
  }
  return T.array(data, { shape: [winLength, 2 * bins], dtype });
}

/** [W + 1, W]: the real inverse DFT of length 2W of a symmetric power spectrum, lags 0 … W − 1. */
function inverseCosines(winLength: number, dtype: 'float32' | 'float64'): T.NDArray {
  const size = 2 * winLength;
  const bins = winLength + 1;
  const data = dtype === 'float32' ? new Float32Array(bins * winLength) : new Float64Array(bins * winLength);
  for (let m = 0; m < bins; m++) {
    const weight = m === 0 || m === winLength ? 1 / size : 2 / size;
    for (let k = 0; k < winLength; k++) data[m * winLength + k] = weight * Math.cos((2 * Math.PI * ((m * k) % size)) / size);
  }
  return T.array(data, { shape: [bins, winLength], dtype });
}

/** librosa's tempogram of a batch of envelopes [batch, nFrames] → [batch, nFrames, W] (see the file comment). */
export function tempogram(envelope: T.Variable, options: TempogramOptions = {}): T.Variable {
  const op = 'tempogram';
  const { winLength, center, window, norm } = resolveTempogram(options, (detail) => { throw graphError(op, detail); });
  if (envelope.ndim !== 2) throw graphError(op, `expects a batch of onset envelopes [batch, nFrames], but got ${envelope.type}`);
  const frames = envelope.shape[1];
  if (frames === null || frames === undefined) throw graphError(op, `needs the frame count of ${envelope.type} statically`);
  const windowHop = options.windowHop ?? 1;
  if (!(Number.isInteger(windowHop) && windowHop >= 1)) throw graphError(op, `windowHop ${windowHop} must be a positive integer`);
  const all = center ? frames : frames - winLength + 1;
  if (all < 1) throw graphError(op, `${frames} frames hold no window of ${winLength} frames; pass center: true or a smaller winLength`);
  const count = Math.floor((all - 1) / windowHop) + 1;
  const dtype = envelope.dtype === 'float64' ? 'float64' : 'float32';
  return T.composite(op, () => {
    let padded = envelope;
    if (center) {
      const half = Math.floor(winLength / 2);
      const rampUp = Float64Array.from({ length: half }, (_, i) => i / half);
      const edge = (index: number, ramp: Float64Array): T.Variable =>
        T.mul(T.get(envelope, ':', T.slice(index, index + 1)), T.constant(T.array(ramp, { shape: [1, half], dtype: 'float64' }).astype(dtype)));
      padded = T.concat([edge(0, rampUp), envelope, edge(frames - 1, rampUp.slice().reverse())], 1);
    }
    const windows = framesAt(op, padded, { firstStart: 0, hop: windowHop, count, nFft: winLength, padMode: 'constant' }, 'gather');
    const spectrum = T.matmul(windows, T.constant(windowedHalfDft(winLength, windowValues(window, winLength), dtype), { name: `tempogram_dft_${winLength}` }));
    const real = T.get(spectrum, '...', T.slice(0, winLength + 1));
    const imag = T.get(spectrum, '...', T.slice(winLength + 1, null));
    const power = T.add(T.mul(real, real), T.mul(imag, imag));
    const autocorrelation = T.matmul(power, T.constant(inverseCosines(winLength, dtype), { name: `tempogram_inverse_${winLength}` }));
    if (norm === null) return autocorrelation;
    const peak = T.max(T.abs(autocorrelation), -1, true);
    return T.div(autocorrelation, T.where(T.lt(peak, tinyOf[dtype]), 1, peak));
  });
}

/** librosa's tempogram of one envelope on the host, direct sums in float64 → [nFrames, W] float64. */
export function tempogramHost(envelope: ArrayLike<number>, options: TempogramOptions = {}): T.NDArray {
  const { winLength, center, window, norm } = resolveTempogram(options, (detail) => { throw new Error(`tempogramHost: ${detail}`); });
  const frames = envelope.length;
  const half = center ? Math.floor(winLength / 2) : 0;
  const count = center ? frames : frames - winLength + 1;
  if (count < 1) throw new Error(`tempogramHost: ${frames} frames hold no window of ${winLength} frames; pass center: true or a smaller winLength`);
  const padded = new Float64Array(frames + 2 * half);
  for (let i = 0; i < half; i++) {
    padded[i] = envelope[0]! * (i / half);
    padded[half + frames + i] = envelope[frames - 1]! * ((half - 1 - i) / half);
  }
  for (let i = 0; i < frames; i++) padded[half + i] = envelope[i]!;
  const weights = windowValues(window, winLength);
  const out = new Float64Array(count * winLength);
  const frame = new Float64Array(winLength);
  for (let t = 0; t < count; t++) {
    for (let i = 0; i < winLength; i++) frame[i] = padded[t + i]! * weights[i]!;
    const row = out.subarray(t * winLength, (t + 1) * winLength);
    let peak = 0;
    for (let k = 0; k < winLength; k++) {
      let sum = 0;
      for (let i = 0; i + k < winLength; i++) sum += frame[i]! * frame[i + k]!;
      row[k] = sum;
      peak = Math.max(peak, Math.abs(sum));
    }
    if (norm === 'max' && peak >= tinyOf.float64) for (let k = 0; k < winLength; k++) row[k] = row[k]! / peak;
  }
  return T.array(out, { shape: [count, winLength], dtype: 'float64' });
}

/** BPM of each lag 0 … winLength − 1: 60·sr/(hop·k), Infinity at lag 0 (librosa's tempo_frequencies). */
export function tempoFrequencies(winLength: number, options: { sampleRate?: number; hop?: number } = {}): Float64Array {
  const sampleRate = options.sampleRate ?? signalDefaults.sampleRate;
  const hop = options.hop ?? signalDefaults.hop;
  return Float64Array.from({ length: winLength }, (_, k) => (k === 0 ? Infinity : (60 * sampleRate) / (hop * k)));
}

export interface TempoOptions {
  sampleRate?: number;
  hop?: number;
  /** Centre of the log-normal prior in BPM (default 120). */
  startBpm?: number;
  /** Its width in octaves (default 1). */
  stdBpm?: number;
  /** Autocorrelation window in seconds (default 8). */
  acSize?: number;
  /** Lags at or above this tempo are excluded (default 320; null keeps all but lag 0). */
  maxTempo?: number | null;
  /** 'mean' over frames (default) or null for a tempo per frame. */
  aggregate?: 'mean' | null;
}

export const tempoDefaults = { startBpm: 120, stdBpm: 1, acSize: 8, maxTempo: 320 } as const;

export interface TempoCandidates {
  winLength: number;
  /** The first admissible lag; candidate j is lag firstLag + j. */
  firstLag: number;
  bpm: Float64Array;
  logPrior: Float64Array;
}

/** The lags tempo chooses from, their BPM and log prior (see the file comment). */
export function tempoCandidates(options: TempoOptions = {}): TempoCandidates {
  return resolveCandidates(options, (detail) => { throw new Error(`tempoCandidates: ${detail}`); });
}

function resolveCandidates(options: TempoOptions, fail: (detail: string) => never): TempoCandidates {
  const sampleRate = options.sampleRate ?? signalDefaults.sampleRate;
  const hop = options.hop ?? signalDefaults.hop;
  const startBpm = options.startBpm ?? tempoDefaults.startBpm;
  const stdBpm = options.stdBpm ?? tempoDefaults.stdBpm;
  const acSize = options.acSize ?? tempoDefaults.acSize;
  const maxTempo = options.maxTempo === undefined ? tempoDefaults.maxTempo : options.maxTempo;
  if (!(startBpm > 0)) fail(`startBpm ${startBpm} must be positive`);
  if (!(stdBpm > 0)) fail(`stdBpm ${stdBpm} must be positive`);
  // librosa's time_to_frames: whole samples, then whole hops.
  const winLength = Math.floor(Math.trunc(acSize * sampleRate) / hop);
  if (!(winLength >= 2)) fail(`acSize ${acSize} s is ${winLength} frames at hop ${hop}; it needs at least 2`);
  const all = tempoFrequencies(winLength, { sampleRate, hop });
  let firstLag = 1;
  if (maxTempo !== null) {
    while (firstLag < winLength && !(all[firstLag]! < maxTempo)) firstLag++;
    if (firstLag === winLength) fail(`no lag below ${winLength} frames is slower than maxTempo ${maxTempo} BPM`);
  }
  const bpm = all.slice(firstLag);
  const logPrior = bpm.map((value) => -0.5 * ((Math.log2(value) - Math.log2(startBpm)) / stdBpm) ** 2);
  return { winLength, firstLag, bpm, logPrior };
}

export interface TempoScoreOptions extends TempoOptions {
  /** A log prior to use instead of the designed one, e.g. a trainable copy of tempoCandidates(options).logPrior: [candidates]. */
  logPrior?: T.Variable;
}

/** Scores log(1 + 10⁶·tg) + log prior of each candidate lag: [batch, 1 | nFrames, candidates], and the candidates. */
export function tempoScores(envelope: T.Variable, options: TempoScoreOptions = {}): { scores: T.Variable; candidates: TempoCandidates } {
  const candidates = resolveCandidates(options, (detail) => { throw graphError('tempoScores', detail); });
  const aggregate = options.aggregate === undefined ? 'mean' : options.aggregate;
  if (aggregate !== 'mean' && aggregate !== null) throw graphError('tempoScores', `aggregate '${String(aggregate)}' is not 'mean' or null`);
  const dtype = envelope.dtype === 'float64' ? 'float64' : 'float32';
  const given = options.logPrior;
  if (given && (given.ndim !== 1 || given.shape[0] !== candidates.bpm.length)) {
    throw graphError('tempoScores', `logPrior ${given.type} must be [${candidates.bpm.length}], one value per candidate lag ${candidates.firstLag} … ${candidates.winLength - 1}`);
  }
  const scores = T.composite('tempoScores', () => {
    const gram = tempogram(envelope, { winLength: candidates.winLength });
    const pooled = aggregate === 'mean' ? T.mean(gram, 1, true) : gram;
    const kept = T.get(pooled, '...', T.slice(candidates.firstLag, null));
    const prior = given ?? T.constant(T.array(candidates.logPrior, { dtype: 'float64' }).astype(dtype), { name: 'tempo_log_prior' });
    return T.add(T.log1p(T.mul(kept, 1e6)), prior);
  });
  return { scores, candidates };
}

/** The tempo in BPM of a batch of envelopes: [batch] with aggregate 'mean', [batch, nFrames] with null. */
export function tempo(envelope: T.Variable, options: TempoScoreOptions = {}): T.Variable {
  const { scores, candidates } = tempoScores(envelope, options);
  return T.composite('tempo', () => {
    const best = T.argmax(scores, -1);
    const bpm = T.get(T.constant(T.array(candidates.bpm, { dtype: 'float64' }).astype(envelope.dtype === 'float64' ? 'float64' : 'float32'), { name: 'tempo_bpm' }), best);
    return (options.aggregate === undefined || options.aggregate === 'mean') ? T.get(bpm, ':', 0) : bpm;
  });
}

/** librosa's tempo of one envelope on the host: one BPM (aggregate 'mean') or one per frame (null). */
export function tempoHost(envelope: ArrayLike<number>, options: TempoOptions = {}): Float64Array {
  const candidates = resolveCandidates(options, (detail) => { throw new Error(`tempoHost: ${detail}`); });
  const aggregate = options.aggregate === undefined ? 'mean' : options.aggregate;
  const gram = tempogramHost(envelope, { winLength: candidates.winLength });
  const [frames, winLength] = gram.shape as [number, number];
  const rows = aggregate === 'mean' ? 1 : frames;
  const pooled = new Float64Array(rows * winLength);
  for (let t = 0; t < frames; t++) {
    const target = aggregate === 'mean' ? 0 : t;
    for (let k = 0; k < winLength; k++) pooled[target * winLength + k] = pooled[target * winLength + k]! + gram.data[t * winLength + k]!;
  }
  if (aggregate === 'mean') for (let k = 0; k < winLength; k++) pooled[k] = pooled[k]! / frames;
  return Float64Array.from({ length: rows }, (_, r) => {
    let best = 0;
    let bestScore = -Infinity;
    candidates.bpm.forEach((_, j) => {
      const score = Math.log1p(1e6 * pooled[r * winLength + candidates.firstLag + j]!) + candidates.logPrior[j]!;
      if (score > bestScore) [best, bestScore] = [j, score];
    });
    return candidates.bpm[best]!;
  });
}

/**
 * Two tempi from one row of scores [candidates] (see the file comment): the best candidate's BPM, then its better
 * octave relative's, judged by `relativeScores` [candidates] where given (another envelope's scores), else by `scores`.
 */
export function tempoPair(scores: ArrayLike<number>, candidates: TempoCandidates, relativeScores: ArrayLike<number> = scores): [number, number] {
  const count = candidates.bpm.length;
  if (scores.length !== count || relativeScores.length !== count) throw new Error(`tempoPair: ${scores.length} and ${relativeScores.length} scores for ${count} candidate lags ${candidates.firstLag} … ${candidates.winLength - 1}`);
  let best = 0;
  for (let j = 1; j < count; j++) if (scores[j]! > scores[best]!) best = j;
  const lag = candidates.firstLag + best;
  let relative = -1;
  for (const other of [2 * lag - 1, 2 * lag, 2 * lag + 1, Math.floor(lag / 2), Math.ceil(lag / 2)]) {
    const j = other - candidates.firstLag;
    if (j >= 0 && j < count && j !== best && (relative < 0 || relativeScores[j]! > relativeScores[relative]!)) relative = j;
  }
  const first = candidates.bpm[best]!;
  return [first, relative < 0 ? first : candidates.bpm[relative]!];
}
