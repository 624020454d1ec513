// User functions for products: matmul (the primitive), and the composites dot (numpy's
// and Theano's), outer and tensordot. tensordot moves the contracted axes together
// (dimshuffle), folds each operand into a matrix (reshape, with sizes read at run time
// where the static shape does not know them), multiplies, and unfolds the result.
//
// Shapes: tensordot(a [f…, c…], b [c…, g…]) → [f…, g…] after moving axes.
//
// What is checked where: contracted dimensions are compared pairwise at build time when
// both are known; at run time matmul compares their products, which is exact for one
// contracted axis and, for several with unknown sizes, misses only a permutation of
// equal products. Left out: numpy's out= and Theano's sparse and batched dot variants.

import { applyOp, buildError, composite } from '../build.ts';
import type { Variable } from '../graph.ts';
import { normalizeAxes } from '../type.ts';
import { sizeOfAxes } from './construct.ts';
import { asVariables, type TensorLike } from './convert.ts';
import { mul } from './elementwise.ts';
import { reshape } from './shape.ts';

/** numpy matmul: 1-D operands act as a row (left) or column (right); batch axes broadcast. */
export function matmul(a: TensorLike, b: TensorLike): Variable {
  const [left, right] = asVariables([a, b]);
  return applyOp('matmul', [left!, right!], {});
}

function permute(x: Variable, order: readonly number[]): Variable {
  return order.every((axis, i) => axis === i) ? x : applyOp('dimshuffle', [x], { pattern: order });
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

function axisList(value: number | readonly number[]): readonly number[] {
  return typeof value === 'number' ? [value] : value;
}

/** numpy's `axes` argument resolved to two equally long lists of normalized axes. */
function contractedAxes(a: Variable, b: Variable, axes: number | readonly [number | readonly number[], number | readonly number[]]): [number[], number[]] {
  let pairs: [number[], number[]];
  if (typeof axes === 'number') {
    if (!Number.isInteger(axes) || axes < 0 || axes > Math.min(a.ndim, b.ndim)) {
      throw buildError('tensordot', `axes = ${axes} must be an integer from 0 to ${Math.min(a.ndim, b.ndim)} for ${a.type} and ${b.type}`);
    }
    pairs = [range(axes).map((i) => a.ndim - axes + i), range(axes)];
  } else {
    const [listA, listB] = [axisList(axes[0]), axisList(axes[1])];
    if (listA.length !== listB.length) {
      throw buildError('tensordot', `the axis lists [${listA.join(', ')}] and [${listB.join(', ')}] differ in length (for ${a.type} and ${b.type})`);
    }
    const [normalA, normalB] = [normalizeAxes(listA, a.type), normalizeAxes(listB, b.type)];
    if (typeof normalA === 'string') throw buildError('tensordot', normalA);
    if (typeof normalB === 'string') throw buildError('tensordot', normalB);
    pairs = [normalA, normalB];
  }
  const [normalA, normalB] = pairs;
  normalA.forEach((axisA, i) => {
    const [sizeA, sizeB] = [a.shape[axisA], b.shape[normalB[i]!]];
    if (sizeA !== null && sizeB !== null && sizeA !== sizeB) {
      throw buildError('tensordot', `contracted dimensions differ: axis ${axisA} of ${a.type} has size ${sizeA} but axis ${normalB[i]} of ${b.type} has size ${sizeB}`);
    }
  });
  return pairs;
}

/**
 * numpy tensordot: sums products over pairs of axes. `axes` is N (a's last N axes with
 * b's first N) or [axesOfA, axesOfB]. The result has a's free axes, then b's.
 */
export function tensordot(a: TensorLike, b: TensorLike, axes: number | readonly [number | readonly number[], number | readonly number[]] = 2): Variable {
  return composite('tensordot', () => {
    const [left, right] = asVariables([a, b]) as [Variable, Variable];
    const [contractA, contractB] = contractedAxes(left, right, axes);
    const freeA = range(left.ndim).filter((axis) => !contractA.includes(axis));
    const freeB = range(right.ndim).filter((axis) => !contractB.includes(axis));
    const movedA = permute(left, [...freeA, ...contractA]);
    const movedB = permute(right, [...contractB, ...freeB]);
    const [nA, nB, nc] = [freeA.length, freeB.length, contractA.length];
    // Fold to matrices; an operand with no free axes becomes a vector, so that matmul
    // drops that side itself. Skip folds that would not change anything.
    const contractedSizeA = sizeOfAxes(movedA, range(nc).map((i) => nA + i));
    const contractedSizeB = sizeOfAxes(movedB, range(nc));
    const foldA = nA === 0 ? [contractedSizeA] : [sizeOfAxes(movedA, range(nA)), contractedSizeA];
    const foldB = nB === 0 ? [contractedSizeB] : [contractedSizeB, sizeOfAxes(movedB, range(nB).map((i) => nc + i))];
    const matrixA = nA <= 1 && nc === 1 ? movedA : reshape(movedA, foldA);
    const matrixB = nB <= 1 && nc === 1 ? movedB : reshape(movedB, foldB);
    const product = matmul(matrixA, matrixB);
    if (nA <= 1 && nB <= 1) return product;
    const sizes = [...range(nA).map((i) => sizeOfAxes(movedA, [i])), ...range(nB).map((i) => sizeOfAxes(movedB, [nc + i]))];
    return reshape(product, sizes);
  });
}

/**
 * numpy's dot (Theano's too): a product with a scalar is mul; up to two dimensions it
 * is matmul (vector·vector is a scalar); beyond, it sums over a's last axis and b's
 * second-to-last (its only axis when b is a vector), which is tensordot.
 */
export function dot(a: TensorLike, b: TensorLike): Variable {
  return composite('dot', () => {
    const [left, right] = asVariables([a, b]) as [Variable, Variable];
    if (left.ndim === 0 || right.ndim === 0) return mul(left, right);
    if (left.ndim <= 2 && right.ndim <= 2) return matmul(left, right);
    return tensordot(left, right, [[left.ndim - 1], [Math.max(right.ndim - 2, 0)]]);
  });
}

/**
 * Outer product: both operands flattened, result[i, j] = a[i] · b[j], with the dtype
 * elementwise mul gives (bool · bool is int32).
 */
export function outer(a: TensorLike, b: TensorLike): Variable {
  return composite('outer', () => {
    const [left, right] = asVariables([a, b]) as [Variable, Variable];
    const flat = (x: Variable) => (x.ndim === 1 ? x : reshape(x, [sizeOfAxes(x, range(x.ndim))]));
    return mul(applyOp('dimshuffle', [flat(left)], { pattern: [0, 'x'] }), applyOp('dimshuffle', [flat(right)], { pattern: ['x', 0] }));
  });
}
