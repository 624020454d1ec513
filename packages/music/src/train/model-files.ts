// A trained model on disk: `<dir>/weights.npz` (one array per parameter, named after it,
// readable with numpy.load) and `<dir>/config.json` (the caller's configuration, which
// says how to rebuild the graph, plus the list of parameters with dtypes and shapes).
// Both are written atomically, weights first: a config on disk always describes weights
// that are complete. Parameters are read from the device with readShared.
// Left out: the graph itself (models are rebuilt from code and config), and versioned
// migrations of old configs.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DType, NDArray, SharedVariable } from '@theorbo/graph';
import { readShared } from '@theorbo/codegen';
import { writeFileAtomic } from '../files/atomic-write.ts';
import { loadNpz, saveNpz, type NamedArrays } from './npz.ts';

export interface SavedModel<Config = unknown> {
  config: Config;
  weights: NamedArrays;
  params: { name: string; dtype: DType; shape: number[] }[];
}

export const modelPaths = (dir: string): { weights: string; config: string } => ({ weights: join(dir, 'weights.npz'), config: join(dir, 'config.json') });

/** Writes the parameters' current values and the config; every parameter needs a distinct name. */
export async function saveModel(dir: string, params: readonly SharedVariable[], config: unknown): Promise<void> {
  const weights: NamedArrays = {};
  for (const [i, param] of params.entries()) {
    if (!param.name) throw new Error(`saveModel: parameter ${i} (${param.type}) has no name; give every parameter a name, which is its key in weights.npz`);
    if (param.name in weights) throw new Error(`saveModel: two parameters are named '${param.name}'; names are the keys of weights.npz and must differ`);
    weights[param.name] = await readShared(param);
  }
  const paths = modelPaths(dir);
  saveNpz(paths.weights, weights);
  const described = params.map((param) => ({ name: param.name!, dtype: param.dtype, shape: [...(param.shape as number[])] }));
  writeFileAtomic(paths.config, `${JSON.stringify({ format: 'theorbo-model', version: 1, params: described, config }, null, 2)}\n`, { operation: 'saveModel', createDirectory: true });
}

/** The weights and config saved by saveModel; errors name the file and what is missing. */
export function loadModel<Config = unknown>(dir: string): SavedModel<Config> {
  const paths = modelPaths(dir);
  let parsed: { format?: string; params?: SavedModel['params']; config?: Config };
  try {
    parsed = JSON.parse(readFileSync(paths.config, 'utf8')) as typeof parsed;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`loadModel: cannot read ${paths.config}: ${code === 'ENOENT' ? 'no such file (was the model saved with saveModel?)' : (error as Error).message}`, { cause: error });
  }
  if (parsed.format !== 'theorbo-model' || !Array.isArray(parsed.params)) throw new Error(`loadModel: ${paths.config} is not a model config written by saveModel (no format 'theorbo-model' and params list)`);
  const weights = loadNpz(paths.weights);
  for (const entry of parsed.params) {
    const array = weights[entry.name];
    if (!array) throw new Error(`loadModel: ${paths.weights} lacks the parameter '${entry.name}' that ${paths.config} lists`);
    if (array.dtype !== entry.dtype || array.shape.join(',') !== entry.shape.join(',')) {
      throw new Error(`loadModel: '${entry.name}' in ${paths.weights} is ${array.dtype}[${array.shape.join(',')}] but ${paths.config} says ${entry.dtype}[${entry.shape.join(',')}]`);
    }
  }
  return { config: parsed.config as Config, weights, params: parsed.params };
}

/** Sets each parameter to the saved array of its name (e.g. after rebuilding the model from the config). */
export function assignWeights(params: readonly SharedVariable[], weights: NamedArrays, where = 'assignWeights'): void {
  for (const param of params) {
    const value: NDArray | undefined = param.name === undefined ? undefined : weights[param.name];
    if (!value) throw new Error(`${where}: no saved weights for parameter '${param.name ?? '(unnamed)'}' (saved: ${Object.keys(weights).join(', ')})`);
    param.set(value);
  }
}
