// Onset detection as librosa's onset_detect does it, on the host: the envelope is scaled
// to [0, 1] (minus its minimum, over its maximum), then peaks are picked greedily from
// the left. Frame n (n ≥ 1) is an onset when
//   x[n] = max x[n − preMax, n + postMax)   (a local maximum),
//   x[n] ≥ mean x[n − preAvg, n + postAvg) + delta   (above the moving average),
// with both windows cut at the envelope's ends; after an onset the next `wait` frames are
// skipped. Frame 0 only looks ahead: x[0] ≥ max x[0, postMax) and ≥ mean x[0, postAvg) +
// delta. The defaults in frames come from seconds as librosa's do: preMax = ⌊0.03·sr/hop⌋,
// postMax = 1, preAvg = ⌊0.10·sr/hop⌋, postAvg = preAvg + 1, wait = ⌊0.03·sr/hop⌋,
// delta = 0.07 (1, 1, 4, 5, 1 at 22050 Hz and hop 512). Backtracking moves each onset
// back to the nearest preceding local minimum of `energy` (the scaled envelope unless
// given): frames i with e[i] ≤ e[i − 1] and e[i] < e[i + 1], and frame 0.
// Peak picking is a greedy, data-dependent loop, so it stays on the host; the envelope
// it reads is a graph output (onset-strength.ts).
// Left out: units other than frames and times (multiply by hop for samples).
//
// Shapes: envelope [nFrames] → onset frames [nOnsets], increasing.

import { signalDefaults } from '../signal/framing.ts';

export interface PeakPickOptions {
  preMax: number;
  postMax: number;
  preAvg: number;
  postAvg: number;
  delta: number;
  wait: number;
}

function checkPeakPick(op: string, options: PeakPickOptions): void {
  const { preMax, postMax, preAvg, postAvg, delta, wait } = options;
  const counts = { preMax, preAvg, wait };
  for (const [name, value] of Object.entries(counts)) if (!(value >= 0)) throw new Error(`${op}: ${name} ${value} must be non-negative`);
  for (const [name, value] of Object.entries({ postMax, postAvg })) if (!(value > 0)) throw new Error(`${op}: ${name} ${value} must be positive`);
  if (!(delta >= 0)) throw new Error(`${op}: delta ${delta} must be non-negative`);
}

/** librosa's peak_pick: frames of `x` picked by the rules in the file comment (window sizes rounded up to whole frames). */
export function peakPick(x: ArrayLike<number>, options: PeakPickOptions): Int32Array {
  checkPeakPick('peakPick', options);
  const [preMax, postMax, preAvg, postAvg, wait] = [options.preMax, options.postMax, options.preAvg, options.postAvg, options.wait].map(Math.ceil) as [number, number, number, number, number];
  const { delta } = options;
  const n = x.length;
  const maxOf = (start: number, stop: number): number => {
    let best = -Infinity;
    for (let i = Math.max(0, start); i < Math.min(n, stop); i++) best = Math.max(best, x[i]!);
    return best;
  };
  const meanOf = (start: number, stop: number): number => {
    const [from, to] = [Math.max(0, start), Math.min(n, stop)];
    let sum = 0;
    for (let i = from; i < to; i++) sum += x[i]!;
    return sum / (to - from);
  };
  const peaks: number[] = [];
  if (n === 0) return new Int32Array(0);
  let i = 1;
  if (x[0]! >= maxOf(0, postMax) && x[0]! >= meanOf(0, postAvg) + delta) {
    peaks.push(0);
    i = wait + 1;
  }
  while (i < n) {
    if (x[i] === maxOf(i - preMax, i + postMax) && x[i]! >= meanOf(i - preAvg, i + postAvg) + delta) {
      peaks.push(i);
      i += wait + 1;
    } else {
      i += 1;
    }
  }
  return Int32Array.from(peaks);
}

/** Each event moved back to the nearest local minimum of `energy` at or before it (librosa's onset_backtrack). */
export function onsetBacktrack(events: ArrayLike<number>, energy: ArrayLike<number>): Int32Array {
  const minima = [0];
  for (let i = 1; i + 1 < energy.length; i++) if (energy[i]! <= energy[i - 1]! && energy[i]! < energy[i + 1]!) minima.push(i);
  return Int32Array.from(events, (event) => {
    let found = 0;
    for (const minimum of minima) {
      if (minimum > event) break;
      found = minimum;
    }
    return found;
  });
}

export interface OnsetDetectOptions extends Partial<PeakPickOptions> {
  sampleRate?: number;
  hop?: number;
  /** Move onsets back to the preceding energy minimum (default false). */
  backtrack?: boolean;
  /** What backtracking follows (default the scaled envelope). */
  energy?: ArrayLike<number>;
  /** Scale the envelope to [0, 1] first (default true). */
  normalize?: boolean;
}

/** The peak-picking parameters in frames that librosa derives from sr and hop (see the file comment). */
export function onsetPeakPickDefaults(sampleRate: number = signalDefaults.sampleRate, hop: number = signalDefaults.hop): PeakPickOptions {
  const frames = (seconds: number): number => Math.floor((seconds * sampleRate) / hop);
  return { preMax: frames(0.03), postMax: 1, preAvg: frames(0.1), postAvg: frames(0.1) + 1, delta: 0.07, wait: frames(0.03) };
}

/** Onset frames of an onset-strength envelope (librosa's onset_detect with units 'frames'). */
export function onsetDetect(envelope: ArrayLike<number>, options: OnsetDetectOptions = {}): Int32Array {
  const defaults = onsetPeakPickDefaults(options.sampleRate, options.hop);
  const pick = { ...defaults, ...Object.fromEntries(Object.entries(options).filter(([key, value]) => key in defaults && value !== undefined)) } as PeakPickOptions;
  let x = Float64Array.from(envelope);
  if (options.normalize ?? true) {
    let [low, high] = [Infinity, -Infinity];
    for (const value of x) [low, high] = [Math.min(low, value), Math.max(high, value)];
    // librosa adds the dtype's tiniest normal number to the divisor; the envelope is float32 there.
    const scale = high - low + 1.1754943508222875e-38;
    x = x.map((value) => (value - low) / scale);
  }
  if (!x.some((value) => value !== 0) || !x.every(Number.isFinite)) return new Int32Array(0);
  const onsets = peakPick(x, pick);
  return options.backtrack ? onsetBacktrack(onsets, options.energy ?? x) : onsets;
}

/** Frame indices to seconds: frame · hop / sampleRate (frames are centred, so frame 0 is time 0). */
export function framesToTime(frames: ArrayLike<number>, options: { sampleRate?: number; hop?: number } = {}): Float64Array {
  const sampleRate = options.sampleRate ?? signalDefaults.sampleRate;
  const hop = options.hop ?? signalDefaults.hop;
  return Float64Array.from(frames, (frame) => (frame * hop) / sampleRate);
}
