// The schema of a chroma model's configuration (ModelConfig, registry.ts) as saved in
// config.json: checkModelConfig checks a parsed value field by field and returns it
// typed, or throws a FileFormatError that names the file and the field
// ('config.feature.nFft'), so a damaged or hand-edited config never reaches buildModel
// as a TypeError from deep inside. Two tables: one check per ModelConfig field, and per
// kind the fields it requires; both are keyed by the type, so a new field or kind does
// not compile without its entry here. Besides types and ranges it checks what would make
// buildModel or the features fail later: the CQT's top bin below Nyquist and its longest
// filter of bounded size, the CNN's context not used up by its kernels and pools.
// Ranges are generous bounds on what the code can build in memory, not advice.
// Left out: checking the weights against the config (assignSavedWeights does, after
// buildModel), migrations of older configs.

import { FileFormatError } from '../files/file-format-error.ts';
import { describe } from '../train/model-codec.ts';
import { cqtFrameLength, cqtQ } from '../signal/cqt-kernel.ts';
import { modelKinds, type ModelConfig, type ModelKind } from './registry.ts';
import type { FeatureOptions } from './features.ts';
import type { CnnShape } from './cnn.ts';
import type { CrnnShape } from './crnn.ts';
import { vocabularyNames } from '../chords/vocabularies.ts';

type Fail = (field: string, problem: string) => never;

const limits = {
  layerSize: 16_384,
  layers: 16,
  filters: 1024,
  kernel: 64,
  pool: 64,
  radius: 256,
  gru: 8192,
  chunkFrames: 1_000_000,
  nBins: 2048,
  binsPerOctave: 240,
  nFft: 65_536,
  hop: 65_536,
  /** Samples of the longest CQT filter's frame (cqtKernel's frameLength), which sets the kernel's cost. */
  cqtFrame: 2 ** 18,
  /** Weights a network, cnn or crnn model may have (a float32 each; about 2 s to draw at the top). */
  weights: 2 ** 24,
  /** Filter taps a fir model's bank may hold, 2·nBins·taps (its kernel is built in float64 first). */
  firTaps: 2 ** 23,
} as const;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function integer(fail: Fail, field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) fail(field, `= ${describe(value)}, not an integer from ${min} to ${max}`);
  return value as number;
}

function finite(fail: Fail, field: string, value: unknown, min: number, max: number, what = 'a number'): number {
  if (typeof value !== 'number' || !(value >= min && value <= max)) fail(field, `= ${describe(value)}, not ${what} from ${min} to ${max}`);
  return value as number;
}

function positive(fail: Fail, field: string, value: unknown, max: number): number {
  if (typeof value !== 'number' || !(value > 0 && value <= max)) fail(field, `= ${describe(value)}, not a positive number up to ${max}`);
  return value as number;
}

function oneOf<T extends string>(fail: Fail, field: string, value: unknown, options: readonly T[]): T {
  if (!(options as readonly unknown[]).includes(value)) fail(field, `= ${describe(value)}, not one of ${options.map((option) => `'${option}'`).join(', ')}`);
  return value as T;
}

function record(fail: Fail, field: string, value: unknown, keys: readonly string[]): Record<string, unknown> {
  if (!isRecord(value)) fail(field, `= ${describe(value)}, not an object`);
  const unknownKey = Object.keys(value as object).find((key) => !keys.includes(key));
  if (unknownKey !== undefined) fail(`${field}.${unknownKey}`, `, which is not a field of ${field} (known: ${keys.join(', ')})`);
  return value as Record<string, unknown>;
}

function list<T>(fail: Fail, field: string, value: unknown, minLength: number, maxLength: number, each: (item: unknown, field: string) => T): T[] {
  if (!Array.isArray(value) || value.length < minLength || value.length > maxLength) fail(field, `= ${describe(value)}, not a list of ${minLength} to ${maxLength} items`);
  return (value as unknown[]).map((item, i) => each(item, `${field}[${i}]`));
}

const pair = (fail: Fail, field: string, value: unknown, max: number): [number, number] =>
  list(fail, field, value, 2, 2, (item, at) => integer(fail, at, item, 1, max)) as [number, number];

const featureKeys = ['sampleRate', 'hop', 'nFft', 'fmin', 'nBins', 'binsPerOctave', 'dftGain', 'cqtGain'] as const satisfies readonly (keyof FeatureOptions)[];

