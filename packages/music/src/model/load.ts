// A saved chroma model read back: config.json checked against the schema
// (config-schema.ts) before the graph is rebuilt, and the weights checked against the
// rebuilt model's parameters before any is set, so a damaged or hand-edited model
// directory is a FileFormatError naming the file and the field, never a TypeError.

import { assignSavedWeights, loadModel } from '../train/index.ts';
import { checkModelConfig } from './config-schema.ts';
import { featureDefaults } from './features.ts';
import type { ChromaModel } from './models.ts';
import { buildModel, type ModelConfig } from './registry.ts';

/** The model saved in `dir` (weights.npz + config.json), or the hand-designed chroma when `dir` is undefined. */
export function loadChromaModel(dir: string | undefined): { model: ChromaModel; config: ModelConfig } {
  if (dir === undefined) {
    // The gain the demo's search picks on its training frames (report/models/hand-chroma).
    const config: ModelConfig = { kind: 'hand-chroma', feature: featureDefaults, gain: 0.6 };
    return { model: buildModel(config), config };
  }
  const saved = loadModel<ModelConfig>(dir, { validateConfig: checkModelConfig });
  const model = buildModel(saved.config);
  assignSavedWeights(model.params, saved);
  return { model, config: saved.config };
}
