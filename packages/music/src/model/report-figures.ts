// The report's figures, each an SVG with a PNG rendered from it (plot/figure.ts), and the
// markdown that shows them with captions:
//  - CQT chroma weights [bins, 12] (hand-designed start, learned end): start, end and
//    end − start side by side on one diverging scale each, bins labelled with notes;
//  - a first layer on DFT bins [frequencies, units] (the talk's network): each unit's
//    weights as a spectrum, units sorted by the frequency of their largest weight and
//    labelled with its note, so harmonics show as rows of bright stripes;
//  - other weights (the CNN's kernels): rows × columns by index;
//  - a held-out clip's chromagram over seconds, and the confusion matrix over chord labels;
//  - a training run's loss per epoch (training and validation), written beside its weights.
// Left out: per-batch curves (train() keeps one record per epoch).

import { join } from 'node:path';
import type * as T from '@theorbo/graph';
import { cqtTicks, curveSvg, heatmapSvg, labelTicks, noteOfFrequency, pitchClassTicks, timeTicks, writeFigure, type CurveSeries, type Tick } from '../plot/index.ts';
import type { EpochRecord } from '../train/index.ts';
import { featureDefaults, type FeatureOptions } from './features.ts';

type Rows = number[][];

const rowsOf = (array: T.NDArray): Rows => {
  const [rowCount, ...rest] = array.shape.length === 1 ? [1, array.shape[0]!] : array.shape;
  const width = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: rowCount! }, (_, r) => Array.from(array.data.subarray(r * width, (r + 1) * width), Number));
};
const midiOf = (hz: number): number => 69 + 12 * Math.log2(hz / 440);
const figureLink = (file: string, caption: string): string => `![${caption}](${file}.png)`;

/** Writes the weight figures of one model into `dir`; returns the report's markdown for them. */
export function weightFigures(dir: string, name: string, modelName: string, start: T.NDArray, end: T.NDArray, feature: FeatureOptions = featureDefaults): string[] {
  const [startRows, endRows] = [rowsOf(start), rowsOf(end)];
  const difference = endRows.map((row, r) => row.map((value, c) => value - startRows[r]![c]!));
  const rowCount = startRows.length;
  const columnCount = startRows[0]!.length;
  const dftBins = feature.nFft / 2 + 1;
  if (rowCount === feature.nBins && columnCount === 12) {
    const y = { label: 'CQT bin (note)', ticks: cqtTicks(feature.nBins, feature.binsPerOctave, Math.round(midiOf(feature.fmin))) };
    const x = { label: 'pitch class', ticks: pitchClassTicks() };
    const chromaFigure = (suffix: string, what: string, rows: Rows): void => {
      writeFigure(join(dir, `${name}-weights-${suffix}`), heatmapSvg(rows, { title: `${modelName}: ${what}`, x, y, colorbar: 'weight', range: 'symmetric', size: [300, 420] }));
    };
    // A model that was not trained (the hand-designed chroma) has one picture, not three equal ones.
    if (difference.every((row) => row.every((value) => value === 0))) {
      chromaFigure('designed', 'the weights (not trained)', startRows);
      return [`Chroma weights W (CQT bin → pitch class), designed and not trained: ${figureLink(`${name}-weights-designed`, 'designed weights')}`, ''];
    }
    const panels: [string, string, Rows][] = [['start', 'start of training', startRows], ['end', 'end of training', endRows], ['difference', 'what training changed (end − start)', difference]];
    for (const [suffix, what, rows] of panels) chromaFigure(suffix, what, rows);
    return [
      `Chroma weights W (CQT bin → pitch class) at the start and the end of training, and what training changed (each on its own symmetric scale):`, '',
      '| start | end | end − start |', '| --- | --- | --- |',
      `| ${panels.map(([suffix, what]) => figureLink(`${name}-weights-${suffix}`, what)).join(' | ')} |`, '',
    ];
  }
  if (rowCount === dftBins) {
    const lines = ['First layer as the spectra its units respond to (weights over DFT frequency up to 4 kHz; units sorted by the frequency of their largest weight, labelled with its note): harmonic series show as stacked stripes.', ''];
    for (const [suffix, rows] of [['start', startRows], ['end', endRows]] as const) {
      writeFigure(join(dir, `${name}-weights-${suffix}`), spectraSvg(rows, feature, `${modelName}: first layer, ${suffix === 'start' ? 'start of training (random)' : 'end of training'}`));
      lines.push(figureLink(`${name}-weights-${suffix}`, `first layer, ${suffix}`));
    }
    return [...lines, ''];
  }
  const index = (count: number): Tick[] => labelTicks(Array.from({ length: count }, (_, i) => String(i)), Math.max(1, Math.ceil(count / 10)));
  for (const [suffix, rows] of [['start', startRows], ['end', endRows]] as const) {
    writeFigure(join(dir, `${name}-weights-${suffix}`), heatmapSvg(rows, { title: `${modelName}: weights, ${suffix} of training [${start.shape.join(' × ')}]`, x: { label: 'input (flattened)', ticks: index(columnCount) }, y: { label: 'output', ticks: index(rowCount) }, colorbar: 'weight', range: 'symmetric', origin: 'upper' }));
  }
  return [`Weights [${start.shape.join(' × ')}], start and end of training: ${figureLink(`${name}-weights-start`, 'start')} ${figureLink(`${name}-weights-end`, 'end')}`, ''];
}

