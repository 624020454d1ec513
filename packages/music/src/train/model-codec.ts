// A trained model on disk: `<dir>/weights.npz` (one array per parameter, named after it,
// readable with numpy.load) and `<dir>/config.json` (the caller's configuration, which
// says how to rebuild the graph, plus the list of parameters with dtypes and shapes).
// Both are written atomically, weights first: a config on disk always describes weights
// that are complete. Parameters are read from the device with readShared.
// Loading checks both files as far as they can be checked without the model's code:
// config.json's envelope (format, version, the params list), weights.npz's every
// member (npz.ts), that they agree, and that no weight is NaN or infinite unless the
// caller allows it; the caller's config is checked by the validator it passes. Every
// failure is a FileFormatError naming the file and the field.
// Left out: the graph itself (models are rebuilt from code and config), and versioned
// migrations of old configs.
// This file is the browser-safe half (decodeModel from the two files' bytes, assigning
// weights); model-files.ts reads and writes the folder.

import { dtypes, type DType, type NDArray, type SharedVariable } from '@theorbo/graph';
import { FileFormatError } from '../files/file-format-error.ts';
import { decodeNpz, type NamedArrays } from './npz-codec.ts';

export interface SavedModel<Config = unknown> {
  config: Config;
  weights: NamedArrays;
  params: { name: string; dtype: DType; shape: number[] }[];
  /** Where config and weights were read from (the names given to decodeModel). */
  files: { config: string; weights: string };
}

export interface LoadModelOptions<Config> {
  /** Load weights that hold NaN or ±infinity (refused by default: such a model gives NaN everywhere). */
  allowNonFinite?: boolean;
  /**
   * Checks the caller's part of config.json (its `config` field) and returns it typed; it
   * throws a FileFormatError naming `file` and the field (the chroma models' is
   * checkModelConfig in model/config-schema.ts). Without it the config is returned unchecked.
   */
  validateConfig?: (config: unknown, file: string) => Config;
}

