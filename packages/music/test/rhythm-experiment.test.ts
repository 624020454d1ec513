// The rhythm experiment end to end at a tiny size (4 training and 3 test tracks of 12 s,
// one onset epoch, two activation and two tempo epochs, cpu device): three rows of mir_eval scores in [0, 1]
// (the third another front end's, here the designed one again, which must score as the first),
// the hand-designed row the same as the host's librosa peers give on those test tracks,
// a saved front end that loadFrontEnd reads back, and both rows in the demo's summary.md.
// The scores at this size say nothing about which front end is better; the demo reports
// them at its size.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import * as T from '@theorbo/graph';
import { writeReport } from '../src/model/report.ts';
import type { Scores } from '../src/model/evaluate.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireDevice, releaseDevices } from '@theorbo/codegen';
import { synthesizeRhythmDataset } from '../src/data/rhythm-tracks.ts';
import { onsetScores } from '../src/eval/index.ts';
import { designedFrontEnd, framesToTime, loadFrontEnd, onsetDetect, onsetStrengthHost, runRhythmExperiment } from '../src/rhythm/index.ts';

test('runRhythmExperiment: three rows of scores, the hand-designed one as the host peers score, a loadable model', async () => {
  const device = await acquireDevice({ prefer: 'cpu' });
  try {
    const modelDir = mkdtempSync(join(tmpdir(), 'theorbo-rhythm-experiment-'));
    const result = await runRhythmExperiment({ seed: 11, tracks: { train: 4, validation: 2, test: 3 }, device, epochs: { onset: 1, activation: 2, tempo: 2 }, modelDir, shipped: { name: 'the designed one again', frontEnd: designedFrontEnd() } });
    assert.is(result.rows.length, 3);
    assert.is(result.rows[2]!.name, 'shipped fine-tuned (the designed one again)');
    assert.equal([result.rows[2]!.onsetF, result.rows[2]!.tempoP, result.rows[2]!.beatF], [result.rows[0]!.onsetF, result.rows[0]!.tempoP, result.rows[0]!.beatF], 'the third row scores its front end as the first row does');
    assert.is(result.testTracks, 3);
    for (const row of result.rows) for (const value of [row.onsetF, row.tempoP, row.beatF]) assert.ok(value >= 0 && value <= 1, `${row.name}: ${value}`);
    const test = synthesizeRhythmDataset({ seed: 11, tracks: { test: 3 } });
    const hostOnsetF = test.reduce((sum, track) => sum + onsetScores(track.onsets, framesToTime(onsetDetect(onsetStrengthHost(track.audio).data))).fMeasure, 0) / test.length;
    assert.ok(Math.abs(result.rows[0]!.onsetF - hostOnsetF) <= 0.02, `hand-designed onset F ${result.rows[0]!.onsetF} vs the host peer's ${hostOnsetF}`);
    assert.is(loadFrontEnd(modelDir).candidates.bpm.length > 0, true);
    const rule = loadFrontEnd(modelDir).settings.secondTempo;
    assert.ok(rule && rule.splitBpm > 0 && rule.swingThreshold >= 0.5, `the saved front end keeps its learned second-tempo rule: ${JSON.stringify(rule)}`);

    // The demo's summary.md carries the two rows in its own table.
    const scores = { majmin: 0.5, root: 0.5, frameAccuracy: 0.5, confusion: [[1, 0], [0, 1]] } as unknown as Scores;
    const picture = T.array(new Float32Array(4), { shape: [2, 2] });
    const reportDir = mkdtempSync(join(tmpdir(), 'theorbo-rhythm-report-'));
    const summary = readFileSync(writeReport(reportDir, {
      device: 'test', seconds: 1, dataset: 'test', trainFrames: 1, testClips: 1, vocabulary: ['N', 'C:maj'], rhythm: result,
      models: [{ name: 'hand-designed chroma', template: scores, classifier: scores, weightsStart: picture, weightsEnd: picture, exampleChroma: picture }],
    }), 'utf8');
    assert.match(summary, /## Onsets, tempo and beats/);
    const percent = (value: number) => (100 * value).toFixed(1);
    for (const row of result.rows) assert.ok(summary.includes(`| ${row.name} | ${percent(row.onsetF)} | ${percent(row.tempoP)} | ${percent(row.beatF)} |`), `no row for ${row.name}`);
    // Figures: the first held-out track through each front end (its beats and the reference's), and the fine-tuning's losses.
    for (const [i, row] of result.rows.entries()) {
      assert.equal(Array.from(row.example!.reference.beats), Array.from(test[0]!.beats), `${row.name}: the example is the first test track`);
      assert.ok(summary.includes(`](rhythm-example-${i}.png)`), `no example figure for ${row.name}`);
      const svg = readFileSync(join(reportDir, `rhythm-example-${i}.svg`), 'utf8');
      for (const label of ['time (s)', 'onset strength', 'onsets', 'beats', 'reference beats']) assert.ok(svg.includes(`>${label}</text>`), `${row.name}'s figure lacks '${label}'`);
    }
    for (const file of ['rhythm-onset-loss', 'rhythm-activation-loss', 'rhythm-tempo-loss']) assert.ok(summary.includes(`](${file}.png)`) && existsSync(join(reportDir, `${file}.png`)), file);
  } finally {
    await releaseDevices();
  }
});

test.run();