/** Units' weights over frequency [dftBins, units] as spectra, sorted by peak frequency. */
function spectraSvg(rows: Rows, feature: FeatureOptions, title: string): string {
  const hzPerBin = feature.sampleRate / feature.nFft;
  const shown = Math.min(rows.length, Math.floor(4000 / hzPerBin) + 1);
  const units = rows[0]!.length;
  const peak = Array.from({ length: units }, (_, u) => {
    let best = 1;
    for (let k = 1; k < shown; k++) if (rows[k]![u]! > rows[best]![u]!) best = k;
    return best;
  });
  const order = Array.from({ length: units }, (_, u) => u).sort((a, b) => peak[a]! - peak[b]!);
  const sorted = Array.from({ length: shown }, (_, k) => order.map((u) => rows[k]![u]!));
  const every = Math.max(1, Math.ceil(units / 12));
  const xTicks = order.flatMap((u, i) => (i % every === 0 ? [{ at: i, label: noteOfFrequency(peak[u]! * hzPerBin) }] : []));
  const yTicks = [110, 220, 440, 880, 1760, 3520].filter((hz) => hz / hzPerBin < shown).map((hz) => ({ at: hz / hzPerBin, label: `${hz} (${noteOfFrequency(hz)})` }));
  return heatmapSvg(sorted, { title, x: { label: 'unit, sorted by peak frequency (note of its peak)', ticks: xTicks }, y: { label: 'frequency (Hz)', ticks: yTicks }, colorbar: 'weight', range: 'symmetric', size: [640, 420] });
}

/** A held-out clip's chromagram [frames, 12] over seconds. */
export function chromagramFigure(dir: string, name: string, modelName: string, chroma: T.NDArray, feature: FeatureOptions = featureDefaults): string[] {
  const frames = chroma.shape[0]!;
  const byPitchClass = Array.from({ length: 12 }, (_, k) => Array.from({ length: frames }, (_, f) => chroma.data[f * 12 + k]!));
  writeFigure(join(dir, `${name}-chromagram`), heatmapSvg(byPitchClass, { title: `${modelName}: chromagram of a held-out clip`, x: { label: 'time (s)', ticks: timeTicks(frames, feature.hop / feature.sampleRate) }, y: { label: 'pitch class', ticks: pitchClassTicks() }, colorbar: 'model output' }));
  return [`Chromagram of a held-out clip: ${figureLink(`${name}-chromagram`, 'chromagram')}`, ''];
}

/** The confusion matrix, rows normalized: the fraction of each reference chord's frames given each label. */
export function confusionFigure(dir: string, modelName: string, fractions: Rows, vocabulary: readonly string[]): string[] {
  const ticks = labelTicks(vocabulary, vocabulary.length > 30 ? 4 : 2);
  writeFigure(join(dir, 'confusion'), heatmapSvg(fractions, { title: `Confusion matrix: ${modelName}, classifier`, x: { label: 'estimated chord', ticks }, y: { label: 'reference chord', ticks }, colorbar: 'fraction of the reference\'s frames', range: [0, 1], origin: 'upper', size: [420, 420] }));
  return [`### Confusion matrix (${modelName}, classifier)`, '', 'Rows: the reference chord; columns: the estimate; each row sums to 1.', '', figureLink('confusion', 'confusion matrix'), ''];
}

/**
 * One array's figure at `<prefix>.svg` and `.png` (theorbo plot): CQT chroma weights with
 * notes and pitch classes, a DFT first layer as sorted spectra, anything else by index.
 */
export function arrayFigure(prefix: string, title: string, array: T.NDArray, feature: FeatureOptions = featureDefaults): void {
  const rows = rowsOf(array);
  const [rowCount, columnCount] = [rows.length, rows[0]!.length];
  if (rowCount === feature.nBins && columnCount === 12) {
    writeFigure(prefix, heatmapSvg(rows, { title, x: { label: 'pitch class', ticks: pitchClassTicks() }, y: { label: 'CQT bin (note)', ticks: cqtTicks(feature.nBins, feature.binsPerOctave, Math.round(midiOf(feature.fmin))) }, colorbar: 'weight', range: 'symmetric', size: [300, 420] }));
  } else if (rowCount === feature.nFft / 2 + 1) {
    writeFigure(prefix, spectraSvg(rows, feature, title));
  } else {
    const index = (count: number): Tick[] => labelTicks(Array.from({ length: count }, (_, i) => String(i)), Math.max(1, Math.ceil(count / 10)));
    writeFigure(prefix, heatmapSvg(rows, { title, x: { label: 'column', ticks: index(columnCount) }, y: { label: 'row', ticks: index(rowCount) }, colorbar: 'value', range: 'symmetric', origin: 'upper' }));
  }
}

/**
 * A training run's loss per epoch at `<dir>/loss.svg` and `.png`: the mean over the epoch's
 * training batches and, when the run had validation data, the validation loss (two series
 * and a legend). Returns the prefix written, or undefined for a run of no epochs.
 */
export function lossCurveFigure(dir: string, modelName: string, history: readonly EpochRecord[]): string | undefined {
  if (history.length === 0) return undefined;
  const series: CurveSeries[] = [{ name: 'training loss', points: history.map((record) => [record.epoch, record.train.loss!] as const) }];
  const validated = history.filter((record) => record.validation?.loss !== undefined);
  if (validated.length > 0) series.push({ name: 'validation loss', points: validated.map((record) => [record.epoch, record.validation!.loss!] as const) });
  const prefix = join(dir, 'loss');
  writeFigure(prefix, curveSvg({ title: `${modelName}: loss per epoch`, x: { label: 'epoch', integer: true }, y: { label: 'loss' }, series }));
  return prefix;
}
