// Saved graphs: saveGraph writes a graph as versioned JSON (format 'theorbo-graph',
// version 1) and loadGraph rebuilds it, so that a function compiled in Node can be saved
// and compiled again in a browser, and the other way round. The file holds one table of
// variables in an order where every variable comes after what it reads:
//   { kind: 'input' | 'constant' | 'shared', type, name?, value? } — a leaf;
//   { kind: 'output', op, inputs: [ids], attrs, type, name?, location? } — a node.
// A type is { dtype, shape (null: known at run time), broadcastable }; a value is
// { dtype, shape, data: base64 of the typed array's little-endian bytes }. Scan bodies
// (the step graphs of loops) are a second table whose variables live in the same id
// space; a scan node's attrs name its body as { $body: index }. Non-finite numbers in
// attributes are { $number: 'Infinity' | '-Infinity' | 'NaN' }.
// Loading makes every node again through its op's inference (makeNode), and refuses a
// node whose inferred type differs from the saved one, naming the JSON path.
// Left out: a side .npz for large weights (values are inline base64), and graphs whose
// attributes hold objects other than plain data and scan bodies.

import { isDType, type DType } from './dtype.ts';
import { makeNode } from './build.ts';
import { GraphError } from './errors.ts';
import { Constant, SharedVariable, Variable } from './graph.ts';
import type { SourceLocation } from './location.ts';
import { NDArray, sizeOf } from './ndarray.ts';
import { opNames, type OpName } from './ops.ts';
import { ScanBody, type ScanOutput } from './ops/scan.ts';
import { topologicalOrder } from './traverse.ts';
import { formatShape, TensorType, type Dim } from './type.ts';
import { base64Bytes, bytesBase64 } from './base64.ts';

export const savedGraphFormat = 'theorbo-graph';
export const savedGraphVersion = 1;

export interface SavedType { dtype: DType; shape: Dim[]; broadcastable: boolean[] }
export interface SavedValue { dtype: DType; shape: number[]; data: string }
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
}

export interface SaveOptions {
  /** The function's inputs, in order (every input the outputs read must be among them). */
  inputs?: readonly Variable[];
  /** Shared variables to save besides those the outputs read (e.g. ones only updates write). */
  shared?: readonly SharedVariable[];
  /** Updates of shared variables, as compile() takes them. */
  updates?: readonly (readonly [SharedVariable, Variable])[];
}

export interface LoadedGraph {
  inputs: Variable[];
  outputs: Variable[];
  /** Every shared variable of the file, in its order; by name in `sharedByName`. */
  shared: SharedVariable[];
  sharedByName: Record<string, SharedVariable>;
  updates: [SharedVariable, Variable][];
}

const saveError = (detail: string): GraphError => new GraphError('saveGraph', detail, undefined);

/** The graph of `outputs` (with their inputs, constants, shared values and scan bodies) as versioned JSON. */
export function saveGraph(outputs: Variable | readonly Variable[], options: SaveOptions = {}): string {
  return JSON.stringify(savedGraph(Array.isArray(outputs) ? outputs : [outputs as Variable], options));
}

/** The JSON object saveGraph writes (before stringifying). */
export function savedGraph(outputs: readonly Variable[], options: SaveOptions = {}): SavedGraph {
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
      entry.value = savedValue(variable.get());
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
  return {
    format: savedGraphFormat,
    version: savedGraphVersion,
    inputs: inputs.map(id),
    outputs: outputs.map(id),
    shared: [...ids].filter(([variable]) => variable instanceof SharedVariable).map(([, index]) => index),
    updates: updates.map(([target, value]) => [id(target), id(value)]),
    variables,
    bodies: savedBodies,
  };
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

// ---- loading ----

class Reader {
  constructor(readonly file: string) {}
  fail(path: string, detail: string): never {
    throw new GraphError('loadGraph', `${this.file}${path ? ` at ${path}` : ''}: ${detail}`, undefined);
  }
  object(value: unknown, path: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(path, `expected an object, found ${describe(value)}`);
    return value as Record<string, unknown>;
  }
  array(value: unknown, path: string): unknown[] {
    if (!Array.isArray(value)) this.fail(path, `expected an array, found ${describe(value)}`);
    return value;
  }
  integer(value: unknown, path: string, below?: number): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || (below !== undefined && value >= below)) {
      this.fail(path, `expected ${below === undefined ? 'a non-negative integer' : `an index below ${below}`}, found ${describe(value)}`);
    }
    return value;
  }
  string(value: unknown, path: string): string {
    if (typeof value !== 'string') this.fail(path, `expected a string, found ${describe(value)}`);
    return value;
  }
}

const describe = (value: unknown): string => (value === undefined ? 'nothing' : JSON.stringify(value)?.slice(0, 60) ?? String(value));

/**
 * Rebuilds a saved graph: its inputs (in the saved order), outputs, shared variables and
 * updates. `json` is the text saveGraph wrote or its parsed object; `file` names it in errors.
 */
