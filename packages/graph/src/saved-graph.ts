// Saved graphs: saveGraph writes a graph as versioned JSON (format 'theorbo-graph',
// version 1) and loadGraph rebuilds it, so that a function compiled in Node can be saved
// and compiled again in a browser, and the other way round. The file holds one table of
// variables in an order where every variable comes after what it reads:
//   { kind: 'input' | 'constant' | 'shared', type, name?, value? } — a leaf;
//   { kind: 'output', op, inputs: [ids], attrs, type, name?, location? } — a node.
// A type is { dtype, shape (null: known at run time), broadcastable }; a value is
// { dtype, shape, data: base64 of the typed array's little-endian bytes }, or, for shared
// variables saved with saveGraphParts, { dtype, shape, member: a name } whose array lives
// in a side file (the root's `valuesFile`, e.g. values.npz; the music package reads and
// writes that archive) and reaches loadGraph as options.values. Scan bodies
// (the step graphs of loops) are a second table whose variables live in the same id
// space; a scan node's attrs name its body as { $body: index }. Non-finite numbers in
// attributes are { $number: 'Infinity' | '-Infinity' | 'NaN' }. The root's optional
// `metadata` is plain JSON that the saver attaches and loadGraph hands back (the music
// package records there which features a chroma graph takes).
// Loading (load-graph.ts) makes every node again through its op's inference, and refuses a
// node whose inferred type differs from the saved one, naming the JSON path.
// Left out: constants in the side file (they stay inline), and graphs whose attributes
// hold objects other than plain data and scan bodies.

import type { DType } from './dtype.ts';
import { GraphError } from './errors.ts';
import { Constant, SharedVariable, Variable } from './graph.ts';
import type { SourceLocation } from './location.ts';
import type { NDArray } from './ndarray.ts';
import type { OpName } from './ops.ts';
import { ScanBody } from './ops/scan.ts';
import { topologicalOrder } from './traverse.ts';
import type { TensorType, Dim } from './type.ts';
import { bytesBase64 } from './base64.ts';

export const savedGraphFormat = 'theorbo-graph';
export const savedGraphVersion = 1;

export interface SavedType { dtype: DType; shape: Dim[]; broadcastable: boolean[] }
/** `data`: the bytes in base64; `member`: the name of the array in the side file of values instead. */
export interface SavedValue { dtype: DType; shape: number[]; data?: string; member?: string }
export interface SavedVariable {
  kind: 'input' | 'constant' | 'shared' | 'output';
  type: SavedType;
  name?: string;
  value?: SavedValue;
  op?: OpName;
  inputs?: number[];
  attrs?: unknown;
  location?: SourceLocation;
  /** A shared variable's default update (random streams), by id. */
  defaultUpdate?: number;
}
export interface SavedBody {
  name: string;
  sequences: number[];
  outputs: { value: number; taps: number[]; tapInputs: number[]; keep: 'all' | 'last' }[];
  nonSequences: number[];
  goBackwards: boolean;
  truncateGradient: number;
  userOutputs: number;
  updateTargets: number[];
}
export interface SavedGraph {
  format: typeof savedGraphFormat;
  version: number;
  inputs: number[];
  outputs: number[];
  shared: number[];
  updates: [number, number][];
  variables: SavedVariable[];
  bodies: SavedBody[];
  /** The side file holding the values saved by member name (saveGraphParts). */
  valuesFile?: string;
  metadata?: unknown;
}

export interface SaveOptions {
  /** The function's inputs, in order (every input the outputs read must be among them). */
  inputs?: readonly Variable[];
  /** Shared variables to save besides those the outputs read (e.g. ones only updates write). */
  shared?: readonly SharedVariable[];
  /** Updates of shared variables, as compile() takes them. */
  updates?: readonly (readonly [SharedVariable, Variable])[];
  /** Plain JSON kept with the graph and handed back by loadGraph (e.g. the settings of the features a model takes). */
  metadata?: unknown;
}

/** A saved graph whose shared variables' values are kept apart, by member name, for a side file (e.g. an .npz). */
export interface SavedGraphParts {
  json: string;
  values: Record<string, NDArray>;
}


const saveError = (detail: string): GraphError => new GraphError('saveGraph', detail, undefined);

/** The graph of `outputs` (with their inputs, constants, shared values and scan bodies) as versioned JSON. */
export function saveGraph(outputs: Variable | readonly Variable[], options: SaveOptions = {}): string {
  return JSON.stringify(savedGraph(Array.isArray(outputs) ? outputs : [outputs as Variable], options));
}

/**
 * saveGraph with the shared variables' values kept out of the JSON: each is named by a
 * member (the variable's name where it is unique, else `shared<id>`) of the side file
 * `valuesFile` (default 'values.npz'), whose arrays are returned beside the JSON.
 */
export function saveGraphParts(outputs: Variable | readonly Variable[], options: SaveOptions & { valuesFile?: string } = {}): SavedGraphParts {
  const values: Record<string, NDArray> = {};
  const graph = savedGraph(Array.isArray(outputs) ? outputs : [outputs as Variable], options, values);
  graph.valuesFile = options.valuesFile ?? 'values.npz';
  return { json: JSON.stringify(graph), values };
}

