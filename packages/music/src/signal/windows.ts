// Analysis windows as cosine sums, one table: Hann, Hamming, Blackman and rectangular.
// `window(name, length)` is periodic by default (scipy's get_window(name, N, fftbins=True),
// what librosa uses for spectra); `{ periodic: false }` gives the symmetric form
// (numpy.hanning and friends). `centredWindow` evaluates the same shapes at offsets t from
// the centre over a real-valued width, which the CQT needs for filters whose lengths
// Q·sr/f are not integers. Left out: Kaiser, Gaussian and other parametric windows.

export const windowCoefficients = {
  hann: [0.5, 0.5],
  hamming: [0.54, 0.46],
  blackman: [0.42, 0.5, 0.08],
  rectangular: [1],
} as const satisfies Record<string, readonly number[]>;

export type WindowName = keyof typeof windowCoefficients;
export const windowNames = Object.keys(windowCoefficients) as WindowName[];

function coefficientsOf(caller: string, name: WindowName): readonly number[] {
  const coefficients = (windowCoefficients as Record<string, readonly number[]>)[name];
  if (!coefficients) throw new Error(`${caller}: unknown window '${String(name)}'; expected one of ${windowNames.join(', ')}`);
  return coefficients;
}

/**
 * The window of `length` samples: Σ_j (−1)^j a_j cos(2πjn/D), D = length (periodic) or
 * length − 1 (symmetric). Computed in float64.
 */
export function window(name: WindowName, length: number, options: { periodic?: boolean } = {}): Float64Array {
  const coefficients = coefficientsOf('window', name);
  if (!Number.isInteger(length) || length < 1) throw new Error(`window: length ${length} must be a positive integer`);
  const periodic = options.periodic ?? true;
  const denominator = periodic ? length : length - 1;
  const out = new Float64Array(length);
  if (denominator === 0) return out.fill(1);
  for (let n = 0; n < length; n++) {
    let value = 0;
    coefficients.forEach((a, j) => {
      // (n·j mod D) keeps the angle small, so the cosine loses nothing for large n.
      value += (j % 2 === 0 ? a : -a) * Math.cos((2 * Math.PI * ((n * j) % denominator)) / denominator);
    });
    out[n] = value;
  }
  return out;
}

/**
 * The window of real-valued `width` at integer offset `t` from its centre:
 * Σ_j a_j cos(2πjt/width) for −width/2 ≤ t < width/2, else 0. Substituting n = t + width/2 into
 * the periodic form gives this, so a width that is an even integer reproduces
 * window(name, width) shifted by width/2.
 */
export function centredWindow(name: WindowName, width: number, t: number): number {
  if (t < -width / 2 || t >= width / 2) return 0;
  const coefficients = coefficientsOf('centredWindow', name);
  let value = 0;
  coefficients.forEach((a, j) => {
    value += a * Math.cos((2 * Math.PI * j * t) / width);
  });
  return value;
}
