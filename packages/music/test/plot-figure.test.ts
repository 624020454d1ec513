// SVG figures: title, both axes with their labels and domain-unit ticks, a colour bar with
// its scale and caption, the colour map by sign; the PNG resvg renders from the SVG (its
// size, the cells' colours where the SVG puts them, dark text pixels in the title).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { colormapColor, cqtTicks, curveSvg, heatmapSvg, melFigureSvg, niceTicks, noteName, noteOfFrequency, onsetFigureSvg, pitchClassTicks, timeTicks, writeFigure } from '../src/plot/index.ts';
import * as T from '@theorbo/graph';
import { lossCurveFigure } from '../src/model/report-figures.ts';
import type { EpochRecord } from '../src/train/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'theorbo-figure-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const svgTexts = (svg: string) => ({ x: texts(svg, 'x-axis'), y: texts(svg, 'y-axis'), legend: texts(svg, 'legend'), colorbar: texts(svg, 'colorbar') });
const texts = (svg: string, group: string): string[] => {
  const body = svg.match(new RegExp(`<g class="${group}">([\\s\\S]*?)</g>`))?.[1] ?? '';
  return [...body.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
};

test('a heatmap SVG has its title, labelled axes with domain ticks and a colour bar with its scale', () => {
  const weights = Array.from({ length: 24 }, (_, b) => Array.from({ length: 12 }, (_, c) => (b % 12 === c ? 2 : -0.5)));
  const svg = heatmapSvg(weights, { title: 'Chroma weights & more', x: { label: 'pitch class', ticks: pitchClassTicks() }, y: { label: 'CQT bin (note)', ticks: cqtTicks(24, 12, 48) }, colorbar: 'weight', range: 'symmetric' });
  assert.match(svg, /<text class="title"[^>]*>Chroma weights &amp; more<\/text>/);
  assert.equal(texts(svg, 'x-axis'), ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B', 'pitch class']);
  assert.equal(texts(svg, 'y-axis'), ['C3', 'C4', 'CQT bin (note)']);
  assert.equal(texts(svg, 'colorbar'), ['-2.00', '-1.00', '0', '1.00', '2.00', 'weight'], 'symmetric: the scale runs −max … max through 0');
  const [r, g, b] = colormapColor('diverging', 1 / 128); // the colour bar's lowest step
  assert.ok(svg.includes(`fill="rgb(${r},${g},${b})"`), 'signed weights use the diverging map');
  const magnitudes = heatmapSvg([[0, 1], [2, 3]], { title: 't', x: { label: 'x', ticks: [] }, y: { label: 'y', ticks: [] }, colorbar: 'c' });
  assert.equal(texts(magnitudes, 'colorbar').slice(0, 5), ['0', '0.75', '1.50', '2.25', '3.00']);
  const [vr, vg, vb] = colormapColor('viridis', 1 / 128);
  assert.ok(magnitudes.includes(`fill="rgb(${vr},${vg},${vb})"`), 'magnitudes use viridis');
});

test('writeFigure: the PNG is resvg\'s rendering of the SVG (size, cells where drawn, text)', () => {
  const paths = writeFigure(join(dir, 'two'), heatmapSvg([[0, 1]], { title: 'Two cells', x: { label: 'time (s)', ticks: timeTicks(2, 0.5) }, y: { label: 'pitch class', ticks: [{ at: 0, label: 'C' }] }, colorbar: 'magnitude', size: [200, 100] }));
  const svg = readFileSync(paths.svg, 'utf8');
  const png = PNG.sync.read(readFileSync(paths.png));
  const [width, height] = svg.match(/width="(\d+)" height="(\d+)"/)!.slice(1).map(Number) as [number, number];
  assert.equal([png.width, png.height], [width, height]);
  const at = (x: number, y: number): number[] => Array.from(png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3));
  const near = (got: number[], want: readonly number[]) => got.every((v, i) => Math.abs(v - want[i]!) <= 3);
  // The plot area starts at (100, 40) and is 200 × 100: the left cell holds 0, the right 1.
  assert.ok(near(at(100 + 50, 40 + 50), colormapColor('viridis', 0)), `left cell ${at(150, 90)}`);
  assert.ok(near(at(100 + 150, 40 + 50), colormapColor('viridis', 1)), `right cell ${at(250, 90)}`);
  let dark = 0;
  for (let y = 10; y < 30; y++) for (let x = 100; x < 260; x++) if (at(x, y).every((v) => v < 100)) dark++;
  assert.ok(dark > 50, `the title's glyphs are drawn (${dark} dark pixels): resvg found a font`);
});

test('a loss curve: title, both axes labelled with round ticks covering the data, a legend for two series, its PNG', () => {
  const record = (epoch: number, train: number, validation?: number): EpochRecord => ({ epoch, learningRate: 0.01, train: { loss: train }, ...(validation === undefined ? {} : { validation: { loss: validation } }), improved: true, seconds: 1 });
  const history = [record(1, 2.31, 2.05), record(2, 1.42, 1.6), record(3, 0.97, 1.38), record(4, 0.8, 1.41)];
  const prefix = lossCurveFigure(dir, 'Net & co', history)!;
  const svg = readFileSync(`${prefix}.svg`, 'utf8');
  assert.match(svg, /<text class="title"[^>]*>Net &amp; co: loss per epoch<\/text>/);
  assert.equal(texts(svg, 'x-axis'), ['1', '2', '3', '4', 'epoch'], 'whole epochs');
  assert.equal(texts(svg, 'y-axis'), ['0.5', '1', '1.5', '2', '2.5', 'loss'], 'round ticks from below the lowest loss to above the highest');
  assert.equal(texts(svg, 'legend'), ['training loss', 'validation loss']);
  assert.is([...svg.matchAll(/<circle /g)].length, 8, 'a marker per epoch and series');
  const png = PNG.sync.read(readFileSync(`${prefix}.png`));
  assert.equal([png.width, png.height], svg.match(/width="(\d+)" height="(\d+)"/)!.slice(1).map(Number));
  const single = curveSvg({ title: 'one', x: { label: 'step' }, y: { label: 'score' }, series: [{ name: 'score', points: [[0, 1], [10, Number.NaN], [20, 3]] }] });
  assert.not.match(single, /class="legend"/, 'one series needs no legend');
  assert.is([...single.matchAll(/<circle /g)].length, 2, 'a non-finite value is left out');
  assert.throws(() => curveSvg({ title: 'empty', x: { label: 'x' }, y: { label: 'y' }, series: [{ name: 'nan', points: [[1, Number.NaN]] }] }), /curveSvg: 'empty' has no finite points/);
  assert.equal(niceTicks(0.013, 0.049, 4).ticks, [0.01, 0.02, 0.03, 0.04, 0.05]);
  assert.is(lossCurveFigure(dir, 'none', []), undefined, 'no epochs, no figure');
});

test('rhythm figures: onsets and beats over seconds, a mel spectrogram over seconds and Hz in dB', () => {
  const timing = { sampleRate: 22050, hop: 512 };
  const envelope = Float32Array.from({ length: 87 }, (_, f) => (f % 22 === 5 ? 10 : 0.5)); // 2 s, a peak every ~0.51 s
  const onsets = svgTexts(onsetFigureSvg(envelope, timing, { title: 'Onsets & beats', onsets: [0.116, 0.627], beats: [0.12, 0.63, 1.14] }));
  assert.equal(onsets.x, ['0', '0.5', '1', '1.5', '2', 'time (s)'], 'seconds on x');
  assert.equal(onsets.legend, ['onset strength', 'onsets', 'beats']);
  const svg = onsetFigureSvg(envelope, timing, { title: 't', onsets: [0.116], beats: [0.12, 0.63, 1.14] });
  assert.is([...svg.matchAll(/<line [^>]*stroke-dasharray/g)].length, 4, 'three beats and the legend\'s sample');
  assert.match(svg, /<circle cx="[\d.]+" cy="[\d.]+" r="4"/, 'the onset is a marker');
  const power = T.array(Float32Array.from({ length: 20 * 64 }, (_, i) => (i % 64 === 10 ? 100 : 1e-12)), { shape: [20, 64] });
  const mel = svgTexts(melFigureSvg(power, timing, { title: 'Mel', db: false }));
  assert.equal(mel.y, ['100', '200', '500', '1k', '2k', '5k', '10k', 'frequency (Hz, mel scale)']);
  assert.equal(mel.colorbar, ['-60.0', '-40.0', '-20.0', '0', '20.0', 'power (dB)'], '20 dB at the top, the floor 80 dB below it');
});

test('crowded x tick labels (chord names under a confusion matrix) are turned 45° and the figure grows to fit them', () => {
  const labels = ['C:maj', 'C#:maj', 'D:maj', 'D#:maj', 'E:maj', 'F:maj', 'F#:maj', 'G:maj', 'G#:maj', 'A:maj', 'A#:maj', 'B:maj'];
  const options = (size: readonly [number, number]) => ({ title: 'c', x: { label: 'estimated chord', ticks: labels.map((label, at) => ({ at, label })) }, y: { label: 'reference chord', ticks: [] }, colorbar: 'f', size });
  const matrix = labels.map(() => labels.map(() => 0.5));
  const crowded = heatmapSvg(matrix, options([300, 300]));
  assert.is([...crowded.matchAll(/<text [^>]*transform="rotate\(-45 /g)].length, 12, 'every x label turned');
  assert.equal(texts(crowded, 'x-axis'), [...labels, 'estimated chord']);
  const height = (svg: string): number => Number(svg.match(/height="(\d+)"/)![1]);
  const roomy = heatmapSvg(matrix, options([1200, 300]));
  assert.not.match(roomy, /rotate\(-45/, 'labels with room stay level');
  assert.ok(height(crowded) >= height(roomy) + 25, `the bottom margin grows (${height(crowded)} vs ${height(roomy)})`);
});

test('a title wider than the figure widens it and is centred on it; a short one stays over the plot', () => {
  const width = (svg: string): number => Number(svg.match(/width="(\d+)"/)![1]);
  const titleX = (svg: string): number => Number(svg.match(/<text class="title" x="([\d.]+)"/)![1]);
  const long = 'CNN on CQT patches (3 frames → conv 8 × 3×3 → 64 → 12): loss per epoch and a little more';
  const curve = (title: string) => curveSvg({ title, x: { label: 'epoch' }, y: { label: 'loss' }, series: [{ name: 'loss', points: [[1, 2], [2, 1]] }] });
  assert.is(width(curve('short')), 80 + 560 + 24);
  assert.is(titleX(curve('short')), 80 + 280, 'centred over the plot');
  assert.ok(width(curve(long)) >= 9 * long.length, `widened to ${width(curve(long))}`);
  assert.is(titleX(curve(long)), width(curve(long)) / 2);
  const heatmap = heatmapSvg([[0, 1]], { title: long, x: { label: 'x', ticks: [] }, y: { label: 'y', ticks: [] }, colorbar: 'c', size: [200, 100] });
  assert.ok(width(heatmap) >= 9 * long.length, 'heatmaps too');
});

test('ticks in the domain\'s units', () => {
  assert.equal([noteName(60), noteName(69), noteName(24), noteName(-1)], ['C4', 'A4', 'C1', 'B-2']);
  assert.is(noteOfFrequency(261.63), 'C4');
  assert.equal(cqtTicks(84, 36, 24).map((t) => [t.at, t.label]), [[0, 'C1'], [36, 'C2'], [72, 'C3']]);
  assert.equal(timeTicks(100, 0.05).map((t) => t.label), ['0', '1', '2', '3', '4', '5']);
});

test.run();
