// Tuning estimation on the host, after librosa.estimate_tuning: the magnitude STFT, then
// piptrack's peaks (local maxima along frequency, above `threshold` times the frame's
// largest value, between fmin and fmax) refined by parabolic interpolation; the peaks at
// least as strong as their median vote, in a histogram of `resolution`-wide bins, for
// their deviation from the equal-tempered grid (A4 = 440 Hz) in fractions of a bin; the
// fullest histogram bin wins. Returned in cents. Two departures from librosa, both for
// accuracy: the parabola goes through log magnitudes (librosa's linear ones are biased by
// up to 3.5 cents at C4 with nFft 2048; log is within 1.5), and the answer is the centre
// of the winning histogram bin (librosa returns its left edge). Apply it through the
// kernels' `tuningCents` options (cqtKernel, cqt, stftChromaMatrix).
// Left out: an in-graph version (the estimate picks graph constants, so it runs first).

import { stftHostComplex, type HostSignal } from './fft-host.ts';
import { signalDefaults } from './framing.ts';

export interface TuningOptions {
  sampleRate?: number;
  nFft?: number;
  hop?: number;
  /** Histogram bin width in fractions of a pitch bin (default 0.01: 1 cent at 12 per octave). */
  resolution?: number;
  binsPerOctave?: number;
  fmin?: number;
  fmax?: number;
  threshold?: number;
}

export interface PitchPeak {
  frame: number;
  frequency: number;
  magnitude: number;
}

/** piptrack's interpolated spectral peaks (see the file comment). */
export function spectralPeaks(signal: HostSignal, options: TuningOptions = {}): PitchPeak[] {
  const sampleRate = options.sampleRate ?? signalDefaults.sampleRate;
  const nFft = options.nFft ?? signalDefaults.nFft;
  const { fmin = 150, fmax = 4000, threshold = 0.1 } = options;
  const { nFrames, nBins, real, imag } = stftHostComplex(signal, { nFft, hop: options.hop ?? signalDefaults.hop });
  const peaks: PitchPeak[] = [];
  const frame = new Float64Array(nBins);
  for (let f = 0; f < nFrames; f++) {
    let largest = 0;
    for (let k = 0; k < nBins; k++) {
      frame[k] = Math.hypot(real[f * nBins + k]!, imag[f * nBins + k]!);
      largest = Math.max(largest, frame[k]!);
    }
    for (let k = 1; k < nBins - 1; k++) {
      const frequency = (k * sampleRate) / nFft;
      const [below, here, above] = [frame[k - 1]!, frame[k]!, frame[k + 1]!];
      if (frequency < fmin || frequency >= fmax || !(here > below && here >= above) || here <= threshold * largest) continue;
      // The parabola through the log magnitudes: a Hann main lobe is close to a
      // Gaussian, whose log is a parabola, so this is nearly unbiased.
      const [logBelow, logHere, logAbove] = [below, here, above].map((value) => Math.log(Math.max(value, 1e-300)));
      const slope = 0.5 * (logAbove! - logBelow!);
      const curvature = 2 * logHere! - logAbove! - logBelow!;
      const shift = curvature > 0 ? slope / curvature : 0;
      peaks.push({ frame: f, frequency: ((k + shift) * sampleRate) / nFft, magnitude: here * Math.exp(0.5 * slope * shift) });
    }
  }
  return peaks;
}

/** The deviation of `frequencies` from A440 equal temperament, in cents, by histogram vote. */
export function pitchTuning(frequencies: readonly number[], options: Pick<TuningOptions, 'resolution' | 'binsPerOctave'> = {}): number {
  const resolution = options.resolution ?? 0.01;
  const binsPerOctave = options.binsPerOctave ?? 12;
  if (!(resolution > 0 && resolution <= 1)) throw new Error(`pitchTuning: resolution ${resolution} must be in (0, 1]`);
  const positive = frequencies.filter((f) => f > 0);
  if (positive.length === 0) return 0;
  const slots = Math.ceil(1 / resolution);
  const counts = new Array<number>(slots).fill(0);
  for (const frequency of positive) {
    let residual = (binsPerOctave * Math.log2(frequency / 27.5)) % 1;
    if (residual < 0) residual += 1;
    if (residual >= 0.5) residual -= 1;
    counts[Math.min(slots - 1, Math.floor((residual + 0.5) / resolution))]!++;
  }
  const best = counts.indexOf(Math.max(...counts));
  const fraction = -0.5 + (best + 0.5) * resolution;
  return (fraction * 1200) / binsPerOctave;
}

/** librosa.estimate_tuning in cents (see the file comment); 0 for a signal without peaks. */
export function estimateTuning(signal: HostSignal, options: TuningOptions = {}): number {
  const peaks = spectralPeaks(signal, options);
  if (peaks.length === 0) return 0;
  const sorted = peaks.map((peak) => peak.magnitude).sort((a, b) => a - b);
  const middle = sorted.length / 2;
  const median = sorted.length % 2 === 1 ? sorted[Math.floor(middle)]! : 0.5 * (sorted[middle - 1]! + sorted[middle]!);
  return pitchTuning(peaks.filter((peak) => peak.magnitude >= median).map((peak) => peak.frequency), options);
}
