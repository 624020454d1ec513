// The librosa 0.11 reference outputs (shared/fixtures/librosa, see its README) in
// Theorbo's layout: features [nFrames, nFeatures] (librosa stores [nFeatures, nFrames]),
// envelopes and frame lists as they are. The folder is looked for beside the checkout
// (../shared) and inside it (shared/), or at THEORBO_LIBROSA_FIXTURES; a test that cannot
// find it fails, naming the places it looked. Also the error measures the tests report.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { loadNpz } from '../src/train/index.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const candidates = [process.env.THEORBO_LIBROSA_FIXTURES, join(root, '..', 'shared', 'fixtures', 'librosa'), join(root, 'shared', 'fixtures', 'librosa')]
  .filter((path): path is string => path !== undefined && path !== '');

export const fixtureNames = ['clicks_120bpm', 'drums_96bpm', 'chords_C_Am_F_G', 'chirp_100_5000', 'noise'] as const;
export type FixtureName = (typeof fixtureNames)[number];

export function fixtureDirectory(): string {
  const found = candidates.find((path) => existsSync(join(path, 'index.json')));
  if (found === undefined) assert.unreachable(`the librosa fixtures are missing; looked in ${candidates.join(', ')} (set THEORBO_LIBROSA_FIXTURES to the folder)`);
  return found!;
}

/** [rows, columns] → [columns, rows], float32. */
export function transposed(array: T.NDArray): T.NDArray {
  const [rows, columns] = array.shape as [number, number];
  const out = new Float32Array(rows * columns);
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) out[c * rows + r] = array.data[r * columns + c]!;
  return T.array(out, { shape: [columns, rows], dtype: 'float32' });
}

const featureKeys = ['mel_power', 'mel_htk40_nonorm', 'power_to_db_ref_max', 'mfcc20', 'mfcc13_lifter22', 'mfcc20_delta', 'mfcc20_delta2'] as const;
type FeatureKey = (typeof featureKeys)[number];

export interface LibrosaFixture {
  name: FixtureName;
  y: Float32Array;
  /** [nFrames, nFeatures] float32. */
  features: Record<FeatureKey, T.NDArray>;
  onsetStrength: Float32Array;
  onsetFrames: number[];
  onsetFramesBacktrack: number[];
  tempo: number;
  tempoPerFrame: Float64Array;
  beatTempo: number;
  beatFrames: number[];
  trueOnsets: number[];
  trueBpm: number | undefined;
}

const cache = new Map<FixtureName, LibrosaFixture>();

export function librosaFixture(name: FixtureName): LibrosaFixture {
  const cached = cache.get(name);
  if (cached) return cached;
  const arrays = loadNpz(join(fixtureDirectory(), `${name}.npz`));
  const features = Object.fromEntries(featureKeys.map((key) => [key, transposed(arrays[key]!)])) as Record<FeatureKey, T.NDArray>;
  const fixture: LibrosaFixture = {
    name,
    y: arrays.y!.data as Float32Array,
    features,
    onsetStrength: arrays.onset_strength!.data as Float32Array,
    onsetFrames: Array.from(arrays.onset_frames!.data),
    onsetFramesBacktrack: Array.from(arrays.onset_frames_backtrack!.data),
    tempo: arrays.tempo!.data[0]!,
    tempoPerFrame: Float64Array.from(arrays.tempo_per_frame!.data),
    beatTempo: arrays.beat_tempo!.data[0]!,
    beatFrames: Array.from(arrays.beat_frames!.data),
    trueOnsets: Array.from(arrays.true_onsets_s!.data),
    trueBpm: arrays.true_bpm!.size > 0 ? arrays.true_bpm!.data[0]! : undefined,
  };
  cache.set(name, fixture);
  return fixture;
}

/** Largest |ours − theirs| / |theirs| over elements whose reference is not 0 (exact zeros must be matched within `zeroTolerance`). */
export function elementRelativeError(ours: ArrayLike<number>, theirs: ArrayLike<number>, zeroTolerance = 1e-12): number {
  assert.is(ours.length, theirs.length, 'lengths differ');
  let worst = 0;
  for (let i = 0; i < ours.length; i++) {
    const difference = Math.abs(ours[i]! - theirs[i]!);
    worst = Math.max(worst, theirs[i] === 0 ? (difference <= zeroTolerance ? 0 : Infinity) : difference / Math.abs(theirs[i]!));
  }
  return worst;
}

/**
 * Largest |ours − theirs| relative to the largest |theirs| in the same frame (row) of
 * [nFrames, nFeatures] arrays: for values that cross zero (decibels, MFCCs, deltas), where
 * an element's own size says nothing about the precision of the frame's numbers.
 */
export function frameRelativeError(ours: T.NDArray, theirs: T.NDArray): number {
  assert.equal([...ours.shape], [...theirs.shape], 'shapes differ');
  const width = theirs.shape[theirs.ndim - 1]!;
  let worst = 0;
  for (let start = 0; start < theirs.size; start += width) {
    let scale = 0;
    for (let i = start; i < start + width; i++) scale = Math.max(scale, Math.abs(theirs.data[i]!));
    for (let i = start; i < start + width; i++) {
      const difference = Math.abs(ours.data[i]! - theirs.data[i]!);
      worst = Math.max(worst, scale === 0 ? (difference === 0 ? 0 : Infinity) : difference / scale);
    }
  }
  return worst;
}
