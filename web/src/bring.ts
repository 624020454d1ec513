// The Bring your model view: either the weights.npz + config.json that `theorbo train`
// (saveModel) writes, checked and rebuilt by the music package's decodeChromaModel, or a
// graph saved with saveGraph whose one input is the CQT frames [frames, 84] (the default
// features: log1p(100·|CQT|) at 22050 Hz, hop 512) and whose first output is the chroma
// [frames, 12]; then run on an audio file like Listen. A bad file is reported with its
// name and what is wrong.

import * as T from '@theorbo/graph';
import { decodeChromaModel, featureDefaults } from '@theorbo/music/browser';
import type { LoadedModel } from './engine.ts';

/** The model in the chosen files; errors name the file and the field. */
export async function loadModelFiles(files: readonly File[]): Promise<{ loaded: LoadedModel; summary: string }> {
  const weights = files.find((file) => file.name.endsWith('.npz'));
  const json = files.find((file) => file.name.endsWith('.json'));
  if (json && !weights) return loadSavedGraph(json);
  if (!weights || !json) {
    throw new Error(`choose both files of a model folder (weights.npz and config.json), or one saved graph (.json); chosen: ${files.map((file) => file.name).join(', ') || 'none'}`);
  }
  const bytes = { weights: new Uint8Array(await weights.arrayBuffer()), config: new Uint8Array(await json.arrayBuffer()) };
  const loaded = decodeChromaModel(bytes, { weights: weights.name, config: json.name });
  const params = loaded.model.params.map((param) => `${param.name}[${param.shape.join('×')}]`).join(', ');
  return { loaded, summary: `${loaded.config.kind} model: ${params || 'no parameters'}; features at ${loaded.config.feature.sampleRate} Hz, hop ${loaded.config.feature.hop}` };
}

async function loadSavedGraph(file: File): Promise<{ loaded: LoadedModel; summary: string }> {
  const graph = T.loadGraph(await file.text(), { file: file.name });
  const [features] = graph.inputs, [chroma] = graph.outputs;
  const fail = (problem: string): never => { throw new Error(`${file.name}: ${problem}; a chroma graph takes the CQT frames [frames, ${featureDefaults.nBins}] and gives the chroma [frames, 12] first`); };
  if (graph.inputs.length !== 1 || !features) fail(`the graph has ${graph.inputs.length} inputs`);
  if (features!.ndim !== 2 || (features!.shape[1] !== null && features!.shape[1] !== featureDefaults.nBins)) fail(`its input is ${features!.type}`);
  if (!chroma || chroma.ndim !== 2 || (chroma.shape[1] !== null && chroma.shape[1] !== 12)) fail(`its first output is ${chroma?.type ?? 'missing'}`);
  return {
    loaded: { model: { features: features!, chroma: chroma! }, config: { kind: 'learned-chroma', feature: featureDefaults } },
    summary: `saved graph: ${features!.type} → ${chroma!.type}, ${graph.shared.length} shared variables (${graph.shared.map((variable) => variable.name ?? '?').join(', ')})`,
  };
}
