// Fluent methods on Variable, in Theano's spirit: `x.dot(w).add(b)`, `z.dimshuffle(0, 'x', 1)`,
// `d.at(arange(n), y)`, `x.sum(1)`, `x.T`. Each one forwards to the free function of
// the same meaning, so the two spellings cannot drift apart. Importing the package
// installs them.

import type { DType } from './dtype.ts';
import { Variable } from './graph.ts';
import type { TensorLike } from './api/convert.ts';
import * as e from './api/elementwise.ts';
import * as r from './api/reduce.ts';
import * as l from './api/linalg.ts';
import * as s from './api/shape.ts';
import * as i from './api/indexing.ts';
import { dim } from './api/construct.ts';

type Axis = number | number[] | null | undefined;

declare module './graph.ts' {
  interface Variable {
    add(other: TensorLike): Variable;
    sub(other: TensorLike): Variable;
    mul(other: TensorLike): Variable;
    div(other: TensorLike): Variable;
    intDiv(other: TensorLike): Variable;
    mod(other: TensorLike): Variable;
    pow(other: TensorLike): Variable;
    maximum(other: TensorLike): Variable;
    minimum(other: TensorLike): Variable;
    eq(other: TensorLike): Variable;
    ne(other: TensorLike): Variable;
    lt(other: TensorLike): Variable;
    le(other: TensorLike): Variable;
    gt(other: TensorLike): Variable;
    ge(other: TensorLike): Variable;
    neg(): Variable;
    abs(): Variable;
    exp(): Variable;
    log(): Variable;
    sqrt(): Variable;
    square(): Variable;
    tanh(): Variable;
    sigmoid(): Variable;
    clip(lo: TensorLike, hi: TensorLike): Variable;
    astype(dtype: DType): Variable;
    sum(axis?: Axis, keepdims?: boolean): Variable;
    prod(axis?: Axis, keepdims?: boolean): Variable;
    mean(axis?: Axis, keepdims?: boolean): Variable;
    max(axis?: Axis, keepdims?: boolean): Variable;
    min(axis?: Axis, keepdims?: boolean): Variable;
    argmax(axis?: number | null, keepdims?: boolean): Variable;
    argmin(axis?: number | null, keepdims?: boolean): Variable;
    dot(other: TensorLike): Variable;
    matmul(other: TensorLike): Variable;
    reshape(shape: readonly (number | Variable)[]): Variable;
    flatten(outdim?: number): Variable;
    dimshuffle(...pattern: (number | 'x')[]): Variable;
    transpose(axes?: readonly number[]): Variable;
    /** The transpose (all axes reversed). */
    readonly T: Variable;
    /**
     * numpy indexing (`x[...]`): numbers, slice(...), ':', null (new axis), integer
     * tensors. Named `at` because shared variables' `get` returns their value.
     */
    at(...items: i.IndexItem[]): Variable;
    /** Symbolic size of one axis (Theano's x.shape[axis]). */
    dim(axis: number): Variable;
  }
}

const binary = { add: e.add, sub: e.sub, mul: e.mul, div: e.div, intDiv: e.intDiv, mod: e.mod, pow: e.pow, maximum: e.maximum, minimum: e.minimum, eq: e.eq, ne: e.ne, lt: e.lt, le: e.le, gt: e.gt, ge: e.ge, dot: l.dot, matmul: l.matmul };
const unary = { neg: e.neg, abs: e.abs, exp: e.exp, log: e.log, sqrt: e.sqrt, square: e.square, tanh: e.tanh, sigmoid: e.sigmoid };
const reductions = { sum: r.sum, prod: r.prod, mean: r.mean, max: r.max, min: r.min };

const proto = Variable.prototype as unknown as Record<string, unknown>;
for (const [name, fn] of Object.entries(binary)) proto[name] = function (this: Variable, other: TensorLike) { return fn(this, other); };
for (const [name, fn] of Object.entries(unary)) proto[name] = function (this: Variable) { return fn(this); };
for (const [name, fn] of Object.entries(reductions)) {
  proto[name] = function (this: Variable, axis?: Axis, keepdims?: boolean) { return fn(this, axis, keepdims); };
}

Object.assign(proto, {
  clip(this: Variable, lo: TensorLike, hi: TensorLike) { return e.clip(this, lo, hi); },
  astype(this: Variable, dtype: DType) { return e.cast(this, dtype); },
  argmax(this: Variable, axis?: number | null, keepdims?: boolean) { return r.argmax(this, axis, keepdims); },
  argmin(this: Variable, axis?: number | null, keepdims?: boolean) { return r.argmin(this, axis, keepdims); },
  reshape(this: Variable, shape: readonly (number | Variable)[]) { return s.reshape(this, shape); },
  flatten(this: Variable, outdim?: number) { return s.flatten(this, outdim); },
  dimshuffle(this: Variable, ...pattern: (number | 'x')[]) { return s.dimshuffle(this, ...pattern); },
  transpose(this: Variable, axes?: readonly number[]) { return s.transpose(this, axes); },
  at(this: Variable, ...items: i.IndexItem[]) { return i.get(this, ...items); },
  dim(this: Variable, axis: number) { return dim(this, axis); },
});
Object.defineProperty(proto, 'T', { get(this: Variable) { return s.transpose(this); } });
