// loadGraph: rebuilds a graph that saveGraph (or saveGraphParts, with its side file's
// arrays) wrote; the format is described in saved-graph.ts. Every node is made again
// through its op's inference (makeNode); a file that does not hold together fails with
// the file's name and the JSON path of the fault.
// Left out: reading the side file itself (the music package decodes .npz archives).

import { isDType, type DType } from './dtype.ts';
import { makeNode } from './build.ts';
import { GraphError } from './errors.ts';
import { Constant, SharedVariable, Variable } from './graph.ts';
import type { SourceLocation } from './location.ts';
import { NDArray, sizeOf } from './ndarray.ts';
import { opNames, type OpName } from './ops.ts';
import { ScanBody, type ScanOutput } from './ops/scan.ts';
import { formatShape, TensorType } from './type.ts';
import { base64Bytes } from './base64.ts';
import { savedGraphFormat, savedGraphVersion, type SavedVariable } from './saved-graph.ts';

export interface LoadOptions {
  /** Names the file in errors (default 'the saved graph'). */
  file?: string;
  /** The arrays of the side file of values, by member name, for a graph saved with saveGraphParts. */
  values?: Readonly<Record<string, NDArray>>;
  /** Names the side file in errors (default: the file name the graph records). */
  valuesFile?: string;
}

export interface LoadedGraph {
  inputs: Variable[];
  outputs: Variable[];
  /** Every shared variable of the file, in its order; by name in `sharedByName`. */
  shared: SharedVariable[];
  sharedByName: Record<string, SharedVariable>;
  updates: [SharedVariable, Variable][];
  /** The `metadata` given to saveGraph (undefined when none was). */
  metadata: unknown;
}

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
export function loadGraph(json: string | object, options: LoadOptions = {}): LoadedGraph {
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
  const values: SideValues = {
    arrays: options.values,
    file: options.valuesFile ?? (typeof root.valuesFile === 'string' ? root.valuesFile : 'the side file of values'),
    used: new Set(),
  };
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
      case 'shared': variable = new SharedVariable(readValue(reader, entry.value, type, `${path}.value`, values), name, location); break;
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
  const unused = Object.keys(values.arrays ?? {}).filter((member) => !values.used.has(member));
  if (unused.length > 0) reader.fail('', `${values.file} holds ${unused.map((member) => `'${member}'`).join(', ')}, which no variable of the graph names; is it the values file of another graph?`);
  return { inputs, outputs: list('outputs'), shared, sharedByName, updates, metadata: root.metadata };
}

/** The side file's arrays as loadGraph was given them, its name for errors, and the members read so far. */
interface SideValues { arrays: Readonly<Record<string, NDArray>> | undefined; file: string; used: Set<string> }

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

function readValue(reader: Reader, value: unknown, type: TensorType, path: string, side?: SideValues): NDArray {
  const saved = reader.object(value, path);
  if (saved.dtype !== type.dtype) reader.fail(`${path}.dtype`, `the value is ${describe(saved.dtype)} but the variable's type is ${type}`);
  const shape = reader.array(saved.shape, `${path}.shape`).map((dim, axis) => reader.integer(dim, `${path}.shape[${axis}]`));
  if (shape.length !== type.ndim || type.shape.some((dim, axis) => dim !== null && dim !== shape[axis])) {
    reader.fail(`${path}.shape`, `the value's shape ${formatShape(shape)} does not fit the type ${type}`);
  }
  if (saved.member !== undefined && side) return sideValue(reader, reader.string(saved.member, `${path}.member`), type.dtype, shape, side, path);
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

function sideValue(reader: Reader, member: string, dtype: DType, shape: number[], side: SideValues, path: string): NDArray {
  if (!side.arrays) {
    reader.fail(`${path}.member`, `the value is the array '${member}' of ${side.file}, which was not given (pass its arrays as loadGraph's values option; the music package's loadGraphFiles reads both files)`);
  }
  const array = Object.hasOwn(side.arrays, member) ? side.arrays[member] : undefined;
  if (!array) {
    const held = Object.keys(side.arrays);
    reader.fail(`${path}.member`, `${side.file} has no array '${member}' (it holds ${held.length === 0 ? 'none' : held.map((name) => `'${name}'`).join(', ')})`);
  }
  if (array.dtype !== dtype || array.shape.length !== shape.length || array.shape.some((dim, axis) => dim !== shape[axis])) {
    reader.fail(`${path}.member`, `${side.file}'s array '${member}' is ${array.dtype}${formatShape(array.shape)}, but the graph expects ${dtype}${formatShape(shape)}`);
  }
  side.used.add(member);
  return array;
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
