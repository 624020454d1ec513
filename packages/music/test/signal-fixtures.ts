// Shared fixtures of the signal tests: tones made sample by sample, row and peak helpers,
// and the WebGPU device that compiled tests run on (failing loudly when there is none).

import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { acquireDevice, type WebGpuDescriptor } from '@theorbo/codegen';

export const sampleRate = 22050;

export interface ToneOptions {
  amplitude?: number;
  /** Partials per note with amplitudes 1/k (default 1: a sine). */
  harmonics?: number;
  phase?: number;
}

/** A sum of notes at `frequencies` (Hz), `samples` long, computed in float64 and rounded to float32. */
export function tone(frequencies: readonly number[], samples: number, options: ToneOptions = {}): Float32Array {
  const { amplitude = 1, harmonics = 1, phase = 0.3 } = options;
  const out = new Float32Array(samples);
  for (let i = 0; i < samples; i++) {
    let value = 0;
    for (const f of frequencies) {
      for (let k = 1; k <= harmonics; k++) {
        if (f * k < sampleRate / 2) value += (amplitude / k) * Math.cos((2 * Math.PI * f * k * i) / sampleRate + phase * k);
      }
    }
    out[i] = value;
  }
  return out;
}

/** A batch of clips as one [batch, samples] NDArray. */
export function batchOf(clips: readonly Float32Array[], dtype: 'float32' | 'float64' = 'float32'): T.NDArray {
  const samples = clips[0]!.length;
  const data = dtype === 'float32' ? new Float32Array(clips.length * samples) : new Float64Array(clips.length * samples);
  clips.forEach((clip, i) => data.set(clip, i * samples));
  return T.array(data, { shape: [clips.length, samples], dtype });
}

/** The vector at [...leading] along the last axis. */
export function row(array: T.NDArray, ...leading: number[]): number[] {
  const width = array.shape[array.ndim - 1]!;
  let offset = 0;
  leading.forEach((index, axis) => {
    offset += index * array.strides[axis]!;
  });
  return Array.from(array.data.subarray(offset, offset + width));
}

export const argmax = (values: readonly number[]): number => values.indexOf(Math.max(...values));

/** Indices of the k largest values, largest first. */
export const topIndices = (values: readonly number[], k: number): number[] =>
  values.map((value, index) => ({ value, index })).sort((a, b) => b.value - a.value).slice(0, k).map((entry) => entry.index);

export const maxAbs = (values: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]!));
  return m;
};

/** Largest |a − b| over two equally shaped arrays. */
export function maxDifference(a: T.NDArray, b: T.NDArray): number {
  assert.equal([...a.shape], [...b.shape], 'shapes differ');
  let m = 0;
  for (let i = 0; i < a.size; i++) m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!));
  return m;
}

let device: WebGpuDescriptor | undefined;

/**
 * The WebGPU device compiled tests run on; the reference evaluator standing in for one is a
 * failure. The test files of a folder share one process, and a file's releaseDevices()
 * destroys the device, so a destroyed one is acquired again.
 */
export async function webGpuDevice(): Promise<WebGpuDescriptor> {
  if (device && device.lost === undefined) return device;
  const acquired = await acquireDevice();
  if (acquired.kind === 'reference') assert.unreachable(`no WebGPU device; the chain fell to the reference evaluator:\n${acquired.describe()}`);
  device = acquired as WebGpuDescriptor;
  return device;
}