export function loadGraph(json: string | object, options: { file?: string } = {}): LoadedGraph {
  const reader: Reader = new Reader(options.file ?? 'the saved graph');
  let parsed: unknown = json;
  if (typeof json === 'string') {
    try {
      parsed = JSON.parse(json);
    } catch (error) {
      reader.fail('', `not JSON (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  const root = reader.object(parsed, '');
  if (root.format !== savedGraphFormat) reader.fail('format', `expected '${savedGraphFormat}', found ${describe(root.format)}; this is not a saved Theorbo graph`);
  if (root.version !== savedGraphVersion) reader.fail('version', `version ${describe(root.version)} is not one this Theorbo reads (it reads version ${savedGraphVersion})`);
  const entries = reader.array(root.variables, 'variables');
  const savedBodies = reader.array(root.bodies ?? [], 'bodies');
  const built: Variable[] = [];
  const bodies: ScanBody[] = [];
  // A body is built once its variables are: just before the first node that names it.
  const ensureBody = (index: number): ScanBody => {
    if (bodies[index]) return bodies[index]!;
    const at = `bodies[${index}]`;
    const body = reader.object(savedBodies[index], at);
    const ref = (list: unknown, field: string): Variable[] => reader.array(list, `${at}.${field}`).map((item, i) => variableAt(item, `${at}.${field}[${i}]`));
    const outputs = reader.array(body.outputs, `${at}.outputs`).map((item, k): ScanOutput => {
      const output = reader.object(item, `${at}.outputs[${k}]`);
      const keep = output.keep === 'all' || output.keep === 'last' ? output.keep : reader.fail(`${at}.outputs[${k}].keep`, `expected 'all' or 'last', found ${describe(output.keep)}`);
      const taps = reader.array(output.taps, `${at}.outputs[${k}].taps`).map((tap, t) => {
        if (typeof tap !== 'number' || !Number.isInteger(tap) || tap >= 0) reader.fail(`${at}.outputs[${k}].taps[${t}]`, `a tap is a negative integer, found ${describe(tap)}`);
        return tap as number;
      });
      return { value: variableAt(output.value, `${at}.outputs[${k}].value`), taps, tapInputs: ref(output.tapInputs, `outputs[${k}].tapInputs`), keep };
    });
    const made = new ScanBody(
      ref(body.sequences, 'sequences'), outputs, ref(body.nonSequences, 'nonSequences'), body.goBackwards === true,
      typeof body.truncateGradient === 'number' ? body.truncateGradient : -1,
      reader.integer(body.userOutputs, `${at}.userOutputs`), ref(body.updateTargets ?? [], 'updateTargets'), reader.string(body.name, `${at}.name`),
    );
    bodies[index] = made;
    return made;
  };
  const variableAt = (item: unknown, path: string): Variable => {
    const index = reader.integer(item, path, entries.length);
    const variable = built[index];
    if (!variable) reader.fail(path, `variable ${index} is read before it is defined (variables must come after what they read)`);
    return variable;
  };

  entries.forEach((item, index) => {
    const path = `variables[${index}]`;
    const entry = reader.object(item, path);
    const type = readType(reader, entry.type, `${path}.type`);
    const name = entry.name === undefined ? undefined : reader.string(entry.name, `${path}.name`);
    const location = readLocation(entry.location);
    let variable: Variable;
    switch (entry.kind) {
      case 'input': variable = new Variable(type, 'input', null, name, location); break;
      case 'constant': variable = new Constant(readValue(reader, entry.value, type, `${path}.value`), name, location); break;
      case 'shared': variable = new SharedVariable(readValue(reader, entry.value, type, `${path}.value`), name, location); break;
      case 'output': {
        const op = reader.string(entry.op, `${path}.op`);
        if (!(opNames as readonly string[]).includes(op)) reader.fail(`${path}.op`, `unknown op '${op}'; this Theorbo has ${opNames.length} ops (a file from a newer version?)`);
        const inputs = reader.array(entry.inputs, `${path}.inputs`).map((input, i) => variableAt(input, `${path}.inputs[${i}]`));
        const attrs = decodeAttrs(reader, entry.attrs ?? {}, `${path}.attrs`, (body, at) => ensureBody(reader.integer(body, at, savedBodies.length)));
        try {
          variable = makeNode(op as OpName, inputs, attrs as never, location, `, loading ${path}`);
        } catch (error) {
          if (error instanceof GraphError) reader.fail(path, `the ${op} node cannot be made again: ${error.detail}`);
          reader.fail(`${path}.attrs`, `the ${op} node's attributes ${describe(entry.attrs)} do not fit it (${error instanceof Error ? error.message : String(error)})`);
        }
        if (!variable.type.equals(type)) {
          reader.fail(`${path}.type`, `the ${op} node was saved as ${type} but its inputs (${inputs.map((input) => input.type).join(', ')}) give ${variable.type}; the file is inconsistent`);
        }
        variable.name = name;
        break;
      }
      default: reader.fail(`${path}.kind`, `expected 'input', 'constant', 'shared' or 'output', found ${describe(entry.kind)}`);
    }
    built[index] = variable;
  });
  // Default updates read their own shared variable, so they are set once everything exists.
  entries.forEach((item, index) => {
    const entry = item as SavedVariable;
    if (entry.defaultUpdate === undefined) return;
    const target = built[index];
    if (!(target instanceof SharedVariable)) reader.fail(`variables[${index}].defaultUpdate`, 'only a shared variable has a default update');
    target.defaultUpdate = variableAt(entry.defaultUpdate, `variables[${index}].defaultUpdate`);
  });
  savedBodies.forEach((_, index) => ensureBody(index));

  const list = (field: string): Variable[] => reader.array(root[field] ?? [], field).map((item, i) => variableAt(item, `${field}[${i}]`));
  const inputs = list('inputs');
  inputs.forEach((input, i) => input.kind === 'input' || reader.fail(`inputs[${i}]`, `variable ${String(input)} is not an input`));
  const shared = list('shared').map((variable, i) => (variable instanceof SharedVariable ? variable : reader.fail(`shared[${i}]`, `${String(variable)} is not a shared variable`)));
  const updates = reader.array(root.updates ?? [], 'updates').map((pair, i): [SharedVariable, Variable] => {
    const [target, value] = reader.array(pair, `updates[${i}]`);
    const shared = variableAt(target, `updates[${i}][0]`);
    if (!(shared instanceof SharedVariable)) reader.fail(`updates[${i}][0]`, `${String(shared)} is not a shared variable`);
    return [shared, variableAt(value, `updates[${i}][1]`)];
  });
  const sharedByName: Record<string, SharedVariable> = {};
  for (const variable of shared) if (variable.name !== undefined) sharedByName[variable.name] = variable;
  return { inputs, outputs: list('outputs'), shared, sharedByName, updates };
}

