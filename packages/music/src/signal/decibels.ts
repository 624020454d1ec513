// Decibels as librosa computes them. powerToDb: 10·log10(max(amin, x)) − 10·log10(max(amin,
// ref)), then everything below the peak minus topDb raised to it; amplitudeToDb is the same
// with 20·log10 (librosa's amplitude_to_db is power_to_db of the squares with amin² and
// ref², which is this). `ref` is a number, or 'max' for each clip's own peak (librosa's
// ref=np.max). In a graph "each clip" is each index of the leading (batch) axis: the peak
// for ref 'max' and for topDb is taken over all other axes, so a batch of one clip gives
// exactly librosa's numbers. powerToDbHost does the same for one clip in float64.
// Left out: callable refs other than the peak, and complex input.
//
// Shapes: x [batch, …] → the same shape.

import * as T from '@theorbo/graph';
import { graphError } from './framing.ts';

export interface DbOptions {
  /** The value that maps to 0 dB: a number (default 1) or 'max', each clip's peak. */
  ref?: number | 'max';
  /** Floor on x and ref before the logarithm (default 1e-10 for power, 1e-5 for amplitude). */
  amin?: number;
  /** Clip each clip at its peak minus topDb decibels (default 80; null keeps everything). */
  topDb?: number | null;
}

interface ResolvedDb { ref: number | 'max'; amin: number; topDb: number | null }

function resolveDb(options: DbOptions, defaultAmin: number, fail: (detail: string) => never): ResolvedDb {
  const ref = options.ref ?? 1;
  const amin = options.amin ?? defaultAmin;
  const topDb = options.topDb === undefined ? 80 : options.topDb;
  if (!(amin > 0)) fail(`amin ${amin} must be positive`);
  if (ref !== 'max' && !Number.isFinite(ref)) fail(`ref ${String(ref)} must be a finite number or 'max'`);
  if (topDb !== null && !(topDb >= 0)) fail(`topDb ${topDb} must be non-negative (or null)`);
  return { ref, amin, topDb };
}

function decibels(op: string, x: T.Variable, scale: number, options: DbOptions, defaultAmin: number): T.Variable {
  const { ref, amin, topDb } = resolveDb(options, defaultAmin, (detail) => { throw graphError(op, detail); });
  if (x.ndim < 1) throw graphError(op, `expects a batch [batch, …], but got the scalar ${x.type}`);
  const clipAxes = Array.from({ length: x.ndim - 1 }, (_, i) => i + 1);
  const clipPeak = (v: T.Variable): T.Variable => (clipAxes.length === 0 ? v : T.max(v, clipAxes, true));
  return T.composite(op, () => {
    const level = T.mul(T.log(T.maximum(x, amin)), scale / Math.LN10);
    const reference = ref === 'max'
      ? T.mul(T.log(T.maximum(clipPeak(T.abs(x)), amin)), scale / Math.LN10)
      : scale * Math.log10(Math.max(amin, Math.abs(ref)));
    const db = T.sub(level, reference);
    return topDb === null ? db : T.maximum(db, T.sub(clipPeak(db), topDb));
  });
}

/** librosa's power_to_db per clip of a batch [batch, …] (see the file comment). */
export function powerToDb(power: T.Variable, options: DbOptions = {}): T.Variable {
  return decibels('powerToDb', power, 10, options, 1e-10);
}

/** librosa's amplitude_to_db per clip of a batch [batch, …]: 20·log10, amin 1e-5 by default. */
export function amplitudeToDb(amplitude: T.Variable, options: DbOptions = {}): T.Variable {
  return decibels('amplitudeToDb', amplitude, 20, options, 1e-5);
}

/** powerToDb of one clip (any shape; the whole array is the clip) in float64, rounded to the input's float dtype. */
export function powerToDbHost(power: T.NDArray, options: DbOptions = {}): T.NDArray {
  const { ref, amin, topDb } = resolveDb(options, 1e-10, (detail) => { throw new Error(`powerToDbHost: ${detail}`); });
  const data = power.data;
  let peak = 0;
  for (let i = 0; i < data.length; i++) peak = Math.max(peak, Math.abs(data[i]!));
  const offset = 10 * Math.log10(Math.max(amin, ref === 'max' ? peak : Math.abs(ref)));
  const db = Float64Array.from(data, (value) => 10 * Math.log10(Math.max(amin, value)) - offset);
  if (topDb !== null) {
    let top = -Infinity;
    for (const value of db) top = Math.max(top, value);
    for (let i = 0; i < db.length; i++) db[i] = Math.max(db[i]!, top - topDb);
  }
  const dtype = power.dtype === 'float64' ? 'float64' : 'float32';
  return T.array(dtype === 'float64' ? db : Float32Array.from(db), { shape: power.shape, dtype });
}
