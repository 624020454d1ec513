// A saved chroma model read back from its folder (Node only): loadModel reads and checks
// the files, saved-chroma.ts rebuilds the graph and sets the weights (the browser build
// goes through decodeChromaModel there instead).

import { loadModel } from '../train/model-files.ts';
import { checkModelConfig } from './config-schema.ts';
import type { ChromaModel } from './models.ts';
import type { ModelConfig } from './registry.ts';
import { chromaModelFromSaved, handChromaModel } from './saved-chroma.ts';

/** The model saved in `dir` (weights.npz + config.json), or the hand-designed chroma when `dir` is undefined. */
export function loadChromaModel(dir: string | undefined): { model: ChromaModel; config: ModelConfig } {
  if (dir === undefined) return handChromaModel();
  return chromaModelFromSaved(loadModel<ModelConfig>(dir, { validateConfig: checkModelConfig }));
}
