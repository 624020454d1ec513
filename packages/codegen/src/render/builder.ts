// KernelBuilder: turns "the value of variable v at multi-index i" into WGSL. Buffers
// are loaded at row-major offsets; fused nodes expand through the lowering table; each
// (variable, index) pair is computed once per scope and bound with `let`. Index
// expressions are i32 WGSL strings; every shape is static (see lower/instantiate.ts).

import { TensorType, Variable } from '@theorbo/graph';
import { isInlineConstant } from '../lower/kernel.ts';
import type { Emit, ExpressionBuilder, IndexCheck } from './emit.ts';

export type { IndexCheck } from './emit.ts';
import { lowerings } from './lowering.ts';
import { fromStorage, literal, storageType, wgslType } from './wgsl.ts';

export interface Binding {
  variable: Variable;
  name: string;
  index: number;
  access: 'read' | 'read_write';
  /** Declared as array<atomic<u32|i32>> (scatter-add). */
  atomic?: boolean;
  /** Declared as array<vec4<f32>>: read or written four consecutive elements at a time (render/vectors.ts). */
  vector?: boolean;
}

/**
 * A kernel read one value at a time from a buffer it binds as vec4s: the renderer that
 * chose vec4 reads catches it and renders the kernel with scalar reads instead.
 */
export class VectorReadConflict extends Error {
  constructor(readonly variable: Variable) {
    super(`codegen: ${variable} is bound as vec4s but read one value at a time`);
  }
}

/**
 * The buffer where checking kernels flag out-of-range indices: a stand-in variable, bound
 * like any other (runtime/plan.ts binds each pass's own slice of one buffer per plan).
 * Site k of a pass writes word 2k (1: flagged) and word 2k + 1 (the index, as i32 bits).
 */
export const indexErrorFlags = new Variable(new TensorType('uint32', [null]), 'input', null, 'index errors', undefined);

// Whether builders made now check indices: set around one kernel's rendering by
// renderKernel (render.ts), so that the ten renderers that make builders need not pass
// it on. Rendering is synchronous, so the setting cannot leak into another kernel.
let checkingIndices = true;

export function renderingWith<T>(checkIndices: boolean, render: () => T): T {
  const before = checkingIndices;
  checkingIndices = checkIndices;
  try {
    return render();
  } finally {
    checkingIndices = before;
  }
}

/** WGSL type names and reserved words that a prefix and a number can spell. */
const reservedNames = /^(?:[fiu](?:8|16|32|64)|bf16|vec[234]|mat[234]x[234])$/;

export class KernelBuilder implements ExpressionBuilder {
  readonly bindings: Binding[] = [];
  private scopes: { lines: string[]; memo: Map<string, string> }[] = [{ lines: [], memo: new Map() }];
  private counter = 0;
  /** Values supplied by the kernel itself (an accumulator in an epilogue). */
  readonly overrides = new Map<Variable, string>();
  /** The index checks this kernel's code makes, by site number. */
  readonly checks: IndexCheck[] = [];
  readonly checkIndices = checkingIndices;
  /**
   * A condition that holds where a thread's values are real, for renderers whose tail
   * threads compute at indices beyond the output (their gathers read stray indices).
   */
  active: string | undefined;

  constructor(readonly materialized: ReadonlySet<Variable>, readonly self: Variable, readonly writesInto?: Variable) {}

  get lines(): string[] {
    return this.scopes[this.scopes.length - 1]!.lines;
  }

  /** Runs `build` in a nested scope (a loop body); returns its statements. */
  scoped(build: () => void): string[] {
    const parent = this.scopes[this.scopes.length - 1]!;
    this.scopes.push({ lines: [], memo: new Map(parent.memo) });
    try {
      build();
      return this.scopes[this.scopes.length - 1]!.lines;
    } finally {
      this.scopes.pop();
    }
  }

