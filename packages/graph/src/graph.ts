// The graph: a Variable has a TensorType and is an input, a constant, a shared variable
// or the output of an Apply (an op applied to input variables). Nodes are immutable;
// only a shared variable's value changes, and only through `set`.

import { castScalar, isDType, type DType } from './dtype.ts';
import { GraphError } from './errors.ts';
import { captureLocation, type SourceLocation } from './location.ts';
import { array, NDArray, nonNumeric, unrepresentable, valueForms, type ArrayLike } from './ndarray.ts';
import type { AttrsOf, OpName } from './ops.ts';
import { formatShape, shapeFits, TensorType, type Dim, type Shape } from './type.ts';

export type VariableKind = 'input' | 'constant' | 'shared' | 'output';

let nextId = 1;

export class Variable {
  readonly id = nextId++;
  constructor(
    readonly type: TensorType,
    readonly kind: VariableKind,
    readonly owner: Apply | null,
    public name: string | undefined,
    readonly location: SourceLocation | undefined,
  ) {}
  get dtype(): DType {
    return this.type.dtype;
  }
  /** The static shape: numbers where known, null where only a value will tell. */
  get shape(): Shape {
    return this.type.shape;
  }
  get ndim(): number {
    return this.type.ndim;
  }
  toString(): string {
    return `${this.name ?? this.owner?.op ?? this.kind} ${this.type}`;
  }
  /** JavaScript's operators would turn a Variable into NaN or a string: refused with the op to use. */
  valueOf(): never {
    throw new GraphError('valueOf', `${this} is a symbolic Variable, which JavaScript's operators (+, -, *, /, <, ...) cannot compute with; use T.add(a, b) or a.add(b) (T.sub, T.mul, T.div, T.lt, ... likewise)`, captureLocation());
  }
}

export class Constant extends Variable {
  constructor(readonly value: NDArray, name: string | undefined, location: SourceLocation | undefined) {
    super(new TensorType(value.dtype, value.shape), 'constant', null, name, location);
  }
}

/**
 * A named, persistent value that graphs read and `updates` write (Theano's `shared`).
 * Its type keeps every dimension static: `set` must give the same shape and dtype.
 */
