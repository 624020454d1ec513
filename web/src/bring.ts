// The Bring your model view: either the weights.npz + config.json that `theorbo train`
// (saveModel) writes, checked and rebuilt by the music package's decodeChromaModel, or a
// saved graph (`theorbo export-graph`, or saveGraph): graph.json alone, or graph.json with
// the values.npz it names. A graph with a model config in its metadata computes that
// model's input; one without takes the default CQT frames [frames, 84]
// (chromaModelFromGraph). Then run on an audio file like Listen. A bad file is reported
// with its name and what is wrong.

import { savedGraphFormat } from '@theorbo/graph';
import { chromaModelFromGraph, decodeChromaModel, decodeGraphFiles, graphValuesFile } from '@theorbo/music/browser';
import type { LoadedModel } from './engine.ts';

/** The model in the chosen files; errors name the file and the field. */
export async function loadModelFiles(files: readonly File[]): Promise<{ loaded: LoadedModel; summary: string }> {
  const npz = files.filter((file) => file.name.endsWith('.npz'));
  const json = files.filter((file) => file.name.endsWith('.json'));
  const chosen = files.map((file) => file.name).join(', ') || 'none';
  if (json.length !== 1 || npz.length > 1 || files.length !== json.length + npz.length) {
    throw new Error(`choose the two files of a model folder (weights.npz and config.json), or a saved graph (graph.json, with its values.npz if it has one); chosen: ${chosen}`);
  }
  const text = await json[0]!.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${json[0]!.name} is not JSON (${(error as Error).message})`);
  }
  const isGraph = (parsed as { format?: unknown } | null)?.format === savedGraphFormat;
  if (isGraph) return loadSavedGraph(json[0]!, text, parsed, npz[0]);
  if (!npz[0]) throw new Error(`${json[0]!.name} is not a saved graph (its format is not 'theorbo-graph'); a model's config.json needs its weights.npz chosen with it`);
  const bytes = { weights: new Uint8Array(await npz[0].arrayBuffer()), config: new TextEncoder().encode(text) };
  const loaded = decodeChromaModel(bytes, { weights: npz[0].name, config: json[0]!.name });
  const params = loaded.model.params.map((param) => `${param.name}[${param.shape.join('×')}]`).join(', ');
  return { loaded, summary: `${loaded.config.kind} model: ${params || 'no parameters'}; features at ${loaded.config.feature.sampleRate} Hz, hop ${loaded.config.feature.hop}` };
}

async function loadSavedGraph(file: File, text: string, parsed: unknown, npz: File | undefined): Promise<{ loaded: LoadedModel; summary: string }> {
  const valuesFile = graphValuesFile(parsed);
  if (valuesFile !== undefined && !npz) throw new Error(`${file.name} keeps its weights in ${valuesFile}: choose that file together with ${file.name}`);
  if (valuesFile === undefined && npz) throw new Error(`${file.name} holds its weights inline and names no values file; ${npz.name} does not belong to it`);
  const graph = decodeGraphFiles(text, npz && new Uint8Array(await npz.arrayBuffer()), { graph: file.name, values: npz?.name });
  const loaded = chromaModelFromGraph(graph, file.name);
  const shared = graph.shared.map((variable) => `${variable.name ?? '?'}[${variable.shape.join('×')}]`).join(', ');
  return {
    loaded,
    summary: `saved graph (${loaded.config.kind}${valuesFile ? `, values in ${npz!.name}` : ''}): ${loaded.model.features.type} → ${loaded.model.chroma.type}, ${graph.shared.length} shared variables (${shared})`,
  };
}