  fresh(prefix = 't'): string {
    let name = `${prefix}${this.counter++}`;
    // Prefix and count may spell a WGSL type or reserved word (the 32nd 'f' name is f32).
    while (reservedNames.test(name)) name = `${prefix}${this.counter++}`;
    return name;
  }

  statement(line: string): void {
    this.lines.push(line);
  }

  /**
   * Flags `wrapped` (an i32 index after negative indices wrapped) when it is outside
   * [0, bound): the kernel still clamps it, and the runtime raises the error after the
   * call. Nothing is emitted when the kernel does not check indices.
   */
  checkIndex(raw: string, wrapped: string, check: IndexCheck): void {
    if (!this.checkIndices) return;
    let site = this.checks.findIndex((known) => known.op === check.op && known.axis === check.axis && known.bound === check.bound && known.location === check.location);
    if (site < 0) site = this.checks.push(check) - 1;
    const flags = this.binding(indexErrorFlags, 'read_write').name;
    const outside = `u32(${wrapped}) >= ${check.bound}u`;
    this.statement(`if (${this.active ? `${outside} && ${this.active}` : outside}) { ${flags}[${2 * site}] = 1u; ${flags}[${2 * site + 1}] = bitcast<u32>(${raw}); }`);
  }

  /** Emits `let name = expr;` and returns the name. */
  bind(expr: string, prefix = 't'): string {
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(expr) || /^-?[0-9.]+[fiu]?$/.test(expr)) return expr;
    const name = this.fresh(prefix);
    this.lines.push(`let ${name} = ${expr};`);
    return name;
  }

  /**
   * Like bind, but an expression already bound in this scope or an enclosing one is not
   * bound again: for index arithmetic that several reads share (pure expressions only).
   */
  share(expr: string, prefix = 't'): string {
    const key = `=${expr}`;
    const scope = this.scopes[this.scopes.length - 1]!;
    const known = scope.memo.get(key);
    if (known) return known;
    const name = this.bind(expr, prefix);
    scope.memo.set(key, name);
    return name;
  }

  binding(variable: Variable, access: 'read' | 'read_write' = 'read', atomic = false): Binding {
    // A kernel writing an update in place reads the old value through its output binding
    // (one buffer may not be bound twice when one of the bindings writes).
    if (this.writesInto !== undefined && variable === this.writesInto) return this.binding(this.self, 'read_write');
    const found = this.bindings.find((b) => b.variable === variable && b.access === access);
    if (found) return found;
    const made = { variable, name: `buf${this.bindings.length}`, index: this.bindings.length, access, atomic };
    this.bindings.push(made);
    return made;
  }

  /**
   * The binding of `variable` declared as vec4s. One already read one value at a time
   * cannot become one (its scalar reads are written): that is a VectorReadConflict.
   */
  vectorBinding(variable: Variable, access: 'read' | 'read_write' = 'read'): Binding {
    const before = this.bindings.length;
    const binding = this.binding(variable, access);
    if (!binding.vector && this.bindings.length === before && this.scalarReads.has(binding)) throw new VectorReadConflict(variable);
    binding.vector = true;
    return binding;
  }

  /** Bindings that value() has read one value at a time. */
  private readonly scalarReads = new Set<Binding>();

  /** Multi-indices that unflatten() made from a flat index, by "index|shape": that flat index. */
  private readonly flats = new Map<string, string>();

  /** Records that `index` is `flat` unflattened over `shape` (so offset() gives `flat` back). */
  noteFlat(index: readonly string[], shape: readonly number[], flat: string): void {
    if (index.some((i) => i !== '0i')) this.flats.set(`${index.join(',')}|${shape.join('x')}`, flat);
  }

  /** Row-major flat offset of `index` in a buffer of `shape`. */
  offset(index: readonly string[], shape: readonly number[]): string {
    // An index unflattened from a flat one over the same shape: no arithmetic back.
    const known = this.flats.get(`${index.join(',')}|${shape.join('x')}`);
    if (known !== undefined) return known;
    let stride = 1;
    const terms: string[] = [];
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      const i = index[axis]!;
      if (shape[axis] !== 1 && i !== '0' && i !== '0i') terms.push(stride === 1 ? i : `(${i}) * ${stride}i`);
      stride *= shape[axis]!;
    }
    return terms.length === 0 ? '0i' : terms.reverse().join(' + ');
  }

  /** The value of `variable` at `index`, as a WGSL expression of its dtype (bool as bool). */
  value(variable: Variable, index: readonly string[]): string {
    const override = this.overrides.get(variable);
    if (override !== undefined) return override;
    if (isInlineConstant(variable)) return literal((variable as unknown as { value: { data: ArrayLike<number> } }).value.data[0]!, variable.dtype);
    const key = `${variable.id}@${index.join(',')}`;
    const scope = this.scopes[this.scopes.length - 1]!;
    const known = scope.memo.get(key);
    if (known) return known;
    let expr: string;
    if (variable !== this.self && this.materialized.has(variable)) {
      const binding = this.binding(variable);
      const { name, vector } = binding;
      // A vec4 binding is read through the kernel's vec4 loads (overrides), never here.
      if (vector) throw new VectorReadConflict(variable);
      this.scalarReads.add(binding);
      expr = fromStorage(`${name}[${this.offset(index, variable.shape as number[])}]`, variable.dtype);
    } else {
      const node = variable.owner;
      if (!node) throw new Error(`codegen: ${variable} has no buffer and no op`);
      const lowering: Emit | { kernel: string; emit?: Emit } = lowerings[node.op];
      // A window op's own kernel computes it through its emit (other kernels read its buffer).
      const emit = typeof lowering === 'function' ? lowering : lowering.emit;
      if (!emit) throw new Error(`codegen: ${node.op} must be materialized before it is read`);
      expr = emit(this, variable, index);
    }
    const name = this.bind(expr, 'v');
    scope.memo.set(key, name);
    return name;
  }

  /** Whether `variable` is read from a buffer of its own (valueAt can read it). */
  hasBuffer(variable: Variable): boolean {
    return !this.overrides.has(variable) && !isInlineConstant(variable) && variable !== this.self && this.materialized.has(variable) && variable !== this.writesInto;
  }

  /**
   * The value of stored `variable` at flat row-major `offset` (an i32 expression), or
   * undefined when `variable` has no buffer of its own to read (a view, an override, the
   * kernel's own output): for readers that compute offsets themselves.
   */
  valueAt(variable: Variable, offset: string): string | undefined {
    if (!this.hasBuffer(variable)) return undefined;
    const key = `${variable.id}@@${offset}`;
    const scope = this.scopes[this.scopes.length - 1]!;
    const known = scope.memo.get(key);
    if (known) return known;
    const binding = this.binding(variable);
    if (binding.vector) throw new VectorReadConflict(variable);
    this.scalarReads.add(binding);
    const name = this.bind(fromStorage(`${binding.name}[${offset}]`, variable.dtype), 'v');
    scope.memo.set(key, name);
    return name;
  }

  /** Declarations of every binding, in binding order. */
  declarations(): string {
    return this.bindings.map((b) => {
      // Float atomics are compare-and-swap loops over the bits, so a float buffer is atomic<u32> here.
      const element = b.atomic ? `atomic<${b.variable.dtype === 'int32' ? 'i32' : 'u32'}>` : b.vector ? `vec4<${storageType(b.variable.dtype)}>` : storageType(b.variable.dtype);
      return `@group(0) @binding(${b.index}) var<storage, ${b.access}> ${b.name}: array<${element}>;`;
    }).join('\n');
  }
}

export const typeOf = (variable: Variable): string => wgslType(variable.dtype);

export { broadcastIndex, unflatten } from './emit.ts';
