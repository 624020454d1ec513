// The shipped rhythm front end (packages/music/models/rhythm: weights.npz, config.json
// and training.json), what `theorbo onsets|tempo|beats|mel|mfcc --model
// packages/music/models/rhythm` uses, and the function that trains it from
// shippedRhythmRecipe (rhythm-experiment.ts): synthesized tracks of seed 7's training and
// validation kits, fineTunedFrontEnd as the demo runs it, the hand-designed and the
// fine-tuned front end scored on the validation tracks into training.json. Everything is
// seeded, so the recipe on the same device gives the same weights (`pnpm train:rhythm`
// prints weights.npz's sha256). The demo scores it on its test split beside the front end
// it fine-tunes itself (with seed 7 only: another seed's test kits may be its training kits).
// Left out: recipes other than shippedRhythmRecipe and fineTuneDefaults from the command line.

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AcquiredDevice } from '@theorbo/codegen';
import { synthesizeRhythmDataset, type RhythmTrack } from '../data/rhythm-tracks.ts';
import { writeFileAtomic } from '../files/atomic-write.ts';
import { fineTuneDefaults } from './fine-tune.ts';
import { designedFrontEnd } from './front-end.ts';
import { evaluateFrontEnd, fineTunedFrontEnd, saveFrontEnd, shippedRhythmRecipe, withPower } from './rhythm-experiment.ts';

export const shippedRhythmDir = fileURLToPath(new URL('../../models/rhythm', import.meta.url));

/** Trains the shipped front end into `out` (weights.npz, config.json, training.json with the validation scores). */
export async function trainShippedFrontEnd(options: { out: string; device: AcquiredDevice; log?: (line: string) => void }): Promise<void> {
  const log = options.log ?? (() => {});
  const recipe = shippedRhythmRecipe;
  const started = performance.now();
  const tracks = synthesizeRhythmDataset({ seed: recipe.seed, tracks: recipe.tracks });
  const of = (split: RhythmTrack['split']): RhythmTrack[] => tracks.filter((track) => track.split === split);
  const [train, validation] = [withPower(of('train')), withPower(of('validation'))];
  log(`rhythm data: ${train.tracks.length} training and ${validation.tracks.length} validation tracks in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const { frontEnd, losses } = await fineTunedFrontEnd(train, validation, { seed: recipe.seed, device: options.device, maxSize: recipe.maxSize, log });
  const scores = [await evaluateFrontEnd('hand-designed', designedFrontEnd(), validation.tracks, validation.power, options.device), await evaluateFrontEnd('fine-tuned', frontEnd, validation.tracks, validation.power, options.device)];
  const percent = (value: number): number => Math.round(1000 * value) / 10;
  for (const row of scores) log(`validation, ${row.name}: onset F ${percent(row.onsetF)}, tempo P ${percent(row.tempoP)}, beat F ${percent(row.beatF)}`);
  await saveFrontEnd(options.out, frontEnd);
  const seconds = (performance.now() - started) / 1000;
  const record = {
    recipe, fineTune: fineTuneDefaults, device: options.device.describe().split('\n')[0], seconds: Math.round(seconds),
    validation: Object.fromEntries(scores.map((row) => [row.name, { onsetF: percent(row.onsetF), tempoP: percent(row.tempoP), beatF: percent(row.beatF) }])),
    settings: frontEnd.settings, losses,
  };
  writeFileAtomic(join(options.out, 'training.json'), `${JSON.stringify(record, null, 2)}\n`, { operation: 'trainShippedFrontEnd', createDirectory: true });
}
