// A saved graph on disk (Node only): saveGraphFiles writes `<dir>/graph.json` and, unless
// the values go inline, `<dir>/values.npz` beside it (values first, both atomically);
// loadGraphFiles reads the JSON (given the file or its folder) and the archive it names
// from the same folder. A missing or damaged file is a FileFormatError naming its path
// and the reason. Left out: the format itself (graph package) and the bytes (graph-codec.ts).

import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as T from '@theorbo/graph';
import { readShared } from '@theorbo/codegen';
import { writeFileAtomic } from '../files/atomic-write.ts';
import { FileFormatError } from '../files/file-format-error.ts';
import { decodeGraphFiles, encodeGraphFiles, graphValuesFile } from './graph-codec.ts';
import { readNpz } from './npz.ts';

export const graphPaths = (dir: string): { graph: string; values: string } => ({ graph: join(dir, 'graph.json'), values: join(dir, 'values.npz') });

export interface SaveGraphFilesOptions extends T.SaveOptions {
  /** Keep the shared values in the JSON as base64 (one file) instead of values.npz. */
  inline?: boolean;
}

/** Writes the graph of `outputs` to `dir`; returns the paths written. Shared values a device holds are read back first. */
export async function saveGraphFiles(dir: string, outputs: T.Variable | readonly T.Variable[], options: SaveGraphFilesOptions = {}): Promise<{ graph: string; values?: string }> {
  const roots = [...(Array.isArray(outputs) ? outputs : [outputs as T.Variable]), ...(options.shared ?? []), ...(options.updates ?? []).flat()];
  for (const variable of T.topologicalOrder(roots)) if (variable instanceof T.SharedVariable) await readShared(variable);
  const paths = graphPaths(dir);
  const { inline, ...saveOptions } = options;
  if (inline) {
    writeFileAtomic(paths.graph, T.saveGraph(outputs, saveOptions), { operation: 'saveGraphFiles', createDirectory: true });
    return { graph: paths.graph };
  }
  const { json, npz } = encodeGraphFiles(outputs, { ...saveOptions, valuesFile: basename(paths.values) });
  writeFileAtomic(paths.values, npz, { operation: 'saveGraphFiles', createDirectory: true });
  writeFileAtomic(paths.graph, json, { operation: 'saveGraphFiles' });
  return paths;
}

/** The graph saved in `path` (graph.json, or a folder holding it) with the values file it names. */
export function loadGraphFiles(path: string): T.LoadedGraph {
  const graphPath = isDirectory(path) ? graphPaths(path).graph : path;
  let text: string;
  try {
    text = readFileSync(graphPath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new FileFormatError('loadGraphFiles', graphPath, `cannot be read: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`, undefined, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return T.loadGraph(text, { file: graphPath }); // its error says why the text is not JSON
  }
  const valuesName = graphValuesFile(parsed);
  if (valuesName === undefined) return T.loadGraph(parsed as object, { file: graphPath });
  // Only a name beside the JSON: a file naming '../elsewhere' still reads from its own folder.
  const valuesPath = join(dirname(graphPath), basename(valuesName));
  const values = readNpz(valuesPath, 'loadGraphFiles').arrays;
  return T.loadGraph(parsed as object, { file: graphPath, values, valuesFile: valuesPath });
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