function checkFeature(fail: Fail, field: string, value: unknown): void {
  const feature = record(fail, field, value, featureKeys);
  for (const key of featureKeys) if (!(key in feature)) fail(`${field}.${key}`, 'missing');
  const sampleRate = integer(fail, `${field}.sampleRate`, feature.sampleRate, 1000, 768_000);
  integer(fail, `${field}.hop`, feature.hop, 1, limits.hop);
  const nFft = integer(fail, `${field}.nFft`, feature.nFft, 16, limits.nFft);
  if ((nFft & (nFft - 1)) !== 0) fail(`${field}.nFft`, `= ${nFft}, not a power of two`);
  const fmin = positive(fail, `${field}.fmin`, feature.fmin, sampleRate / 2);
  const nBins = integer(fail, `${field}.nBins`, feature.nBins, 1, limits.nBins);
  const binsPerOctave = integer(fail, `${field}.binsPerOctave`, feature.binsPerOctave, 1, limits.binsPerOctave);
  positive(fail, `${field}.dftGain`, feature.dftGain, 1e6); // logCompress's log1p(gain·x) takes a positive factor
  positive(fail, `${field}.cqtGain`, feature.cqtGain, 1e6);
  // cqtKernel's own conditions (recursive: false, as cqtHost and the FIR bank use it), checked without building it.
  const q = cqtQ(binsPerOctave);
  const top = fmin * 2 ** ((nBins - 1) / binsPerOctave);
  if (top * (1 + 0.75 / q) > sampleRate / 2) {
    fail(field, `that puts its top CQT bin at ${top.toFixed(1)} Hz, whose filter reaches past the Nyquist frequency ${sampleRate / 2} Hz (fmin ${fmin}, ${nBins} bins, ${binsPerOctave} per octave)`);
  }
  const longest = (q * sampleRate) / fmin;
  if (longest > limits.cqtFrame || nBins * Math.max(nFft, longest) > 64 * limits.cqtFrame) {
    fail(`${field}.fmin`, `= ${fmin} Hz, which at ${sampleRate} Hz and ${binsPerOctave} bins per octave needs CQT filters of ${Math.ceil(longest)} samples; at most ${limits.cqtFrame} are supported (and ${64 * limits.cqtFrame} samples over all bins)`);
  }
}

function checkCnn(fail: Fail, field: string, value: unknown): CnnShape {
  const shape = record(fail, field, value, ['radius', 'convolutions', 'hidden']);
  const radius = integer(fail, `${field}.radius`, shape.radius, 0, limits.radius);
  let height = 2 * radius + 1;
  list(fail, `${field}.convolutions`, shape.convolutions, 0, limits.layers, (item, at) => {
    const layer = record(fail, at, item, ['filters', 'kernel', 'pool']);
    integer(fail, `${at}.filters`, layer.filters, 1, limits.filters);
    const [kernelTime] = pair(fail, `${at}.kernel`, layer.kernel, limits.kernel);
    const [poolTime] = layer.pool === undefined ? [1, 1] : pair(fail, `${at}.pool`, layer.pool, limits.pool);
    if (kernelTime > height) fail(`${at}.kernel`, `that spans ${kernelTime} frames, but only ${height} remain of the ${2 * radius + 1}-frame patch`);
    height = Math.floor((height - kernelTime + 1) / poolTime);
    if (height < 1) fail(`${at}.pool`, `that pools ${poolTime} frames, more than remain of the ${2 * radius + 1}-frame patch`);
  });
  list(fail, `${field}.hidden`, shape.hidden, 0, limits.layers, (item, at) => integer(fail, at, item, 1, limits.layerSize));
  return shape as unknown as CnnShape;
}


/**
 * Weights of cnn.ts's trunk and dense layers on `nBins` CQT bins (the output layer left
 * out), and the width they end at; the pooling along frequency must leave at least one bin.
 */
function cnnWeights(fail: Fail, field: string, shape: CnnShape, nBins: number): { weights: number; width: number } {
  let [channels, height, width, weights] = [1, 2 * shape.radius + 1, nBins, 0];
  shape.convolutions.forEach(({ filters, kernel: [kernelTime, kernelFrequency], pool: [poolTime, poolFrequency] = [1, 1] }, i) => {
    weights += filters * (channels * kernelTime * kernelFrequency + 1);
    [channels, height, width] = [filters, Math.floor((height - kernelTime + 1) / poolTime), Math.floor(width / poolFrequency)];
    if (width < 1) fail(`${field}.convolutions[${i}].pool`, `that pools the ${nBins} CQT bins down to none`);
  });
  let size = channels * height * width;
  for (const units of shape.hidden) [weights, size] = [weights + size * units + units, units];
  return { weights, width: size };
}

function checkWeights(fail: Fail, field: string, weights: number, what: string): void {
  if (weights > limits.weights) fail(field, `that makes ${what} of ${weights} weights; at most ${limits.weights} are supported`);
}

function checkCrnn(fail: Fail, field: string, value: unknown): CrnnShape {
  const shape = record(fail, field, value, ['cnn', 'gru', 'bidirectional', 'chunk', 'hop']);
  checkCnn(fail, `${field}.cnn`, shape.cnn);
  integer(fail, `${field}.gru`, shape.gru, 1, limits.gru);
  if (typeof shape.bidirectional !== 'boolean') fail(`${field}.bidirectional`, `= ${describe(shape.bidirectional)}, not true or false`);
  integer(fail, `${field}.chunk`, shape.chunk, 1, limits.chunkFrames);
  integer(fail, `${field}.hop`, shape.hop, 1, limits.chunkFrames);
  return shape as unknown as CrnnShape;
}

