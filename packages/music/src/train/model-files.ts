// A trained model's folder on disk (Node only): saveModel writes `<dir>/weights.npz` and
// `<dir>/config.json` atomically, weights first; loadModel reads them and hands the bytes
// to model-codec.ts's decodeModel, which checks both (the browser build uses it alone).
// Left out: the checks themselves (model-codec.ts).

import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import type { SharedVariable } from '@theorbo/graph';
import { readShared } from '@theorbo/codegen';
import { writeFileAtomic } from '../files/atomic-write.ts';
import { FileFormatError } from '../files/file-format-error.ts';
import { saveNpz, type NamedArrays } from './npz.ts';
import { decodeModel, type LoadModelOptions, type SavedModel } from './model-codec.ts';

export { assignSavedWeights, assignWeights, decodeModel, describe, type LoadModelOptions, type SavedModel } from './model-codec.ts';

export const modelPaths = (dir: string): { weights: string; config: string } => ({ weights: join(dir, 'weights.npz'), config: join(dir, 'config.json') });

/** Writes the parameters' current values and the config; every parameter needs a distinct name. */
export async function saveModel(dir: string, params: readonly SharedVariable[], config: unknown, options: { compress?: boolean } = {}): Promise<void> {
  const weights: NamedArrays = {};
  for (const [i, param] of params.entries()) {
    if (!param.name) throw new Error(`saveModel: parameter ${i} (${param.type}) has no name; give every parameter a name, which is its key in weights.npz`);
    if (param.name in weights) throw new Error(`saveModel: two parameters are named '${param.name}'; names are the keys of weights.npz and must differ`);
    weights[param.name] = await readShared(param);
  }
  const paths = modelPaths(dir);
  saveNpz(paths.weights, weights, { compress: options.compress ?? false });
  const described = params.map((param) => ({ name: param.name!, dtype: param.dtype, shape: [...(param.shape as number[])] }));
  writeFileAtomic(paths.config, `${JSON.stringify({ format: 'theorbo-model', version: 1, params: described, config }, null, 2)}\n`, { operation: 'saveModel', createDirectory: true });
}

/** The weights and config saved by saveModel; a damaged or inconsistent folder is a FileFormatError naming the file and the field. */
export function loadModel<Config = unknown>(dir: string, options: LoadModelOptions<Config> = {}): SavedModel<Config> {
  const paths = modelPaths(dir);
  const read = (path: string, what: string): Uint8Array => {
    try {
      return readFileSync(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? `no such file (was the model saved with saveModel? ${what})` : (error as Error).message;
      throw new FileFormatError('loadModel', path, `cannot be read: ${why}`, undefined, { cause: error });
    }
  };
  const config = read(paths.config, 'a model folder holds config.json and weights.npz');
  return decodeModel({ config, weights: read(paths.weights, 'config.json is there but its weights are not') }, paths, options);
}
