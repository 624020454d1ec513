// The report folder of an experiment: summary.md with the table of results (weighted
// chord symbol recall, majmin and root, and frame accuracy, for template matching and
// for the classifier), and the pictures the talk shows — weights at the start and the
// end of training, a chromagram of a held-out clip per model, the confusion matrix, as
// SVG figures with PNGs beside them (report-figures.ts), and each trained model's loss
// curve, which lies beside its weights in models/<kind>/; then the shipped chord model's
// vocabulary, decoding and robustness tables (shipped-report.ts) when the experiment made them.

import { join } from 'node:path';
import type * as T from '@theorbo/graph';
import { writeFileAtomic } from '../files/atomic-write.ts';
import { chromagramFigure, confusionFigure, weightFigures } from './report-figures.ts';
import { curveSvg, onsetFigureSvg, writeFigure } from '../plot/index.ts';
import { signalDefaults } from '../signal/index.ts';
import type { Scores } from './evaluate.ts';
import type { RhythmExperimentResult } from '../rhythm/rhythm-experiment.ts';

export interface ModelReport {
  name: string;
  template: Scores;
  classifier: Scores;
  weightsStart: T.NDArray;
  weightsEnd: T.NDArray;
  exampleChroma: T.NDArray;
  /** The run's loss curve (`<prefix>.svg`, `.png`), relative to the report's folder; none for the hand-designed chroma. */
  lossCurve?: string;
}

export interface ReportContent {
  device: string;
  seconds: number;
  dataset: string;
  trainFrames: number;
  testClips: number;
  models: ModelReport[];
  vocabulary: readonly string[];
  /** The shipped chord model's section (shipped-report.ts: vocabulary, decoding and robustness tables), when the experiment made it. */
  shippedModel?: readonly string[];
  /** The rhythm front ends' rows (rhythm/rhythm-experiment.ts), when the experiment ran them. */
  rhythm?: RhythmExperimentResult;
}

const percent = (value: number): string => `${(100 * value).toFixed(1)}`;
const slug = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

/** Writes summary.md and the figures (SVG and PNG) into `dir`; returns the summary's path. */
export function writeReport(dir: string, content: ReportContent): string {
  const lines = [
    '# Learned chroma versus hand-designed chroma',
    '',
    `Device: ${content.device}. Run time: ${content.seconds.toFixed(0)} s. Training frames: ${content.trainFrames}; held-out test clips: ${content.testClips} (instruments and voicings never seen in training).`,
    '',
    'Weighted chord symbol recall (MIREX style, duration-weighted over clips) after a 9-frame median filter, and frame accuracy, in percent:',
    '',
    '| features | templates: majmin | templates: root | templates: frames | classifier: majmin | classifier: root | classifier: frames |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...content.models.map((model) => `| ${model.name} | ${percent(model.template.majmin)} | ${percent(model.template.root)} | ${percent(model.template.frameAccuracy)} | ${percent(model.classifier.majmin)} | ${percent(model.classifier.root)} | ${percent(model.classifier.frameAccuracy)} |`),
    '',
    'Template matching picks the nearest of the 25 binary templates (24 triads and the all-zero no-chord) in Euclidean distance; the classifier is a softmax layer (12 → 25) trained on each model\'s outputs for the training frames.',
    '',
    ...(content.shippedModel ?? []),
    ...(content.rhythm ? rhythmTable(dir, content.rhythm) : []),
    '## Pictures',
    '',
  ];
  for (const model of content.models) {
    const name = slug(model.name);
    lines.push(`### ${model.name}`, '', ...weightFigures(dir, name, model.name, model.weightsStart, model.weightsEnd), ...chromagramFigure(dir, name, model.name, model.exampleChroma));
    if (model.lossCurve !== undefined) lines.push(`Loss per epoch, training batches and validation set (early stopping watches the validation loss): ![loss curve of ${model.name}](${model.lossCurve}.png)`, '');
  }
  const best = [...content.models].sort((a, b) => b.classifier.majmin - a.classifier.majmin)[0]!;
  lines.push(...confusionFigure(dir, best.name, normalizeRows(best.classifier.confusion), content.vocabulary));
  lines.push('## Data', '', '```', content.dataset, '```', '');
  const path = join(dir, 'summary.md');
  writeFileAtomic(path, `${lines.join('\n')}\n`, { operation: 'writeReport' });
  return path;
}

