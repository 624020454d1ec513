// Saved graphs whose shared variables' values sit in a side .npz (browser-safe: bytes in,
// bytes out; graph-files.ts reads and writes the two files in Node). The JSON is the
// graph package's format with each shared value named by an array of the archive
// (saveGraphParts); numpy.load reads the archive as it reads a model's weights.npz.
// Errors name the file: a damaged archive is decodeNpz's FileFormatError, a missing or
// mismatched array is loadGraph's GraphError naming the JSON path and the archive.
// Left out: constants in the archive (they stay inline in the JSON).

import * as T from '@theorbo/graph';
import { decodeNpz, encodeNpz } from './npz-codec.ts';

export interface GraphFileNames {
  /** The JSON's name in errors (default graph.json). */
  graph?: string;
  /** The archive's name in errors (default: the name the JSON records). */
  values?: string;
}

/** The graph of `outputs` as JSON and its shared values as the bytes of an .npz archive. */
export function encodeGraphFiles(outputs: T.Variable | readonly T.Variable[], options: T.SaveOptions & { valuesFile?: string } = {}): { json: string; npz: Uint8Array } {
  const { json, values } = T.saveGraphParts(outputs, options);
  return { json, npz: encodeNpz(values, {}, 'encodeGraphFiles') };
}

/** Rebuilds a graph from its JSON (text or bytes) and, when it keeps its values apart, the .npz archive's bytes. */
export function decodeGraphFiles(json: string | Uint8Array, npz: Uint8Array | undefined, names: GraphFileNames = {}): T.LoadedGraph {
  const text = typeof json === 'string' ? json : new TextDecoder().decode(json);
  const graph = names.graph ?? 'graph.json';
  if (npz === undefined) return T.loadGraph(text, { file: graph });
  const valuesFile = names.values ?? 'values.npz';
  return T.loadGraph(text, { file: graph, values: decodeNpz(npz, valuesFile, 'loadGraphFiles').arrays, valuesFile });
}

/** The side file a saved graph's JSON names (saveGraphParts), or undefined when its values are inline or it is no saved graph. */
export function graphValuesFile(parsed: unknown): string | undefined {
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { format, valuesFile } = parsed as { format?: unknown; valuesFile?: unknown };
  return format === T.savedGraphFormat && typeof valuesFile === 'string' ? valuesFile : undefined;
}