/** loadModel for the two files' bytes; `names` name them in errors. */
export function decodeModel<Config = unknown>(
  bytes: { config: Uint8Array; weights: Uint8Array },
  names: { config: string; weights: string },
  options: LoadModelOptions<Config> = {},
): SavedModel<Config> {
  const failConfig = (problem: string, field?: string): never => { throw new FileFormatError('loadModel', names.config, problem, field); };
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.config));
  } catch (error) {
    return failConfig(`is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) failConfig(`holds ${describe(parsed)}, not the object saveModel writes`);
  const record = parsed as Record<string, unknown>;
  if (record.format !== 'theorbo-model') failConfig(`is not a model config written by saveModel: its 'format' is ${describe(record.format)}, not 'theorbo-model'`, 'format');
  if (record.version !== 1) failConfig(`has 'version' ${describe(record.version)}; this Theorbo reads version 1`, 'version');
  const params = checkParamList(record.params, failConfig);
  const config = options.validateConfig ? options.validateConfig(record.config, names.config) : record.config as Config;

  const failWeights = (problem: string, field?: string): never => { throw new FileFormatError('loadModel', names.weights, problem, field); };
  const { arrays: weights } = decodeNpz(bytes.weights, names.weights, 'loadModel');
  for (const entry of params) {
    const array = Object.hasOwn(weights, entry.name) ? weights[entry.name] : undefined;
    if (!array) failWeights(`lacks the parameter '${entry.name}' that ${names.config} lists`, entry.name);
    if (array!.dtype !== entry.dtype || array!.shape.join(',') !== entry.shape.join(',')) {
      failWeights(`holds '${entry.name}' as ${array!.dtype}[${array!.shape.join(',')}] but ${names.config} says ${entry.dtype}[${entry.shape.join(',')}]`, entry.name);
    }
    if (!options.allowNonFinite && (array!.dtype === 'float32' || array!.dtype === 'float64')) {
      const index = array!.data.findIndex((value) => !Number.isFinite(value));
      if (index >= 0) {
        failWeights(`holds ${array!.data[index]} at element ${index} of '${entry.name}'; a model with NaN or infinite weights gives NaN results (pass allowNonFinite: true to loadModel to load it anyway)`, entry.name);
      }
    }
  }
  const listed = new Set(params.map((entry) => entry.name));
  const unlisted = Object.keys(weights).filter((name) => !listed.has(name));
  if (unlisted.length > 0) failWeights(`holds arrays that ${names.config} does not list (${unlisted.slice(0, 5).join(', ')}); the two files do not belong together`, unlisted[0]);
  return { config, weights, params, files: names };
}

const maxAxes = 32;

/** The params list of config.json: objects with a unique non-empty name, a dtype and a shape of sizes. */
function checkParamList(value: unknown, fail: (problem: string, field?: string) => never): SavedModel['params'] {
  if (!Array.isArray(value)) return fail(`has 'params' ${describe(value)}, not the list of parameters saveModel writes`, 'params');
  const names = new Set<string>();
  return value.map((entry: unknown, i) => {
    const field = `params[${i}]`;
    if (typeof entry !== 'object' || entry === null) return fail(`has ${field} ${describe(entry)}, not an object with name, dtype and shape`, field);
    const { name, dtype, shape } = entry as Record<string, unknown>;
    if (typeof name !== 'string' || name === '') fail(`has ${field}.name ${describe(name)}, not a non-empty string`, `${field}.name`);
    if (names.has(name as string)) fail(`lists the parameter '${name as string}' twice`, `${field}.name`);
    names.add(name as string);
    if (!(dtypes as readonly unknown[]).includes(dtype)) fail(`has ${field}.dtype ${describe(dtype)}, not one of ${dtypes.join(', ')}`, `${field}.dtype`);
    if (!Array.isArray(shape) || shape.length > maxAxes || !shape.every((size) => Number.isInteger(size) && size >= 0 && size < 2 ** 31)) {
      fail(`has ${field}.shape ${describe(shape)}, not a list of at most ${maxAxes} sizes`, `${field}.shape`);
    }
    return { name: name as string, dtype: dtype as DType, shape: shape as number[] };
  });
}

/** A value as a user would want it quoted in an error: JSON, cut short. */
export function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Sets each parameter to the saved array of its name (e.g. after rebuilding the model from the config). */
export function assignWeights(params: readonly SharedVariable[], weights: NamedArrays, where = 'assignWeights'): void {
  for (const param of params) {
    const value: NDArray | undefined = param.name === undefined || !Object.hasOwn(weights, param.name) ? undefined : weights[param.name];
    if (!value) throw new Error(`${where}: no saved weights for parameter '${param.name ?? '(unnamed)'}' (saved: ${Object.keys(weights).join(', ')})`);
    if (value.dtype !== param.dtype || value.shape.join(',') !== param.shape.join(',')) {
      throw new Error(`${where}: parameter '${param.name}' is ${param.dtype}[${param.shape.join(',')}] but the saved weights hold ${value.dtype}[${value.shape.join(',')}]; were they saved from another configuration?`);
    }
    param.set(value);
  }
}

/**
 * assignWeights for a model rebuilt from a loaded folder's config: a parameter the config
 * makes but the folder lacks or holds in another shape is a FileFormatError naming
 * config.json (the config and the weights disagree), as is a saved array the model does not use.
 */
export function assignSavedWeights(params: readonly SharedVariable[], saved: SavedModel<unknown>): void {
  const { config: file } = saved.files;
  const fail = (problem: string, field: string): never => { throw new FileFormatError('loadModel', file, problem, field); };
  for (const param of params) {
    const name = param.name ?? '(unnamed)';
    const value = Object.hasOwn(saved.weights, name) ? saved.weights[name] : undefined;
    if (!value) fail(`describes a model with a parameter '${name}' that ${saved.files.weights} lacks; the config and the weights do not belong together`, name);
    if (value!.dtype !== param.dtype || value!.shape.join(',') !== param.shape.join(',')) {
      fail(`describes a model whose parameter '${name}' is ${param.dtype}[${param.shape.join(',')}], but ${saved.files.weights} holds ${value!.dtype}[${value!.shape.join(',')}]; the config and the weights do not belong together`, name);
    }
  }
  const used = new Set(params.map((param) => param.name));
  const unused = Object.keys(saved.weights).filter((name) => !used.has(name));
  if (unused.length > 0) fail(`describes a model without the parameters ${unused.slice(0, 5).join(', ')} that ${saved.files.weights} holds; the config and the weights do not belong together`, unused[0]!);
  for (const param of params) param.set(saved.weights[param.name!]!);
}
