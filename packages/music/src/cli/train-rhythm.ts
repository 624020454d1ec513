// `pnpm train:rhythm`: retrains the shipped rhythm front end (rhythm/shipped-front-end.ts)
// into packages/music/models/rhythm, or into --out, on the cpu device by default (where
// the shipped weights were made); prints weights.npz's sha256 to compare runs.
// Left out: changing the recipe from the command line (edit shippedRhythmRecipe).

import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { sha256 } from '@noble/hashes/sha2.js';
import { acquireDevice, deviceKinds, type DeviceKind } from '@theorbo/codegen';
import { shippedRhythmDir, trainShippedFrontEnd } from '../rhythm/shipped-front-end.ts';
import { oneOf } from './flags.ts';
import { modelPaths } from '../train/model-files.ts';

const program = new Command('train-rhythm').description('retrain the shipped rhythm front end (packages/music/models/rhythm)')
  .option('--out <dir>', 'where the front end goes', shippedRhythmDir)
  .option('--device <kind>', 'gpu, cpu, cpu-webgpu or reference (the shipped weights: cpu)', oneOf(deviceKinds), 'cpu');
const options = program.parse(process.argv).opts<{ out: string; device: DeviceKind }>();
const device = await acquireDevice({ prefer: options.device });
console.log(`device: ${device.describe().split('\n')[0]}`);
const started = performance.now();
await trainShippedFrontEnd({ out: options.out, device, log: (line) => console.log(line) });
const digest = Array.from(sha256(readFileSync(modelPaths(options.out).weights)), (byte) => byte.toString(16).padStart(2, '0')).join('');
console.log(`saved to ${options.out} in ${((performance.now() - started) / 1000).toFixed(1)} s; weights.npz sha256 ${digest}`);
