// The second tempo's learned octave (rhythm/second-tempo.ts): the beat-phase histogram on
// a hand-worked envelope, the swing comb on exact and on synthesized swung and straight
// click tracks, the rule, its fit on examples annotated as data/rhythm-tracks.ts does, a
// front end that carries a rule through frontEndOutputs and a saved model folder, and a
// config whose rule is malformed refused with the file and the field.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NDArray } from '@theorbo/graph';
import { acquireDevice, releaseDevices } from '@theorbo/codegen';
import { referenceTempi, synthesizeRhythmDataset } from '../src/data/rhythm-tracks.ts';
import { tempoPScore } from '../src/eval/rhythm.ts';
import { FileFormatError } from '../src/files/file-format-error.ts';
import {
  beatPhases, designedFrontEnd, estimateSwing, fitSecondTempoRule, frontEndOutputs, loadFrontEnd, onsetStrengthHost, saveFrontEnd, secondTempo, trackPower, trackSwing,
} from '../src/rhythm/index.ts';
import { stackRows } from '../src/rhythm/fine-tune.ts';

test('beatPhases: each frame between beats at its phase, weighted by its value; frames past the last beat left out', () => {
  const envelope = [1, 0, 2, 0, 1, 0, 2, 0, 5, 5];
  const folded = beatPhases(envelope, [0, 4, 8]);
  assert.equal(Array.from(folded.phase), [0, 0.5, 0, 0.5]);
  assert.equal(Array.from(folded.weight), [1 / 6, 2 / 6, 1 / 6, 2 / 6]);
  assert.equal(Array.from(beatPhases(envelope, [3]).phase), [], 'one beat: nothing folded');
  assert.equal(Array.from(beatPhases(envelope, [0, 4, 12]).phase), [0, 0.5, 0, 0.25, 0.5, 0.625], 'a last beat past the end folds the frames there are');
});

/** Impulses at beat phases 0, s/2, s and (1 + s)/2 of beats every `period` frames. */
function swungEnvelope(swing: number, period = 40, beats = 20): { envelope: Float64Array; beats: Int32Array } {
  const envelope = new Float64Array(period * beats + 1);
  for (let k = 0; k < beats; k++) for (const phase of [0, swing / 2, swing, (1 + swing) / 2]) envelope[k * period + Math.round(phase * period)] = phase === 0 ? 2 : 1;
  return { envelope, beats: Int32Array.from({ length: beats + 1 }, (_, k) => k * period) };
}

test('estimateSwing: the comb finds the off-beat eighth of exact swung and straight envelopes; quarter notes alone, or nothing, read straight', () => {
  for (const swing of [0.5, 0.55, 0.6, 0.65]) {
    const { envelope, beats } = swungEnvelope(swing);
    const estimate = estimateSwing(beatPhases(envelope, beats));
    assert.ok(Math.abs(estimate - swing) <= 0.0025 + 1e-9, `swing ${swing}: estimated ${estimate}`);
  }
  // Beats only, each with a small rise just before it (phase 0.9–1): no off-beat eighth to be swung.
  const quarters = new Float64Array(601);
  for (let k = 0; k < 20; k++) {
    quarters[k * 30] = 1;
    if (k > 0) for (const d of [1, 2, 3]) quarters[k * 30 - d] = 0.05 / d;
  }
  assert.is(estimateSwing(beatPhases(quarters, Int32Array.from({ length: 21 }, (_, k) => k * 30))), 0.5);
  assert.is(estimateSwing({ phase: [], weight: [] }), 0.5);
});

test('trackSwing: near the drawn swing on synthesized click tracks, swung and straight (hand-designed envelope, beats at the labelled tempo)', () => {
  const tracks = synthesizeRhythmDataset({ seed: 7, tracks: { train: 12 }, kinds: ['click'] });
  const swung = tracks.filter((track) => track.swing > 0.5).length;
  assert.ok(swung >= 2 && swung <= tracks.length - 2, `${swung} of ${tracks.length} swung: the test needs both kinds`);
  let error = 0;
  for (const track of tracks) {
    const envelope = onsetStrengthHost(track.audio).data;
    const estimate = trackSwing(envelope, envelope, track.bpm);
    // Frames are 23 ms: a straight eighth at 137 BPM lies 9.4 frames after its beat, and the comb reads it as late as 0.5525.
    assert.ok(Math.abs(estimate - track.swing) <= 0.055, `${track.kit} at ${track.bpm.toFixed(1)} BPM, swing ${track.swing.toFixed(3)}: estimated ${estimate}`);
    error += Math.abs(estimate - track.swing) / tracks.length;
  }
  assert.ok(error <= 0.015, `mean error ${error}`);
});