/** One check per field of ModelConfig; keyed by the type, so a new field does not compile without its check. */
const fieldChecks: { [Key in keyof ModelConfig]-?: (fail: Fail, field: string, value: unknown) => void } = {
  kind: (fail, field, value) => oneOf(fail, field, value, modelKinds),
  feature: checkFeature,
  hidden: (fail, field, value) => list(fail, field, value, 0, limits.layers, (item, at) => integer(fail, at, item, 1, limits.layerSize)),
  gain: (fail, field, value) => finite(fail, field, value, -1e6, 1e6),
  seed: (fail, field, value) => integer(fail, field, value, -(2 ** 31), 2 ** 32 - 1),
  loss: (fail, field, value) => oneOf(fail, field, value, ['distance', 'softmax-distance'] as const),
  dropout: (fail, field, value) => finite(fail, field, value, 0, 0.99, 'a rate'),
  init: (fail, field, value) => oneOf(fail, field, value, ['octave', 'random'] as const),
  vocab: (fail, field, value) => oneOf(fail, field, value, vocabularyNames),
  trainChroma: (fail, field, value) => { if (typeof value !== 'boolean') fail(field, `= ${describe(value)}, not true or false`); },
  cnn: checkCnn,
  crnn: checkCrnn,
};

/** What each kind needs beyond kind and feature, and the checks that join fields. */
const kindRules = {
  'hand-chroma': {},
  'learned-chroma': {},
  network: {
    check: (fail, config) => {
      const sizes = [config.feature.nFft / 2 + 1, ...(config.hidden ?? [256, 64]), 12];
      const weights = sizes.slice(1).reduce((sum, size, i) => sum + size * sizes[i]!, 0);
      checkWeights(fail, 'config.hidden', weights, `a network from ${sizes[0]} DFT bins`);
    },
  },
  fir: {
    check: (fail, config) => {
      const { sampleRate, fmin, nFft, nBins, binsPerOctave } = config.feature;
      const taps = cqtFrameLength(nFft, (cqtQ(binsPerOctave) * sampleRate) / fmin);
      if (2 * nBins * taps > limits.firTaps) fail('config.feature.fmin', `= ${fmin} Hz, which with ${nBins} bins makes a fir bank of ${2 * nBins} filters of ${taps} taps; at most ${limits.firTaps} taps in all are supported`);
    },
  },
  cnn: {
    check: (fail, config) => {
      if (!config.cnn) return;
      const { weights, width } = cnnWeights(fail, 'config.cnn', config.cnn, config.feature.nBins);
      checkWeights(fail, 'config.cnn', weights + 12 * width + 12, `a cnn on ${config.feature.nBins} CQT bins`);
    },
  },
  crnn: {
    check: (fail, config) => {
      if (!config.crnn) return;
      const { weights, width } = cnnWeights(fail, 'config.crnn.cnn', config.crnn.cnn, config.feature.nBins);
      const { gru, bidirectional } = config.crnn;
      const directions = bidirectional ? 2 : 1;
      checkWeights(fail, 'config.crnn', weights + directions * (3 * gru * (width + gru) + 6 * gru) + 12 * (width + directions * gru) + 12, `a crnn on ${config.feature.nBins} CQT bins`);
    },
  },
} satisfies Record<ModelKind, { check?: (fail: Fail, config: ModelConfig) => void }>;

/**
 * `value` (config.json's `config` field) as a ModelConfig, or a FileFormatError naming
 * `file` and the field. Pass it to loadModel as `validateConfig`.
 */
export function checkModelConfig(value: unknown, file: string): ModelConfig {
  const fail: Fail = (field, problem) => { throw new FileFormatError('loadModel', file, `has ${field}${problem.startsWith(',') ? '' : ' '}${problem}`, field); };
  const config = record(fail, 'config', value, Object.keys(fieldChecks));
  if (!('kind' in config)) fail('config.kind', `missing (one of ${modelKinds.join(', ')} is needed)`);
  if (!('feature' in config)) fail('config.feature', 'missing');
  for (const [key, check] of Object.entries(fieldChecks)) {
    if (config[key] !== undefined) check(fail, `config.${key}`, config[key]);
  }
  const typed = config as unknown as ModelConfig;
  if (typed.vocab !== undefined && typed.vocab !== 'majmin' && typed.kind !== 'cnn') fail('config.vocab', `= '${typed.vocab}', but only a cnn model is built for another vocabulary than majmin, not a ${typed.kind} model`);
  const rule: { check?: (fail: Fail, config: ModelConfig) => void } = kindRules[typed.kind];
  rule.check?.(fail, typed);
  return typed;
}
