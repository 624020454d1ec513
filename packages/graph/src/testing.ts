// Test helpers shared by every package's tests (exported as `@theorbo/graph/testing`):
// seeded random arrays, tensors built from an index function, closeness checks that
// report the worst element, and a one-line op check against independently computed
// values.

import { allocate, castScalar, isFloat, type DType } from './dtype.ts';
import { EvaluationError, GraphError } from './errors.ts';
import { formatShape } from './type.ts';
import { evaluate } from './evaluate.ts';
import { tensor, type Variable } from './graph.ts';
import { array, NDArray, sizeOf, type NestedArray } from './ndarray.ts';

/** mulberry32: a small, seedable generator of uniform numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Seeded choices for test generators: coins, integers below n, and picks from a list. */
export class Dice {
  readonly random: () => number;
  constructor(readonly seed: number) {
    this.random = seededRandom(seed);
  }
  chance(p: number): boolean {
    return this.random() < p;
  }
  int(n: number): number {
    return Math.floor(this.random() * n);
  }
  pick<V>(items: readonly V[]): V {
    return items[this.int(items.length)]!;
  }
}

export interface RandomOptions {
  low?: number;
  high?: number;
  seed?: number;
}

/** Uniform values in [low, high) (integers for integer dtypes, 0/1 for bool). */
export function randomArray(dtype: DType, shape: readonly number[], options: RandomOptions = {}): NDArray {
  const random = seededRandom(options.seed ?? 1234);
  const low = options.low ?? (dtype === 'uint32' ? 0 : -2);
  const high = options.high ?? 2;
  const data = allocate(dtype, sizeOf(shape));
  for (let i = 0; i < data.length; i++) {
    const u = random();
    data[i] = dtype === 'bool' ? (u < 0.5 ? 1 : 0) : isFloat(dtype) ? castScalar(low + (high - low) * u, dtype) : Math.floor(low + (high - low) * u);
  }
  return new NDArray(dtype, shape, data);
}

/** A tensor whose element at each multi-index is `fn(index)`: the way tests write expected values as plain loops. */
export function fromFunction(dtype: DType, shape: readonly number[], fn: (index: number[]) => number): NDArray {
  const out = NDArray.zeros(dtype, shape);
  const index = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < out.size; flat++) {
    out.data[flat] = castScalar(fn(index), dtype);
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      if (++index[axis]! < shape[axis]!) break;
      index[axis] = 0;
    }
  }
  return out;
}

export interface Tolerance {
  rtol?: number;
  atol?: number;
}

/** Default tolerance of a dtype: tight for float64, float32-rounding for float32, exact for integers. */
export function defaultTolerance(dtype: DType): Required<Tolerance> {
  if (dtype === 'float64') return { rtol: 1e-12, atol: 1e-12 };
  if (dtype === 'float32') return { rtol: 1e-5, atol: 1e-6 };
  return { rtol: 0, atol: 0 };
}

/** Throws with the worst element unless shapes, dtypes and values agree (NaN equals NaN). */
export function assertClose(actual: NDArray, expected: NDArray | NestedArray, tolerance: Tolerance = {}, label = 'value'): void {
  const want = expected instanceof NDArray ? expected : array(expected, { dtype: actual.dtype });
  if (actual.dtype !== want.dtype) throw new Error(`${label}: dtype ${actual.dtype}, expected ${want.dtype}`);
  if (actual.shape.join(',') !== want.shape.join(',')) {
    throw new Error(`${label}: shape [${actual.shape.join(',')}], expected [${want.shape.join(',')}]`);
  }
  const { rtol, atol } = { ...defaultTolerance(actual.dtype), ...tolerance };
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.size; i++) {
    const a = actual.data[i]!;
    const b = want.data[i]!;
    if (Number.isNaN(a) && Number.isNaN(b)) continue;
    if (a === b) continue;
    const excess = Math.abs(a - b) - (atol + rtol * Math.abs(b));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    const index = unravel(worst, actual.shape);
    throw new Error(`${label}: element [${index.join(',')}] is ${actual.data[worst]}, expected ${want.data[worst]} (rtol ${rtol}, atol ${atol})`);
  }
}

export function unravel(flat: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length);
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    index[axis] = flat % shape[axis]!;
    flat = Math.floor(flat / shape[axis]!);
  }
  return index;
}

export type InputSpec = NDArray | { dtype: DType; shape: readonly number[]; low?: number; high?: number };

/**
 * The one-line op check: builds the graph from symbolic inputs of the given types,
 * evaluates it with the reference evaluator on random (or given) values, and compares
 * with `expected`, computed independently from the same values.
 */
export function checkOp(
  label: string,
  build: (...inputs: Variable[]) => Variable,
  specs: readonly InputSpec[],
  expected: (...values: NDArray[]) => NDArray | NestedArray,
  tolerance: Tolerance = {},
): void {
  const values = specs.map((spec, i) => (spec instanceof NDArray ? spec : randomArray(spec.dtype, spec.shape, { low: spec.low, high: spec.high, seed: 97 + 31 * i })));
  const inputs = values.map((value, i) => tensor(value.dtype, value.shape, `in${i}`));
  const output = build(...inputs);
  const actual = evaluate(output, inputs.map((input, i) => [input, values[i]!] as const));
  assertClose(actual, expected(...values), tolerance, label);
}

/** Asserts that `fn` throws a GraphError whose message contains every fragment. */
export function expectGraphError(fn: () => unknown, ...fragments: (string | RegExp)[]): GraphError {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof GraphError)) throw new Error(`expected a GraphError, got ${String(error)}`);
    for (const fragment of fragments) {
      const found = typeof fragment === 'string' ? error.message.includes(fragment) : fragment.test(error.message);
      if (!found) throw new Error(`GraphError message lacks ${String(fragment)}:\n  ${error.message}`);
    }
    return error;
  }
  throw new Error(`expected a GraphError mentioning ${fragments.map(String).join(', ')}, but nothing was thrown`);
}

/** Asserts that `fn` throws an Error (of any class) whose message contains every fragment. */
export function expectError(fn: () => unknown, ...fragments: string[]): Error {
  try {
    fn();
  } catch (error) {
    const message = (error as Error).message;
    for (const fragment of fragments) {
      if (!message.includes(fragment)) throw new Error(`error "${message}" should mention "${fragment}"`);
    }
    return error as Error;
  }
  throw new Error(`expected an error mentioning ${fragments.join(', ')}, but nothing was thrown`);
}

/** Asserts a variable's static shape (null for an unknown dimension). */
export function expectShape(variable: Variable, shape: readonly (number | null)[]): void {
  if (variable.shape.length !== shape.length || variable.shape.some((dim, i) => dim !== shape[i])) {
    throw new Error(`static shape ${formatShape(variable.shape)}, expected ${formatShape(shape)}`);
  }
}

/** Asserts that `fn` throws an EvaluationError whose message contains every fragment. */
export function expectEvaluationError(fn: () => unknown, ...fragments: string[]): EvaluationError {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof EvaluationError)) throw new Error(`expected an EvaluationError, got ${String(error)}`);
    for (const fragment of fragments) if (!error.message.includes(fragment)) throw new Error(`EvaluationError lacks '${fragment}':\n  ${error.message}`);
    return error;
  }
  throw new Error('expected an EvaluationError, but nothing was thrown');
}