test('secondTempo: the half from splitBpm up or above the swing threshold, else the double', () => {
  const rule = { splitBpm: 120, swingThreshold: 0.55 };
  assert.is(secondTempo(130, 0.5, rule), 65);
  assert.is(secondTempo(120, 0.5, rule), 60);
  assert.is(secondTempo(100, 0.5, rule), 200);
  assert.is(secondTempo(100, 0.6, rule), 50);
  assert.is(secondTempo(100, 0.55, rule), 200);
});

test('fitSecondTempoRule: learns a rule that gets every example annotated as the data is (listeners near 120 BPM, swung eighths never tapped)', () => {
  const examples = [80, 95, 110, 130, 150, 170].flatMap((bpm) => [0.5, 0.58, 0.62].map((swing) => {
    const { tempi, salience } = referenceTempi(bpm, swing);
    return { first: bpm, swing, tempi, salience };
  }));
  const { rule, pScore } = fitSecondTempoRule(examples);
  assert.is(pScore, 1);
  // Every split in (110, 130] and every threshold in [0.5, 0.58) get them all: the split nearest 120 BPM, the middle threshold of 0.5 … 0.5775.
  assert.equal(rule, { splitBpm: 120, swingThreshold: 0.5375 });
  const mean = (splitBpm: number, swingThreshold: number) => examples.reduce((sum, e) => sum + tempoPScore(e.tempi, e.salience, [e.first, secondTempo(e.first, e.swing, { splitBpm, swingThreshold })]).pScore, 0) / examples.length;
  assert.ok(mean(120, 0.99) < 1 && mean(60, 0.5) < 1, 'a rule that ignores the swing, or the tempo, misses some: the fit has something to learn');
  assert.throws(() => fitSecondTempoRule([]), /at least one/);
});

test('a front end with a rule: frontEndOutputs gives its second tempo, and a saved folder keeps the rule; a malformed rule is a FileFormatError', async () => {
  const device = await acquireDevice({ prefer: 'cpu' });
  try {
    const tracks = synthesizeRhythmDataset({ seed: 7, tracks: { validation: 3 } });
    const power = stackRows(tracks.map((track) => trackPower(track.audio)));
    const frontEnd = designedFrontEnd();
    const designed = await frontEndOutputs(frontEnd, power, device);
    const frames = designed.onsets.shape[1]!;
    const row = (array: NDArray, i: number) => array.data.subarray(i * frames, (i + 1) * frames);
    const swings = tracks.map((_, i) => trackSwing(row(designed.onsets, i), row(designed.beats, i), designed.tempi[i]![0]));
    const [low, high] = [Math.min(...swings), Math.max(...swings)];
    assert.ok(high - low > 0.02, `swings ${swings.join(', ')}: the test needs a swung and a straight track`);
    for (const swingThreshold of [low - 0.001, (low + high) / 2, high + 0.001]) {
      frontEnd.settings.secondTempo = { splitBpm: 999, swingThreshold };
      const outputs = await frontEndOutputs(frontEnd, power, device);
      outputs.tempi.forEach(([first, second], i) => {
        assert.is(first, designed.tempi[i]![0], 'the rule leaves the first tempo');
        assert.is(second, swings[i]! > swingThreshold ? first / 2 : 2 * first, `track ${i}, swing ${swings[i]}, threshold ${swingThreshold}`);
      });
    }
    frontEnd.settings.secondTempo = { splitBpm: 1, swingThreshold: 0.99 };
    (await frontEndOutputs(frontEnd, power, device)).tempi.forEach(([first, second]) => assert.is(second, first / 2, 'from splitBpm up, the half'));
    const dir = mkdtempSync(join(tmpdir(), 'theorbo-second-tempo-'));
    frontEnd.settings.secondTempo = { splitBpm: 117.5, swingThreshold: 0.5525 };
    await saveFrontEnd(dir, frontEnd);
    assert.equal(loadFrontEnd(dir).settings.secondTempo, { splitBpm: 117.5, swingThreshold: 0.5525 });
    const configPath = join(dir, 'config.json');
    const config = JSON.parse(readFileSync(configPath, 'utf8'));
    for (const [bad, field] of [[{ splitBpm: -1, swingThreshold: 0.55 }, 'splitBpm'], [{ splitBpm: 120 }, 'swingThreshold'], [{ splitBpm: 120, swingThreshold: 1.5 }, 'swingThreshold'], ['half', '']] as const) {
      writeFileSync(configPath, JSON.stringify({ ...config, config: { ...config.config, secondTempo: bad } }));
      let caught: unknown;
      try {
        loadFrontEnd(dir);
      } catch (error) {
        caught = error;
      }
      assert.instance(caught, FileFormatError, `secondTempo ${JSON.stringify(bad)} was accepted`);
      assert.match((caught as Error).message, configPath);
      assert.match((caught as Error).message, field ? `config.secondTempo.${field}` : 'config.secondTempo');
    }
  } finally {
    await releaseDevices();
  }
});

test.run();
