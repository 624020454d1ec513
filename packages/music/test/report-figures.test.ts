// The report's figures from weights of each kind: CQT chroma weights (designed, learned,
// difference), a first layer on DFT bins as spectra sorted by peak frequency with note
// names, other weights by index; a chromagram over seconds; the confusion matrix over
// chord labels. Each is an SVG with its title, axis labels and colour bar, and a PNG.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as T from '@theorbo/graph';
import { chromaMatrix } from '../src/signal/index.ts';
import { featureDefaults } from '../src/model/features.ts';
import { chromagramFigure, confusionFigure, weightFigures } from '../src/model/report-figures.ts';

const dir = process.env.THEORBO_KEEP_FIGURES ?? mkdtempSync(join(tmpdir(), 'theorbo-report-figures-'));
test.after(() => { if (!process.env.THEORBO_KEEP_FIGURES) rmSync(dir, { recursive: true, force: true }); });
const svgOf = (name: string): string => readFileSync(join(dir, `${name}.svg`), 'utf8');
const textsOf = (svg: string): string[] => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
const random = (seed: number) => () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;

test('chroma weights: designed, learned and their difference, bins named by note', () => {
  const designed = chromaMatrix({ nBins: 84, binsPerOctave: 12, fmin: featureDefaults.fmin });
  const draw = random(1);
  const learned = T.array(Float32Array.from(designed.data, (v) => v + 0.2 * draw()), { shape: designed.shape });
  const markdown = weightFigures(dir, 'learned', 'Learned chroma', designed, learned).join('\n');
  for (const part of ['start', 'end', 'difference']) {
    assert.ok(markdown.includes(`learned-weights-${part}.png`), markdown);
    assert.ok(existsSync(join(dir, `learned-weights-${part}.png`)));
    const texts = textsOf(svgOf(`learned-weights-${part}`));
    for (const label of ['C1', 'C4', 'C7', 'CQT bin (note)', 'C', 'F#', 'B', 'pitch class', 'weight']) assert.ok(texts.includes(label), `${part} lacks '${label}': ${texts.join('|')}`);
  }
  assert.match(textsOf(svgOf('learned-weights-difference'))[0]!, /what training changed \(end − start\)/);
  // Weights that training did not change (the hand-designed chroma): one picture, said so.
  const untrained = weightFigures(dir, 'hand', 'Hand-designed', designed, designed).join('\n');
  assert.match(untrained, /designed and not trained: !\[designed weights\]\(hand-weights-designed\.png\)/);
  assert.not.ok(existsSync(join(dir, 'hand-weights-end.png')) || existsSync(join(dir, 'hand-weights-difference.png')), 'no equal start and end pictures');
});

test('a first layer on DFT bins is drawn as spectra sorted by peak frequency, named by note', () => {
  const bins = featureDefaults.nFft / 2 + 1;
  const hzPerBin = featureDefaults.sampleRate / featureDefaults.nFft;
  const peaks = [880, 220, 440]; // unit u responds to the harmonics of peaks[u] (Hz)
  const data = new Float32Array(bins * peaks.length);
  peaks.forEach((hz, u) => { for (let h = 1; h <= 3; h++) data[Math.round((h * hz) / hzPerBin) * peaks.length + u] = 1 / h; });
  const layer = T.array(data, { shape: [bins, peaks.length] });
  weightFigures(dir, 'network', 'Network', layer, layer);
  const svg = svgOf('network-weights-end');
  const xTicks = textsOf(svg.match(/<g class="x-axis">[\s\S]*?<\/g>/)![0]);
  assert.equal(xTicks.slice(0, 3), ['A3', 'A4', 'A5'], 'units sorted by the note of their peak');
  assert.ok(textsOf(svg).includes('440 (A4)') && textsOf(svg).includes('frequency (Hz)'));
});

test('other weights by index; chromagram over seconds; confusion over chord labels', () => {
  const kernel = T.array(Float32Array.from({ length: 8 * 9 }, (_, i) => Math.sin(i)), { shape: [8, 1, 3, 3] });
  weightFigures(dir, 'cnn', 'CNN', kernel, kernel);
  assert.match(svgOf('cnn-weights-end'), /CNN: weights, end of training \[8 × 1 × 3 × 3\]/);
  const chroma = T.array(Float32Array.from({ length: 100 * 12 }, (_, i) => (i % 12 === 0 ? 1 : 0.1)), { shape: [100, 12] });
  chromagramFigure(dir, 'hand', 'Hand-designed', chroma);
  const texts = textsOf(svgOf('hand-chromagram'));
  for (const label of ['time (s)', '0', '1', '2', 'pitch class', 'C', 'B', 'model output']) assert.ok(texts.includes(label), `chromagram lacks '${label}'`);
  const vocabulary = ['C:maj', 'C#:maj', 'D:maj', 'N'];
  confusionFigure(dir, 'CNN', vocabulary.map((_, r) => vocabulary.map((__, c) => (r === c ? 0.75 : 0.25 / 3))), vocabulary);
  const confusion = textsOf(svgOf('confusion'));
  for (const label of ['C:maj', 'D:maj', 'estimated chord', 'reference chord', '0', '1.00']) assert.ok(confusion.includes(label), `confusion lacks '${label}': ${confusion.join('|')}`);
});

test.run();
