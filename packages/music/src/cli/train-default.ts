// `pnpm train:default`: retrains the shipped chord model (model/default-model.ts) into
// packages/music/models/default, or into --out. On the cpu device by default, which is
// where the shipped weights were made: the same recipe there gives the same weights
// (sha256 of weights.npz printed at the end to compare runs).
// Left out: changing the rest of the recipe from the command line (edit defaultModelRecipe).

import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { sha256 } from '@noble/hashes/sha2.js';
import { acquireDevice, deviceKinds, type DeviceKind } from '@theorbo/codegen';
import { defaultModelDir, defaultModelRecipe, trainDefaultModel } from '../model/default-model.ts';
import { epochsFlag, oneOf, wholeNumber } from './flags.ts';
import { vocabularyNames, type VocabularyName } from '../chords/vocabularies.ts';

const program = new Command('train-default').description('retrain the shipped chord model (packages/music/models/default)')
  .option('--out <dir>', 'where the model goes', defaultModelDir)
  .option('--device <kind>', 'gpu, cpu, cpu-webgpu or reference (the shipped weights: cpu)', oneOf(deviceKinds), 'cpu')
  .option('--epochs <n>', `at most this many epochs (the recipe: ${defaultModelRecipe.epochs})`, epochsFlag)
  .option('--vocab <name>', `the classes to learn, majmin, sevenths or full (+ dim, aug, sus2, sus4, maj6, min6) (the recipe: ${defaultModelRecipe.vocab})`, oneOf(vocabularyNames))
  .option('--augmented-copies <n>', `degraded copies of each training clip (the recipe: ${defaultModelRecipe.augmentedCopies}; 0 trains on clean audio only)`, wholeNumber(0, 16))
  .option('--triad-clips <n>', `clips per source of the triad data set whose training split is added (the recipe: ${defaultModelRecipe.triadClips}; not with --vocab majmin)`, wholeNumber(0, 1000))
  .option('--textured-clips <n>', `clips per source of a data set with strummed and arpeggiated chords, melody and drums, whose training and validation splits are added (the recipe: ${defaultModelRecipe.texturedClips})`, wholeNumber(0, 1000))
  .option('--radius <frames>', `frames of context on each side of the CNN's patch (the recipe: ${defaultModelRecipe.cnn.radius})`, wholeNumber(0, 16))
  .option('--pool-time <frames>', 'max-pool the convolution\'s output over this many frames (the recipe: none)', wholeNumber(1, 33))
  .option('--quiet', 'no progress display');
const options = program.parse(process.argv).opts<{ out: string; device: DeviceKind; epochs?: number; vocab?: VocabularyName; augmentedCopies?: number; triadClips?: number; texturedClips?: number; radius?: number; poolTime?: number; quiet?: boolean }>();
const device = await acquireDevice({ prefer: options.device });
console.log(`device: ${device.describe().split('\n')[0]}`);
const started = performance.now();
await trainDefaultModel({ out: options.out, device, recipe: { ...defaultModelRecipe, epochs: options.epochs ?? defaultModelRecipe.epochs, vocab: options.vocab ?? defaultModelRecipe.vocab, augmentedCopies: options.augmentedCopies ?? defaultModelRecipe.augmentedCopies, triadClips: options.triadClips ?? defaultModelRecipe.triadClips, texturedClips: options.texturedClips ?? defaultModelRecipe.texturedClips, cnn: { ...defaultModelRecipe.cnn, radius: options.radius ?? defaultModelRecipe.cnn.radius, ...(options.poolTime === undefined ? {} : { convolutions: defaultModelRecipe.cnn.convolutions.map((layer) => ({ ...layer, pool: [options.poolTime!, 1] as [number, number] })) }) } }, log: (line) => console.log(line), progress: !options.quiet && process.stderr.isTTY === true });
const digest = Array.from(sha256(readFileSync(`${options.out}/weights.npz`)), (byte) => byte.toString(16).padStart(2, '0')).join('');
console.log(`saved to ${options.out} in ${((performance.now() - started) / 1000).toFixed(1)} s; weights.npz sha256 ${digest}`);
