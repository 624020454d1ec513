// PNG heatmaps of a matrix (weights, chromagrams, confusion matrices): each cell becomes
// a block of pixels (nearest-neighbour upscaling, so a 12 × 84 matrix is visible), its
// colour from a colormap over a value range: the data's min..max, a given [min, max], or
// symmetric around 0 (±max |value|, with the diverging map, for signed weights). NaN cells
// are mid-grey. Row 0 is drawn at the top unless origin is 'lower' (for pitch or
// frequency on the vertical axis). Written as RGB PNG with pngjs, atomically.
// Left out: axes, tick labels and colour bars: figure.ts draws those around these cells.

import type { NDArray } from '@theorbo/graph';
import { PNG } from 'pngjs';
import { writeFileAtomic } from '../files/atomic-write.ts';
import { colormapColor } from './colormap.ts';
import type { ColormapName } from './colormap.ts';

export type HeatmapMatrix = readonly ArrayLike<number>[] | NDArray;

export interface HeatmapOptions {
  /** 'viridis' (default) or 'diverging' (the default when range is 'symmetric'). */
  colormap?: ColormapName;
  /** 'auto' (default: data min..max), 'symmetric' (−max|x| .. max|x|), or explicit [min, max]. */
  range?: 'auto' | 'symmetric' | readonly [number, number];
  /** Pixels per cell, one number or [width, height]; by default each axis is upscaled to about 512 px. */
  cellSize?: number | readonly [number, number];
  /** Where row 0 goes: 'upper' (default, as a matrix is printed) or 'lower'. */
  origin?: 'upper' | 'lower';
}

const nanColor = [128, 128, 128] as const;
const autoTargetPixels = 512;

/** Writes the heatmap of `matrix` to `path` as a PNG, atomically. */
export function writeHeatmapPng(path: string, matrix: HeatmapMatrix, options: HeatmapOptions = {}): void {
  writeFileAtomic(path, encodeHeatmapPng(matrix, options), { operation: 'writeHeatmapPng' });
}

/** The PNG bytes of the heatmap of `matrix`. */
export function encodeHeatmapPng(matrix: HeatmapMatrix, options: HeatmapOptions = {}): Buffer {
  const rows = matrixRows(matrix);
  const rowCount = rows.length;
  const columnCount = rows[0]?.length ?? 0;
  if (rowCount === 0 || columnCount === 0) throw new Error(`writeHeatmapPng: the matrix is empty (${rowCount} × ${columnCount}).`);
  rows.forEach((row, r) => {
    if (row.length !== columnCount) throw new Error(`writeHeatmapPng: row ${r} has ${row.length} columns but row 0 has ${columnCount}.`);
  });
  const [low, high] = valueRange(rows, options.range ?? 'auto');
  const colormap = options.colormap ?? (options.range === 'symmetric' ? 'diverging' : 'viridis');
  const [cellWidth, cellHeight] = cellSizes(options.cellSize, rowCount, columnCount);
  const width = columnCount * cellWidth;
  const height = rowCount * cellHeight;
  const png = new PNG({ width, height });
  for (let r = 0; r < rowCount; r++) {
    const y0 = (options.origin === 'lower' ? rowCount - 1 - r : r) * cellHeight;
    for (let c = 0; c < columnCount; c++) {
      const value = rows[r]![c]!;
      const rgb = Number.isNaN(value) ? nanColor : colormapColor(colormap, high > low ? (value - low) / (high - low) : 0.5);
      for (let y = y0; y < y0 + cellHeight; y++) {
        for (let x = c * cellWidth; x < (c + 1) * cellWidth; x++) {
          const offset = (y * width + x) * 4;
          png.data[offset] = rgb[0];
          png.data[offset + 1] = rgb[1];
          png.data[offset + 2] = rgb[2];
          png.data[offset + 3] = 255;
        }
      }
    }
  }
  return PNG.sync.write(png, { colorType: 2 });
}

/** The rows of a 1-D or 2-D matrix; `operation` names the caller in errors. */
export function matrixRows(matrix: HeatmapMatrix, operation = 'writeHeatmapPng'): ArrayLike<number>[] {
  if (!Array.isArray(matrix)) {
    const array = matrix as NDArray;
    if (array.shape.length === 1) return [array.data];
    if (array.shape.length !== 2) throw new Error(`${operation}: the matrix must be 1-D or 2-D, not shape [${array.shape.join(', ')}].`);
    const [rowCount, columnCount] = array.shape as [number, number];
    return Array.from({ length: rowCount }, (_, r) => array.data.subarray(r * columnCount, (r + 1) * columnCount));
  }
  return [...(matrix as readonly ArrayLike<number>[])];
}

/** The colour scale's [low, high] for a range option; `operation` names the caller in errors. */
export function valueRange(rows: ArrayLike<number>[], range: NonNullable<HeatmapOptions['range']>, operation = 'writeHeatmapPng'): [number, number] {
  if (Array.isArray(range)) {
    const [low, high] = range as readonly [number, number];
    if (!(Number.isFinite(low) && Number.isFinite(high) && high >= low)) {
      throw new Error(`${operation}: the range [${low}, ${high}] must be two finite numbers with max ≥ min.`);
    }
    return [low, high];
  }
  let low = Infinity;
  let high = -Infinity;
  for (const row of rows) {
    for (let c = 0; c < row.length; c++) {
      const value = row[c]!;
      if (!Number.isFinite(value)) continue; // NaN is drawn grey; ±∞ clip to the ends
      if (value < low) low = value;
      if (value > high) high = value;
    }
  }
  if (low > high) return [0, 1]; // no finite values
  if (range === 'symmetric') {
    const extent = Math.max(Math.abs(low), Math.abs(high));
    return [-extent, extent];
  }
  if (range !== 'auto') throw new Error(`${operation}: range must be 'auto', 'symmetric' or [min, max], not '${String(range)}'.`);
  return [low, high];
}

function cellSizes(cellSize: HeatmapOptions['cellSize'], rowCount: number, columnCount: number): [number, number] {
  if (cellSize === undefined) {
    return [Math.max(1, Math.floor(autoTargetPixels / columnCount)), Math.max(1, Math.floor(autoTargetPixels / rowCount))];
  }
  const [width, height] = typeof cellSize === 'number' ? [cellSize, cellSize] : cellSize;
  for (const size of [width, height]) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`writeHeatmapPng: cell sizes must be whole numbers of pixels ≥ 1, not ${size}.`);
  }
  return [width, height];
}
