// Frame features of clips: log-compressed DFT magnitude (the talk's 1025-bin input) and
// CQT magnitude, with the label of each frame. On the host these come from the FFT path
// (stftHost and cqtHost, the STFT/CQT graphs' CPU peers; tests check they agree), with
// PFFFT in WebAssembly SIMD where it loads (fft-wasm.ts), which is what a machine without a
// GPU can afford for minutes of audio; `graphFeatures` computes the same through the
// compiled STFT/CQT graphs on a device.
// Shapes: dft [frames, 1025], cqt [frames, nBins], labels [frames] (vocabulary indices).

import * as T from '@theorbo/graph';
import { labelsAtTimes } from '../data/labels.ts';
import type { PlannedSegment as ClipSegment } from '../data/clip-plan.ts';
// Signal modules one by one, not signal/index.ts: this file is in the browser build.
import { cqtHost } from '../signal/cqt.ts';
import { logCompress, stft } from '../signal/dft.ts';
import { stftHost } from '../signal/fft-host.ts';
import { estimateTuning } from '../signal/tuning.ts';

export interface FeatureOptions {
  sampleRate: number;
  hop: number;
  nFft: number;
  fmin: number;
  nBins: number;
  binsPerOctave: number;
  /** C of log1p(C·|X|) for the DFT and the CQT. */
  dftGain: number;
  cqtGain: number;
}

export const featureDefaults: FeatureOptions = {
  sampleRate: 22050, hop: 512, nFft: 2048, fmin: 32.70319566257483, nBins: 84, binsPerOctave: 12, dftGain: 1, cqtGain: 100,
};

export interface ClipFeatures {
  dft: T.NDArray;
  cqt: T.NDArray;
  labels: Int32Array;
  /** Seconds at each frame's centre. */
  times: Float64Array;
  /**
   * Rows of `dft` ([frames.length, 1025], the same values), computing only those frames
   * while the whole DFT has not been read: stackFrames takes every third frame of the
   * training clips.
   */
  dftRows?(frames: readonly number[]): Float32Array;
}

// A plain loop: Float32Array.from(values, map) goes through the iterator protocol, which
// took about 2 s of the 5.5 s of a 3-minute song's features.
function log1pGain(values: T.NDArray, gain: number): T.NDArray {
  const out = new Float32Array(values.size);
  for (let i = 0; i < out.length; i++) out[i] = Math.log1p(gain * values.data[i]!);
  return T.array(out, { shape: values.shape });
}

/**
 * Features of one clip on the host (PFFFT or fft.js), frames centred every `hop` samples; with
 * `tuningCents`, the CQT's bins are centred that far from A440's equal-tempered grid;
 * `onProgress` hears of the CQT's frames as they are done (every 512).
 * The DFT is computed when first read (only the talk's network reads it; it is 1025 bins
 * a frame against the CQT's 84), so spreading the result into a new object computes it;
 * `dftRows` computes only the frames asked for until then.
 */
export function clipFeatures(audio: Float32Array, segments: readonly ClipSegment[], options: FeatureOptions = featureDefaults, tuningCents = 0, onProgress?: (frames: number, total: number) => void): ClipFeatures {
  const cqt = log1pGain(cqtHost(audio, { hop: options.hop, nFft: options.nFft, fmin: options.fmin, nBins: options.nBins, binsPerOctave: options.binsPerOctave, sampleRate: options.sampleRate, tuningCents, ...(onProgress ? { onProgress } : {}) }), options.cqtGain);
  // Both are centred frames every hop samples, 1 + ⌊samples / hop⌋ of them (frameCount).
  const frames = cqt.shape[0]!;
  const times = Float64Array.from({ length: frames }, (_, f) => (f * options.hop) / options.sampleRate);
  let dft: T.NDArray | undefined;
  const stft = (rows?: readonly number[]) => log1pGain(stftHost(audio, { nFft: options.nFft, hop: options.hop, scale: 'magnitude', fft: 'auto', ...(rows ? { frames: rows } : {}) }), options.dftGain);
  return {
    get dft() {
      dft ??= takeFrames(stft(), frames);
      return dft;
    },
    dftRows: (rows) => {
      for (const f of rows) if (!(Number.isInteger(f) && f >= 0 && f < frames)) throw new Error(`dftRows: frame ${f} is not one of the clip's ${frames} frames`);
      if (!dft) return stft(rows).data as Float32Array;
      const width = dft.shape[1]!;
      const out = new Float32Array(rows.length * width);
      rows.forEach((f, r) => out.set((dft!.data as Float32Array).subarray(f * width, (f + 1) * width), r * width));
      return out;
    },
    cqt, labels: labelsAtTimes(segments, times), times,
  };
}

/**
 * The audio's tuning in cents from A440 (estimateTuning: spectral peaks' deviation from the
 * equal-tempered grid), what `theorbo chords` centres the CQT on (as librosa's chroma_cqt
 * does): a recording 30 cents sharp is read as if in tune. In [−50, 50); at ±50 cents a
 * note lies as near one semitone as the next, so the estimate may land a semitone off.
 */
export function audioTuning(audio: Float32Array, options: FeatureOptions = featureDefaults): number {
  // Every fourth frame's peaks vote: a quarter of the STFT's time, and still hundreds of votes a minute.
  return estimateTuning(audio, { sampleRate: options.sampleRate, nFft: options.nFft, hop: 4 * options.hop });
}

function takeFrames(values: T.NDArray, frames: number): T.NDArray {
  if (values.shape[0] === frames) return values;
  const width = values.shape[1]!;
  return T.array(values.data.slice(0, frames * width) as Float32Array, { shape: [frames, width] });
}

/** Every `stride`-th frame of several clips, stacked: the training set's rows. */
export function stackFrames(clips: readonly ClipFeatures[], stride = 1): { dft: T.NDArray; cqt: T.NDArray; labels: T.NDArray } {
  const pick = clips.map((clip) => Array.from({ length: Math.ceil(clip.labels.length / stride) }, (_, i) => i * stride));
  const rows = pick.reduce((n, list) => n + list.length, 0);
  const stack = (key: 'dft' | 'cqt'): T.NDArray => {
    // The DFT's width from one row, so that it is not computed whole for it.
    const width = key === 'cqt' ? clips[0]!.cqt.shape[1]! : clips[0]!.dftRows ? clips[0]!.dftRows([0]).length : clips[0]!.dft.shape[1]!;
    const out = new Float32Array(rows * width);
    let r = 0;
    clips.forEach((clip, c) => {
      // The DFT's picked rows only (dftRows), unless the clip's whole DFT is all there is.
      if (key === 'dft' && clip.dftRows) {
        out.set(clip.dftRows(pick[c]!), r * width);
        r += pick[c]!.length;
      } else for (const f of pick[c]!) out.set(clip[key].data.subarray(f * width, (f + 1) * width) as Float32Array, (r++) * width);
    });
    return T.array(out, { shape: [rows, width] });
  };
  const labels = new Int32Array(rows);
  let r = 0;
  clips.forEach((clip, c) => {
    for (const f of pick[c]!) labels[r++] = clip.labels[f]!;
  });
  return { dft: stack('dft'), cqt: stack('cqt'), labels: T.array(labels) };
}

/** The log-compressed DFT magnitude of a batch of clips as a graph (for the compiled path and its tests). */
export function dftFeatureGraph(signal: T.Variable, options: FeatureOptions = featureDefaults): T.Variable {
  return logCompress(stft(signal, { nFft: options.nFft, hop: options.hop, scale: 'magnitude' }), { method: 'log1p', factor: options.dftGain });
}