function rhythmTable(dir: string, rhythm: RhythmExperimentResult): string[] {
  return [
    `## Onsets, tempo and beats`,
    '',
    `Synthesized tracks (clicks, additive drum kits and instruments, General MIDI drum sets and programs by FluidSynth; 70–180 BPM, swing, rubato): ${rhythm.trainTracks} for training, ${rhythm.validationTracks} for validation (the fine-tuned peak-picking threshold), ${rhythm.testTracks} for test, which chooses nothing (kits and patterns of each split never heard in another); mir_eval's definitions (tempo: two tempi with salience), mean over the test tracks, in percent (${rhythm.seconds.toFixed(0)} s):`,
    '',
    '| front end | onset F (50 ms) | tempo P-score (8%) | beat F (70 ms) |',
    '| --- | ---: | ---: | ---: |',
    ...rhythm.rows.map((row) => `| ${row.name} | ${percent(row.onsetF)} | ${percent(row.tempoP)} | ${percent(row.beatF)} |`),
    '',
    'The tempo reference is the track\'s quarter-note tempo and the neighbouring metrical level nearer 120 BPM, each with its salience; the estimate is the front end\'s two tempi. The fine-tuned front end starts as the hand-designed one exactly and learns an activation network (one hidden layer on pooled decibel mel bands over ±4 frames) whose onset and beat outputs are added to the onset and beat envelopes (frame-wise cross-entropy against the labelled onsets and beats), then smooth band weights for the beat envelope through the tempogram (cross-entropy on the sharpened tempo scores); its peak-picking threshold is chosen on the validation tracks. Peak picking and the beat tracker are the same host code for every row.',
    '',
    ...rhythmFigures(dir, rhythm),
  ];
}

/** The first held-out track as each front end saw it, and the fine-tuning's losses per epoch. */
function rhythmFigures(dir: string, rhythm: RhythmExperimentResult): string[] {
  const timing = { sampleRate: signalDefaults.sampleRate, hop: signalDefaults.hop };
  const lines: string[] = [];
  rhythm.rows.forEach((row, i) => {
    if (row.example === undefined) return;
    const { envelope, onsets, beats, bpm, reference } = row.example;
    const file = `rhythm-example-${i}`;
    writeFigure(join(dir, file), onsetFigureSvg(envelope, timing, { title: `${row.name.replace(/ \(.*$/, '')} front end: ${bpm.toFixed(1)} BPM (reference ${reference.bpm.toFixed(1)})`, onsets, beats, referenceBeats: reference.beats }));
    lines.push(`The first held-out track through the ${row.name.replace(/ \(.*$/, '')} front end: its onset strength, the onsets picked from it, the beats tracked on it and the track's own beats: ![${row.name}: onsets and beats](${file}.png)`, '');
  });
  const curves: [string, string, number[]][] = [['rhythm-onset-loss', 'onset loss', rhythm.losses.onsetLoss], ['rhythm-activation-loss', 'activation loss (onset + beat cross-entropy)', rhythm.losses.activationLoss], ['rhythm-tempo-loss', 'tempo loss (cross-entropy)', rhythm.losses.tempoLoss]];
  const drawn = curves.filter(([, , values]) => values.length > 0);
  for (const [file, what, values] of drawn) writeFigure(join(dir, file), curveSvg({ title: `Fine-tuning the rhythm front end: ${what}`, x: { label: 'epoch', integer: true }, y: { label: what }, series: [{ name: what, points: values.map((value, epoch) => [epoch + 1, value] as const) }], size: [420, 240] }));
  if (drawn.length > 0) lines.push(`Fine-tuning, loss per epoch on the training tracks: ${drawn.map(([file, what]) => `![${what}](${file}.png)`).join(' ')}`, '');
  return lines;
}

function normalizeRows(counts: number[][]): number[][] {
  return counts.map((row) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((v) => (total > 0 ? v / total : 0));
  });
}
