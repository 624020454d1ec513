// A chroma model rebuilt from a saved model's two files' bytes (browser-safe; load.ts
// reads them from a folder in Node): config.json checked against the schema before the
// graph is rebuilt, the weights against the rebuilt model's parameters before any is set,
// so a damaged or hand-edited model is a FileFormatError naming the file and the field.
// Also the hand-designed chroma that `theorbo chords` uses without --model.

import { assignSavedWeights, decodeModel, type SavedModel } from '../train/model-codec.ts';
import { checkModelConfig } from './config-schema.ts';
import { featureDefaults } from './features.ts';
import type { ChromaModel } from './models.ts';
import { buildModel, type ModelConfig } from './registry.ts';

/** The hand-designed chroma with the gain the demo's search picks on its training frames (report/models/hand-chroma). */
export function handChromaModel(): { model: ChromaModel; config: ModelConfig } {
  const config: ModelConfig = { kind: 'hand-chroma', feature: featureDefaults, gain: 0.6 };
  return { model: buildModel(config), config };
}

/** The model a loaded (or decoded) saveModel folder describes, with its weights set. */
export function chromaModelFromSaved(saved: SavedModel<ModelConfig>): { model: ChromaModel; config: ModelConfig } {
  const model = buildModel(saved.config);
  assignSavedWeights(model.params, saved);
  return { model, config: saved.config };
}

/** chromaModelFromSaved for the bytes of weights.npz and config.json; `names` name them in errors. */
export function decodeChromaModel(
  bytes: { config: Uint8Array; weights: Uint8Array },
  names: { config: string; weights: string } = { config: 'config.json', weights: 'weights.npz' },
): { model: ChromaModel; config: ModelConfig } {
  return chromaModelFromSaved(decodeModel<ModelConfig>(bytes, names, { validateConfig: checkModelConfig }));
}
