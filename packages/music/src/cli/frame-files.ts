// Per-frame data (a chromagram) as files other tools open: CSV with one plain header row
// (`time,C,Db,…`: no `#` anywhere, since numpy's genfromtxt and loadtxt read `#` as the
// start of a comment, so pitch classes are spelled with flats) or NPY (numpy.load), a
// float64 [frames, 1 + columns] array whose column 0 is the time, as in the CSV. And the
// chroma normalizations a user picks per frame: max (librosa's default), l1, l2, none.
// Left out: other delimiters and number formats, and npz archives of several matrices.

import { NDArray } from '@theorbo/graph';
import { writeFileAtomic } from '../files/atomic-write.ts';
import { encodeNpy } from '../train/npy.ts';

/** Pitch classes as column names: flats, so that no `#` reaches a CSV header. */
export const pitchClassColumns = ['C', 'Db', 'D', 'Eb', 'E', 'F', 'Gb', 'G', 'Ab', 'A', 'Bb', 'B'] as const;

export const chromaNorms = ['max', 'l1', 'l2', 'none'] as const;
export type ChromaNormName = (typeof chromaNorms)[number];
/** The CLI's default: each frame divided by its largest |value|, so the strongest pitch class reads 1. */
export const defaultChromaNorm: ChromaNormName = 'max';

export const frameFileFormats = ['csv', 'npy'] as const;
export type FrameFileFormat = (typeof frameFileFormats)[number];

/**
 * Each row of `values` ([frames, width], row-major) divided by its max |value|, L1 or L2
 * norm (a new array); rows whose norm is below 1e-10 are divided by 1e-10, as
 * normalizeFrames does on a graph, so silence stays near zero instead of becoming NaN.
 */
export function normalizeRows(values: ArrayLike<number>, width: number, norm: ChromaNormName): Float64Array {
  const out = Float64Array.from(values);
  if (norm === 'none') return out;
  if (!chromaNorms.includes(norm)) throw new Error(`normalizeRows: norm '${String(norm)}' is not one of ${chromaNorms.join(', ')}.`);
  for (let start = 0; start < out.length; start += width) {
    let size = 0;
    for (let k = start; k < start + width; k++) {
      const magnitude = Math.abs(out[k]!);
      size = norm === 'max' ? Math.max(size, magnitude) : norm === 'l1' ? size + magnitude : size + magnitude * magnitude;
    }
    const divisor = Math.max(norm === 'l2' ? Math.sqrt(size) : size, 1e-10);
    for (let k = start; k < start + width; k++) out[k] = out[k]! / divisor;
  }
  return out;
}

/** CSV text: a `time,<columns>` header, then one row per frame (times to 0.1 ms, values to 6 significant digits). */
export function frameCsv(times: ArrayLike<number>, values: ArrayLike<number>, columns: readonly string[]): string {
  const width = columns.length;
  checkShape('frameCsv', times, values, width);
  const rows = Array.from({ length: times.length }, (_, f) => {
    const cells = [Number(times[f]).toFixed(4)];
    for (let k = f * width; k < (f + 1) * width; k++) cells.push(Number(values[k]).toPrecision(6));
    return cells.join(',');
  });
  return `time,${columns.join(',')}\n${rows.join('\n')}\n`;
}

/** NPY bytes of a float64 [frames, 1 + width] array: the time, then the values of each frame. */
export function frameNpy(times: ArrayLike<number>, values: ArrayLike<number>, width: number): Uint8Array {
  checkShape('frameNpy', times, values, width);
  const data = new Float64Array(times.length * (width + 1));
  for (let f = 0; f < times.length; f++) {
    data[f * (width + 1)] = times[f]!;
    for (let k = 0; k < width; k++) data[f * (width + 1) + 1 + k] = values[f * width + k]!;
  }
  return encodeNpy(new NDArray('float64', [times.length, width + 1], data));
}

/** Writes `<prefix>.csv` or `<prefix>.npy` atomically and returns its path. */
export function writeFrameFile(prefix: string, format: FrameFileFormat, times: ArrayLike<number>, values: ArrayLike<number>, columns: readonly string[], operation: string): string {
  const path = `${prefix}.${format}`;
  writeFileAtomic(path, format === 'csv' ? frameCsv(times, values, columns) : frameNpy(times, values, columns.length), { operation });
  return path;
}

function checkShape(operation: string, times: ArrayLike<number>, values: ArrayLike<number>, width: number): void {
  if (values.length !== times.length * width) {
    throw new Error(`${operation}: ${values.length} values do not make ${times.length} frames of ${width} columns.`);
  }
}
