// The shipped rhythm front end (packages/music/models/rhythm, `pnpm train:rhythm`): it
// loads, its activation network is trained (the output layer is no longer zero), its
// training.json names the recipe it came from, and on five held-out tracks of seed 7's
// test split (one of each kit kind, kits never heard in training) it scores above the
// hand-designed front end on onset F and beat F, through the same evaluation the demo
// uses. cpu device.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquireDevice, releaseDevices } from '@theorbo/codegen';
import { synthesizeRhythmDataset } from '../src/data/rhythm-tracks.ts';
import { designedFrontEnd, fineTuneDefaults, loadFrontEnd, stackRows, trackPower } from '../src/rhythm/index.ts';
import { evaluateFrontEnd, shippedRhythmRecipe } from '../src/rhythm/rhythm-experiment.ts';
import { shippedRhythmDir } from '../src/rhythm/shipped-front-end.ts';

test('the shipped rhythm front end loads, is trained, and beats the hand-designed one on held-out tracks', async () => {
  const shipped = loadFrontEnd(shippedRhythmDir);
  assert.ok(shipped.activationOut.get().data.some((value) => value !== 0), 'the activation network\'s output layer is still zero');
  const record = JSON.parse(readFileSync(join(shippedRhythmDir, 'training.json'), 'utf8'));
  assert.equal(record.recipe, JSON.parse(JSON.stringify(shippedRhythmRecipe)), 'the recipe changed since the shipped front end was trained: pnpm train:rhythm');
  assert.equal(record.fineTune, JSON.parse(JSON.stringify(fineTuneDefaults)), 'fineTuneDefaults changed since the shipped front end was trained: pnpm train:rhythm');
  const tracks = synthesizeRhythmDataset({ seed: shippedRhythmRecipe.seed, tracks: { test: 5 } });
  assert.equal(tracks.map((track) => track.kit.replace(/-\d+$/, '')).sort(), ['click', 'drums', 'gm-drums', 'gm-melodic', 'melodic']);
  const device = await acquireDevice({ prefer: 'cpu' });
  try {
    const power = stackRows(tracks.map((track) => trackPower(track.audio)));
    const hand = await evaluateFrontEnd('hand', designedFrontEnd(), tracks, power, device);
    const tuned = await evaluateFrontEnd('shipped', shipped, tracks, power, device);
    const show = (row: typeof hand) => `${(100 * row.onsetF).toFixed(1)} / ${(100 * row.tempoP).toFixed(1)} / ${(100 * row.beatF).toFixed(1)}`;
    console.log(`  five held-out tracks, onset F / tempo P / beat F: hand-designed ${show(hand)}, shipped ${show(tuned)}`);
    assert.ok(tuned.onsetF > hand.onsetF, `onset F: shipped ${tuned.onsetF} vs hand-designed ${hand.onsetF}`);
    assert.ok(tuned.beatF > hand.beatF, `beat F: shipped ${tuned.beatF} vs hand-designed ${hand.beatF}`);
  } finally {
    await releaseDevices();
  }
});

test.run();