function readType(reader: Reader, value: unknown, path: string): TensorType {
  const type = reader.object(value, path);
  if (!isDType(type.dtype)) reader.fail(`${path}.dtype`, `unknown dtype ${describe(type.dtype)}`);
  const shape = reader.array(type.shape, `${path}.shape`).map((dim, axis) => (dim === null ? null : reader.integer(dim, `${path}.shape[${axis}]`)));
  if (type.broadcastable !== undefined) {
    const flags = reader.array(type.broadcastable, `${path}.broadcastable`);
    const expected = shape.map((dim) => dim === 1);
    if (flags.length !== shape.length || flags.some((flag, axis) => flag !== expected[axis])) {
      reader.fail(`${path}.broadcastable`, `${describe(flags)} does not match shape ${formatShape(shape)} (an axis is broadcastable exactly where its size is 1)`);
    }
  }
  return new TensorType(type.dtype, shape);
}

function readValue(reader: Reader, value: unknown, type: TensorType, path: string): NDArray {
  const saved = reader.object(value, path);
  if (saved.dtype !== type.dtype) reader.fail(`${path}.dtype`, `the value is ${describe(saved.dtype)} but the variable's type is ${type}`);
  const shape = reader.array(saved.shape, `${path}.shape`).map((dim, axis) => reader.integer(dim, `${path}.shape[${axis}]`));
  if (shape.length !== type.ndim || type.shape.some((dim, axis) => dim !== null && dim !== shape[axis])) {
    reader.fail(`${path}.shape`, `the value's shape ${formatShape(shape)} does not fit the type ${type}`);
  }
  let bytes: Uint8Array;
  try {
    bytes = base64Bytes(reader.string(saved.data, `${path}.data`));
  } catch (error) {
    reader.fail(`${path}.data`, error instanceof Error ? error.message : String(error));
  }
  const data = NDArray.zeros(type.dtype, shape).data;
  if (bytes.length !== data.byteLength) {
    reader.fail(`${path}.data`, `holds ${bytes.length} bytes, but a ${type.dtype} array of shape ${formatShape(shape)} needs ${data.byteLength} (${sizeOf(shape)} elements)`);
  }
  new Uint8Array(data.buffer, data.byteOffset, data.byteLength).set(bytes);
  return new NDArray(type.dtype, shape, data);
}

function readLocation(value: unknown): SourceLocation | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { file, line, column } = value as Record<string, unknown>;
  return typeof file === 'string' && typeof line === 'number' && typeof column === 'number' ? { file, line, column } : undefined;
}

function decodeAttrs(reader: Reader, value: unknown, path: string, body: (index: unknown, path: string) => ScanBody): unknown {
  if (Array.isArray(value)) return Object.freeze(value.map((item, i) => decodeAttrs(reader, item, `${path}[${i}]`, body)));
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  if ('$body' in record) return body(record.$body, `${path}.$body`);
  if ('$number' in record) {
    const number = Number(record.$number);
    if (!['Infinity', '-Infinity', 'NaN'].includes(String(record.$number))) reader.fail(`${path}.$number`, `expected 'Infinity', '-Infinity' or 'NaN', found ${describe(record.$number)}`);
    return number;
  }
  return Object.fromEntries(Object.entries(record).map(([key, item]) => [key, decodeAttrs(reader, item, `${path}.${key}`, body)]));
}