/** The JSON object saveGraph writes (before stringifying); with `external`, shared values go there by member name. */
export function savedGraph(outputs: readonly Variable[], options: SaveOptions = {}, external?: Record<string, NDArray>): SavedGraph {
  const ids = new Map<Variable, number>();
  const bodies = new Map<ScanBody, number>();
  const variables: SavedVariable[] = [];
  const savedBodies: SavedBody[] = [];
  const inputs = options.inputs ?? [];
  const updates = options.updates ?? [];

  const visit = (roots: readonly Variable[]): void => {
    for (const variable of topologicalOrder(roots)) {
      if (ids.has(variable)) continue;
      const node = variable.owner;
      if (node && node.op === 'scan') visitBody((node.attrs as { body: ScanBody }).body);
      ids.set(variable, variables.length);
      const entry = saveVariable(variable);
      variables.push(entry);
      // A default update reads its own shared variable: saved after it, linked once saved.
      if (variable instanceof SharedVariable && variable.defaultUpdate) {
        visit([variable.defaultUpdate]);
        entry.defaultUpdate = id(variable.defaultUpdate);
      }
    }
  };
  const visitBody = (body: ScanBody): void => {
    if (bodies.has(body)) return;
    const placeholders = [...body.sequences, ...body.outputs.flatMap((output) => output.tapInputs), ...body.nonSequences];
    visit([...placeholders, ...body.outputs.map((output) => output.value), ...body.updateTargets]);
    bodies.set(body, savedBodies.length);
    savedBodies.push({
      name: body.name,
      sequences: body.sequences.map(id),
      outputs: body.outputs.map((output) => ({ value: id(output.value), taps: [...output.taps], tapInputs: output.tapInputs.map(id), keep: output.keep })),
      nonSequences: body.nonSequences.map(id),
      goBackwards: body.goBackwards,
      truncateGradient: body.truncateGradient,
      userOutputs: body.userOutputs,
      updateTargets: body.updateTargets.map(id),
    });
  };
  const id = (variable: Variable): number => {
    const found = ids.get(variable);
    if (found === undefined) throw saveError(`${variable} is read but was not reached from the outputs (an internal error)`);
    return found;
  };
  const saveVariable = (variable: Variable): SavedVariable => {
    const entry: SavedVariable = { kind: variable.kind, type: savedType(variable.type) };
    if (variable.name !== undefined) entry.name = variable.name;
    if (variable instanceof Constant) entry.value = savedValue(variable.value);
    else if (variable instanceof SharedVariable) {
      if (external) entry.value = externalValue(variable, variables.length, external);
      else entry.value = savedValue(variable.get());
    } else if (variable.owner) {
      const node = variable.owner;
      entry.op = node.op;
      entry.inputs = node.inputs.map(id);
      entry.attrs = encodeAttrs(node.attrs, node.op, bodies);
      if (variable.location) entry.location = { ...variable.location };
    }
    return entry;
  };

  for (const input of inputs) {
    if (!(input instanceof Variable) || input.kind !== 'input') throw saveError(`options.inputs must be input variables (made with T.tensor, T.matrix …); got ${String(input)}`);
  }
  visit([...inputs, ...outputs, ...(options.shared ?? []), ...updates.flatMap(([target, value]) => [target, value])]);
  const listed = new Set(inputs);
  const bodyPlaceholders = new Set(savedBodies.flatMap((body) => [...body.sequences, ...body.nonSequences, ...body.outputs.flatMap((output) => output.tapInputs)]));
  const unlisted = [...ids].filter(([variable, index]) => variable.kind === 'input' && !listed.has(variable) && !bodyPlaceholders.has(index));
  if (unlisted.length > 0) {
    throw saveError(`the outputs read ${unlisted.map(([variable]) => String(variable)).join(', ')}, which options.inputs does not list; give every input, in the order the loaded function should take them`);
  }
  const graph: SavedGraph = {
    format: savedGraphFormat,
    version: savedGraphVersion,
    inputs: inputs.map(id),
    outputs: outputs.map(id),
    shared: [...ids].filter(([variable]) => variable instanceof SharedVariable).map(([, index]) => index),
    updates: updates.map(([target, value]) => [id(target), id(value)]),
    variables,
    bodies: savedBodies,
  };
  if (options.metadata !== undefined) graph.metadata = JSON.parse(JSON.stringify(options.metadata)) as unknown;
  return graph;
}

/** A shared value saved as a member of the side file: the variable's name if free and usable, else shared<id>. */
function externalValue(variable: SharedVariable, index: number, external: Record<string, NDArray>): SavedValue {
  const name = variable.name;
  let member = name !== undefined && /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name) && name !== '__proto__' ? name : `shared${index}`;
  while (Object.hasOwn(external, member)) member += '_';
  const value = variable.get();
  external[member] = value;
  return { dtype: value.dtype, shape: [...value.shape], member };
}

function savedType(type: TensorType): SavedType {
  return { dtype: type.dtype, shape: [...type.shape], broadcastable: type.broadcastable };
}

function savedValue(value: NDArray): SavedValue {
  const data = value.data;
  return { dtype: value.dtype, shape: [...value.shape], data: bytesBase64(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)) };
}

function encodeAttrs(value: unknown, op: OpName, bodies: ReadonlyMap<ScanBody, number>): unknown {
  if (value instanceof ScanBody) return { $body: bodies.get(value)! };
  if (typeof value === 'number') return Number.isFinite(value) ? value : { $number: String(value) };
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map((item) => encodeAttrs(item, op, bodies));
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value as object).map(([key, item]) => [key, encodeAttrs(item, op, bodies)]));
  }
  throw saveError(`a ${op} node has an attribute that is not plain data (${String(value)}); the saved format cannot hold it`);
}
