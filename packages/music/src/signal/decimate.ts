// Halving the sample rate inside the graph, for the octave-recursive CQT: a linear-phase
// half-band FIR low-pass, then every other sample. A half-band filter (cutoff at a
// quarter of the rate) has h[0] = 1/2 and zeros at every even offset; the odd taps are a
// Kaiser-windowed sinc (β = 8, 63 taps): passband flat to 0.2·rate within 1e-4,
// stopband from 0.3·rate at −80 dB or better (signal-decimate.test.ts measures both).
//
// The filter is applied as a matmul, like everything else here: the output is cut into
// blocks of B = 64 samples, block j needs inputs 128j − 32 … 128j + 157, so it is
// segment j (256 samples from 128j − 32, a frame of framing.ts with hop 128: a view of
// two slices) times one constant block-Toeplitz matrix [256, 64], T[n, i] = h[2i + 32 − n].
// Being a matmul, the codegen stores its result once, and the next level's frames are
// views of it; an elementwise sum of shifted slices would be cheaper per sample, but the
// partitioner would recompute it inside every consumer instead of storing it.
// Output sample m sits at input sample 2m (zero delay); the signal is extended by zeros.
// Left out: other ratios (src/audio's resample does those on the host).
//
// Shapes: [batch, samples] → [batch, ⌈samples/2⌉].

import * as T from '@theorbo/graph';
import { framesAt, signalSamples } from './framing.ts';

/** Zeroth-order modified Bessel function of the first kind, by its power series. */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 200 && term > 1e-17 * sum; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
  }
  return sum;
}

export const halfBandDesign = { pairs: 16, beta: 8 } as const;

/** The odd taps c_i = h[2i + 1] = h[−(2i + 1)], i = 0 … pairs − 1, scaled so the DC gain is exactly 1. */
export function halfBandTaps(pairs: number = halfBandDesign.pairs, beta: number = halfBandDesign.beta): Float64Array {
  const span = 2 * pairs;
  const taps = new Float64Array(pairs);
  for (let i = 0; i < pairs; i++) {
    const j = 2 * i + 1;
    const sinc = Math.sin((Math.PI * j) / 2) / ((Math.PI * j) / 2);
    taps[i] = 0.5 * sinc * (besselI0(beta * Math.sqrt(1 - (j / span) ** 2)) / besselI0(beta));
  }
  // DC gain h[0] + 2Σc = 1/2 + 2Σc must be 1.
  const total = taps.reduce((a, b) => a + b, 0);
  return taps.map((c) => (c * 0.25) / total);
}

/** The whole impulse response h[−(2P−1)] … h[2P−1] (for tests and plots). */
export function halfBandFilter(pairs: number = halfBandDesign.pairs, beta: number = halfBandDesign.beta): Float64Array {
  const taps = halfBandTaps(pairs, beta);
  const centre = 2 * pairs - 1;
  const h = new Float64Array(2 * centre + 1);
  h[centre] = 0.5;
  taps.forEach((c, i) => {
    h[centre + 2 * i + 1] = c;
    h[centre - 2 * i - 1] = c;
  });
  return h;
}

/** Outputs per block of the block-Toeplitz form (see the file comment). */
const blockOutputs = 64;

/** T[n, i] = h[2i + 2P − n]: segment j (from input 2jB − 2P) times T gives outputs jB … jB + B − 1. */
function toeplitzBlock(dtype: 'float32' | 'float64'): T.NDArray {
  const h = halfBandFilter();
  const reach = (h.length - 1) / 2;
  const pairs = (reach + 1) / 2;
  const rows = 4 * blockOutputs;
  const data = dtype === 'float32' ? new Float32Array(rows * blockOutputs) : new Float64Array(rows * blockOutputs);
  for (let n = 0; n < rows; n++) {
    for (let i = 0; i < blockOutputs; i++) {
      const t = 2 * i + 2 * pairs - n;
      if (Math.abs(t) <= reach) data[n * blockOutputs + i] = h[reach + t]!;
    }
  }
  return T.array(data, { shape: [rows, blockOutputs], dtype });
}

/** Low-pass and keep every other sample: [batch, n] → [batch, ⌈n/2⌉] (see the file comment). */
export function decimateByTwo(signal: T.Variable): T.Variable {
  const samples = signalSamples('decimateByTwo', signal);
  const half = Math.ceil(samples / 2);
  const blocks = Math.ceil(half / blockOutputs);
  return T.composite('decimateByTwo', () => {
    const segments = framesAt('decimateByTwo', signal, {
      firstStart: -2 * halfBandDesign.pairs, hop: 2 * blockOutputs, count: blocks, nFft: 4 * blockOutputs, padMode: 'constant',
    });
    const filtered = T.matmul(segments, T.constant(toeplitzBlock(signal.dtype as 'float32' | 'float64'), { name: 'half_band_toeplitz' }));
    const flat = T.reshape(filtered, [-1, blocks * blockOutputs]);
    return blocks * blockOutputs === half ? flat : T.get(flat, ':', T.slice(0, half));
  });
}
