// A chroma model as a saved graph (browser-safe): the graph of the model's frame input
// → chroma [frames, 12], with the model's config (features, kind) in the graph's
// metadata, so that whoever loads it computes the same input (`theorbo export-graph`
// writes one; Bring your model in the web app runs one). A graph saved without that
// metadata is taken as a chroma of the default features' CQT frames [frames, 84].
// Errors name the file and what does not fit.
// Left out: writing files (graph-files.ts) and decoding the chords (recognize.ts).

import * as T from '@theorbo/graph';
import { checkModelConfig } from './config-schema.ts';
import { featureDefaults } from './features.ts';
import type { ChromaModel } from './models.ts';
import type { ModelConfig } from './registry.ts';

/** The metadata's `kind` that marks a saved chroma model. */
export const chromaGraphKind = 'theorbo-chroma-model';

export type ChromaGraphModel = { model: Pick<ChromaModel, 'features' | 'chroma'>; config: ModelConfig };

/** What saveGraph should keep with a chroma model's graph. */
export function chromaGraphMetadata(config: ModelConfig): { kind: typeof chromaGraphKind; config: ModelConfig } {
  return { kind: chromaGraphKind, config };
}

/** The chroma model in a loaded graph: its one input and its first output, with the config its metadata holds. */
export function chromaModelFromGraph(graph: T.LoadedGraph, file: string): ChromaGraphModel {
  const metadata = graph.metadata as { kind?: unknown; config?: unknown } | undefined;
  const config = metadata?.kind === chromaGraphKind
    ? checkModelConfig(metadata.config, `${file} (metadata)`)
    : { kind: 'learned-chroma', feature: featureDefaults } satisfies ModelConfig;
  const [features] = graph.inputs, [chroma] = graph.outputs;
  const expected = metadata?.kind === chromaGraphKind ? `a ${config.kind} model's input` : `the CQT frames [frames, ${featureDefaults.nBins}] (no model config in its metadata)`;
  const fail = (problem: string): never => {
    throw new Error(`${file}: ${problem}; a chroma graph takes ${expected} and gives the chroma [frames, 12] first`);
  };
  if (graph.inputs.length !== 1 || !features) return fail(`the graph has ${graph.inputs.length} inputs`);
  if (metadata?.kind !== chromaGraphKind && (features.ndim !== 2 || (features.shape[1] !== null && features.shape[1] !== featureDefaults.nBins))) fail(`its input is ${features.type}`);
  if (!chroma || chroma.ndim !== 2 || (chroma.shape[1] !== null && chroma.shape[1] !== 12)) fail(`its first output is ${chroma?.type ?? 'missing'}`);
  return { model: { features, chroma: chroma! }, config };
}
