// The Bring your model view: weights.npz + config.json written by `theorbo train` (or
// saveModel), checked and rebuilt by the music package's decodeChromaModel, then run on
// an audio file like Listen. A bad file is reported with its name and what is wrong.

import { decodeChromaModel } from '@theorbo/music/browser';
import type { LoadedModel } from './engine.ts';

/** The model in the two chosen files; errors name the file and the field. */
export async function loadModelFiles(files: readonly File[]): Promise<{ loaded: LoadedModel; summary: string }> {
  const weights = files.find((file) => file.name.endsWith('.npz'));
  const config = files.find((file) => file.name.endsWith('.json'));
  if (!weights || !config) {
    throw new Error(`choose both files of a model folder: weights.npz and config.json (chosen: ${files.map((file) => file.name).join(', ') || 'none'})`);
  }
  const bytes = { weights: new Uint8Array(await weights.arrayBuffer()), config: new Uint8Array(await config.arrayBuffer()) };
  const loaded = decodeChromaModel(bytes, { weights: weights.name, config: config.name });
  const params = loaded.model.params.map((param) => `${param.name}[${param.shape.join('×')}]`).join(', ');
  return { loaded, summary: `${loaded.config.kind} model: ${params || 'no parameters'}; features at ${loaded.config.feature.sampleRate} Hz, hop ${loaded.config.feature.hop}` };
}