export class SharedVariable extends Variable {
  #value: NDArray;
  /** Bumped on each host-side `set`, so device copies know when they are stale. */
  version = 0;
  /** An update applied by every function that reads this variable unless it gives its own (random streams). */
  defaultUpdate: Variable | undefined;
  constructor(value: NDArray, name: string | undefined, location: SourceLocation | undefined) {
    super(new TensorType(value.dtype, value.shape), 'shared', null, name, location);
    this.#value = value;
  }
  /**
   * Set by a runtime that holds a newer value on a device (a compiled function updated
   * it there): `get` then refuses with this sentence instead of returning a stale value.
   */
  deviceNewer: string | undefined;
  get(): NDArray {
    if (this.deviceNewer) throw new GraphError('shared.get', this.deviceNewer, captureLocation());
    return this.#current();
  }
  /** The last value the host holds, even if a device has a newer one (for restoring a lost device). */
  hostValue(): NDArray {
    return this.#current();
  }
  /**
   * Installs a value read back from a device: the host copy is current again, nothing to
   * upload. A function is read when the value is first asked for (a device whose memory
   * the host can read, the cpu device, copies a parameter out only when someone looks).
   */
  setFromDevice(value: NDArray | (() => NDArray)): void {
    if (typeof value === 'function') this.#pending = value;
    else [this.#value, this.#pending] = [value, undefined];
    this.deviceNewer = undefined;
  }
  #pending: (() => NDArray) | undefined;
  #current(): NDArray {
    if (this.#pending) [this.#value, this.#pending] = [this.#pending(), undefined];
    return this.#value;
  }
  set(value: ArrayLike): void {
    checkValue('shared.set', this.name ? `the value for '${this.name}'` : 'the value', value, this.dtype);
    const next = array(value, { dtype: this.dtype, shape: value instanceof NDArray ? undefined : shapeOfValue(value, this) });
    if (!shapeFits(next.shape, this.shape)) {
      throw new GraphError('shared.set', `${this.name ?? 'shared variable'} holds ${this.type} but was given shape ${formatShape(next.shape)}`, captureLocation());
    }
    this.#value = next;
    this.#pending = undefined;
    this.deviceNewer = undefined;
    this.version++;
  }
}

function shapeOfValue(value: ArrayLike, shared: SharedVariable): readonly number[] | undefined {
  // A flat typed array is taken in the shared variable's own shape.
  return ArrayBuffer.isView(value) ? (shared.shape as number[]) : undefined;
}

export class Apply<K extends OpName = OpName> {
  readonly output: Variable;
  constructor(
    readonly op: K,
    readonly attrs: AttrsOf<K>,
    readonly inputs: readonly Variable[],
    type: TensorType,
    readonly location: SourceLocation | undefined,
  ) {
    this.output = new Variable(type, 'output', this as Apply, undefined, location);
  }
}

// ---- user constructors for leaves ----

/** A symbolic input of any dtype and shape (null for a size known only at run time). */
export function tensor(dtype: DType, shape: readonly Dim[], name?: string): Variable {
  if (!isDType(dtype)) throw new GraphError('tensor', `unknown dtype '${String(dtype)}'; expected one of bool, int32, uint32, float32, float64`, captureLocation());
  for (const dim of shape) {
    if (dim !== null && !(Number.isInteger(dim) && dim >= 0)) {
      throw new GraphError('tensor', `shape ${formatShape(shape)} has a dimension that is neither a non-negative integer nor null`, captureLocation());
    }
  }
  return new Variable(new TensorType(dtype, shape), 'input', null, name, captureLocation());
}

const unknown = (ndim: number): Dim[] => new Array<Dim>(ndim).fill(null);
const byRank = (ndim: number, fixed?: DType) => (name?: string, dtype: DType = fixed ?? 'float32') => tensor(dtype, unknown(ndim), name);

export const scalar = byRank(0);
export const vector = byRank(1);
export const matrix = byRank(2);
export const tensor3 = byRank(3);
export const tensor4 = byRank(4);
export const iscalar = byRank(0, 'int32');
export const ivector = byRank(1, 'int32');
export const imatrix = byRank(2, 'int32');
export const itensor3 = byRank(3, 'int32');
export const dscalar = byRank(0, 'float64');
export const dvector = byRank(1, 'float64');
export const dmatrix = byRank(2, 'float64');
export const dtensor3 = byRank(3, 'float64');
export const bvector = byRank(1, 'bool');

/**
 * A constant tensor. JS numbers become float32 unless `dtype` says otherwise; typed
 * arrays keep their dtype.
 */
export function constant(value: ArrayLike, options: { dtype?: DType; shape?: readonly number[]; name?: string } = {}): Constant {
  checkValue('constant', options.name ? `the value of '${options.name}'` : 'the value', value, options.dtype);
  return new Constant(array(value, options), options.name, captureLocation());
}

/** A weak scalar constant: a JS number beside a tensor of `like` dtype. */
export function scalarConstant(value: number, dtype: DType): Constant {
  return new Constant(NDArray.scalar(castScalar(value, dtype), dtype), undefined, captureLocation());
}

/** Theano's `shared`: a persistent named value that graphs read and updates write. */
export function shared(value: ArrayLike, name?: string, options: { dtype?: DType } = {}): SharedVariable {
  const dtype = options.dtype ?? (value instanceof NDArray || ArrayBuffer.isView(value) ? undefined : 'float32');
  checkValue('shared', name ? `the value of '${name}'` : 'the value', value, dtype);
  return new SharedVariable(array(value, dtype ? { dtype } : {}), name, captureLocation());
}

/** A leaf's value must be numbers, and integers it is converted to must fit their dtype. */
function checkValue(op: string, label: string, value: ArrayLike, dtype: DType | undefined): void {
  const bad = nonNumeric(value);
  if (bad) throw new GraphError(op, `${label} ${bad}; expected ${valueForms}`, captureLocation());
  const own = value instanceof NDArray ? value.dtype : undefined;
  const found = dtype && dtype !== own ? unrepresentable(value, dtype, true) : undefined;
  if (found) throw new GraphError(op, `${label} has ${found.value}${found.at === 'the value' ? '' : ` at ${found.at}`}, outside the ${dtype} range; saturating it would silently change it`, captureLocation());
}
