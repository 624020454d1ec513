// Heatmap PNGs, decoded back with pngjs: image size from the cell size, colours at known
// cells (the colormaps' ends and middle), value ranges, origin, NaN, and errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import * as T from '@theorbo/graph';
import { colormapColor, encodeHeatmapPng, writeHeatmapPng } from '../src/plot/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'theorbo-plot-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const pixel = (png: PNG, x: number, y: number): number[] => {
  const offset = (y * png.width + x) * 4;
  return [png.data[offset]!, png.data[offset + 1]!, png.data[offset + 2]!];
};

// matplotlib's viridis at 0, 0.5 and 1 (entries 0, 127.5 and 255 of its table), in 0–255.
const viridisLow = [68, 1, 84];
const viridisHigh = [253, 231, 37];
const viridisMiddle = [33, 145, 140];
const near = (actual: number[], expected: readonly number[], label: string, tolerance = 2): void =>
  assert.ok(actual.every((value, i) => Math.abs(value - expected[i]!) <= tolerance), `${label}: [${actual}] vs [${expected}]`);

test('a 2 × 3 matrix at 10 px per cell: size, and colours at min, middle and max', () => {
  const path = join(dir, 'small.png');
  writeHeatmapPng(path, [[0, 5, 10], [10, 0, Number.NaN]], { cellSize: 10 });
  const png = PNG.sync.read(readFileSync(path));
  assert.is(png.width, 30);
  assert.is(png.height, 20);
  near(pixel(png, 0, 0), viridisLow, 'min at row 0 column 0');
  near(pixel(png, 9, 9), viridisLow, 'same cell, far corner');
  near(pixel(png, 15, 5), viridisMiddle, 'middle value');
  near(pixel(png, 25, 0), viridisHigh, 'max');
  near(pixel(png, 0, 10), viridisHigh, 'row 1 starts at y = 10');
  assert.equal(pixel(png, 29, 19), [128, 128, 128], 'NaN is grey');
  assert.equal(readdirSync(dir).filter((name) => name.includes('small')), ['small.png'], 'no temporary file left');
});

test('default cell size upscales each axis to about 512 px; non-square cells', () => {
  const chroma = Array.from({ length: 12 }, (_, r) => Array.from({ length: 84 }, (_, c) => r * c));
  const png = PNG.sync.read(encodeHeatmapPng(chroma));
  assert.is(png.width, 84 * Math.floor(512 / 84));
  assert.is(png.height, 12 * Math.floor(512 / 12));
  const big = PNG.sync.read(encodeHeatmapPng(Array.from({ length: 600 }, () => [1, 2]), { cellSize: [3, 1] }));
  assert.is(big.width, 6);
  assert.is(big.height, 600);
});

test("range 'symmetric' uses the diverging map centred on 0; explicit ranges clip", () => {
  const png = PNG.sync.read(encodeHeatmapPng([[-2, 0, 1, 2]], { range: 'symmetric', cellSize: 1 }));
  assert.equal(pixel(png, 0, 0), [5, 48, 97], '−max is the darkest blue');
  assert.equal(pixel(png, 1, 0), [247, 247, 247], '0 is the near-white centre');
  assert.equal(pixel(png, 3, 0), [103, 0, 31], '+max is the darkest red');
  const blueRedMiddle = colormapColor('diverging', 0.75);
  assert.equal(pixel(png, 2, 0), [...blueRedMiddle], 'half of +max sits halfway up the red side');
  const clipped = PNG.sync.read(encodeHeatmapPng([[-5, 0.5, 5]], { range: [0, 1], cellSize: 1 }));
  near(pixel(clipped, 0, 0), viridisLow, 'below the range');
  near(pixel(clipped, 1, 0), viridisMiddle, 'the middle of the range');
  near(pixel(clipped, 2, 0), viridisHigh, 'above the range');
});

test("origin 'lower' puts row 0 at the bottom; NDArray input; a constant matrix is mid-colour", () => {
  const matrix = T.array([0, 0, 1, 1], { shape: [2, 2], dtype: 'float32' });
  const upper = PNG.sync.read(encodeHeatmapPng(matrix, { cellSize: 1 }));
  const lower = PNG.sync.read(encodeHeatmapPng(matrix, { cellSize: 1, origin: 'lower' }));
  near(pixel(upper, 0, 0), viridisLow, 'upper: row 0 on top');
  near(pixel(lower, 0, 0), viridisHigh, 'lower: row 1 on top');
  near(pixel(lower, 0, 1), viridisLow, 'lower: row 0 at the bottom');
  const constant = PNG.sync.read(encodeHeatmapPng([[3, 3], [3, 3]], { cellSize: 1 }));
  near(pixel(constant, 1, 1), viridisMiddle, 'constant');
});

test('colormapColor interpolates between anchors and clips outside [0, 1]', () => {
  near([...colormapColor('viridis', 0)], viridisLow, 'viridis 0', 0);
  near([...colormapColor('viridis', 1)], viridisHigh, 'viridis 1', 0);
  near([...colormapColor('viridis', -3)], viridisLow, 'clipped low', 0);
  near([...colormapColor('viridis', 0.25)], [59, 82, 139], 'viridis 0.25 (table entry 63.75)');
  assert.throws(() => colormapColor('jet' as 'viridis', 0.5), /unknown colormap 'jet'/);
});

test('heatmap errors are sentences naming the problem', () => {
  assert.throws(() => encodeHeatmapPng([]), /writeHeatmapPng: the matrix is empty/);
  assert.throws(() => encodeHeatmapPng([[1, 2], [3]]), /row 1 has 1 columns but row 0 has 2/);
  assert.throws(() => encodeHeatmapPng([[1]], { cellSize: 0 }), /whole numbers of pixels/);
  assert.throws(() => encodeHeatmapPng([[1]], { range: [2, 1] }), /max ≥ min/);
  assert.throws(() => encodeHeatmapPng(T.array([1, 2, 3, 4, 5, 6, 7, 8], { shape: [2, 2, 2], dtype: 'float32' })), /1-D or 2-D/);
  assert.throws(() => writeHeatmapPng(join(dir, 'absent', 'x.png'), [[1]]), /writeHeatmapPng: cannot write .*absent/);
});

test.run();
