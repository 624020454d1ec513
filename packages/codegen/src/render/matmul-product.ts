// What both matmul kernels share: the product a kernel computes (operands, sizes, batch
// axes, the epilogue's nodes), each operand's index at a row and column of its matrix
// with its batch axes broadcast, and the store of one element or a block through the
// epilogue (bias, activation, an optimizer's update), storing the product itself too
// when other kernels read it.

import * as T from '@theorbo/graph';
import type { Variable } from '@theorbo/graph';
import type { Kernel } from '../lower/kernel.ts';
import { broadcastIndex, type KernelBuilder, unflatten } from './builder.ts';
import { convert, toStorage } from './wgsl.ts';

const indent = (lines: readonly string[], depth: number): string => lines.map((line) => '  '.repeat(depth) + line).join('\n');

export interface MatmulKernel {
  code: string;
  builder: KernelBuilder;
  dispatch: [number, number, number];
  /** The workgroup size, as @workgroup_size takes it. */
  workgroup: string;
}

/** The product a kernel computes: its operands, sizes and batch axes. */
export interface Product {
  node: Variable;
  a: Variable;
  b: Variable;
  out: number[];
  M: number;
  K: number;
  N: number;
  batchShape: number[];
  batch: number;
  /** What the epilogue computes from the product, up to the kernel's output (the variables its store reads). */
  epilogue: Variable[];
  /**
   * Operands that are not tensors read as matrices but computed from them (a convolution's
   * implicit matrices, render/conv-product.ts): the value of operand `side` (0: A, 1: B) at
   * (row, col) of batch `batchIndex`'s matrix, in the product's dtype. `a` and `b` are
   * then the tensors these read, for conflict checks only; no vec4 path reads them.
   */
  read?: (builder: KernelBuilder, side: 0 | 1, batchIndex: readonly string[], row: string, col: string) => string;
  /**
   * With `read`: binds, ahead of the loop over k, what reads of operand `side` derive from
   * its row (A) or column (B) `own` alone, so that the loop does not recompute it per step.
   */
  hoist?: (builder: KernelBuilder, side: 0 | 1, batchIndex: readonly string[], own: string) => void;
  /**
   * With `read`: A(row, k) is `stored`'s element at offset(row, k), and for k a multiple of
   * 4 the next three are the next three elements (a convolution's filters, or its output
   * gradient with positions a multiple of 4), so the thread-block kernel may load A four
   * values of k at a time.
   */
  flatA?: { stored: Variable; offset: (builder: KernelBuilder, batchIndex: readonly string[], row: string, k: string) => string };
}

/** The value of operand `side` (0: A, 1: B) at (row, col), in the product's dtype. */
export function operandValue(product: Product, builder: KernelBuilder, batchIndex: readonly string[], side: 0 | 1, row: string, col: string): string {
  if (product.read) return product.read(builder, side, batchIndex, row, col);
  const operand = side === 0 ? product.a : product.b;
  return convert(builder.value(operand, operandIndexer(product, batchIndex)(operand, row, col, side === 0)), operand.dtype, product.node.dtype);
}

export function matmulProduct(kernel: Kernel): Product {
  const node = kernel.root;
  const [a, b] = node.owner!.inputs as [Variable, Variable];
  const out = node.shape as number[];
  const aShape = a.shape as number[];
  const bShape = b.shape as number[];
  const batchShape = out.slice(0, Math.max(0, out.length - (a.ndim === 1 ? 0 : 1) - (b.ndim === 1 ? 0 : 1)));
  return {
    node, a, b, out, batchShape,
    M: a.ndim === 1 ? 1 : aShape[aShape.length - 2]!,
    K: aShape[aShape.length - 1]!,
    N: b.ndim === 1 ? 1 : bShape[bShape.length - 1]!,
    batch: batchShape.reduce((x, y) => x * y, 1),
    epilogue: T.topologicalOrder([kernel.output], (variable) => variable === node),
  };
}

/** An operand's index at (row, col) of its matrix, its batch axes broadcast from the product's. */
export function operandIndexer(product: Product, batchIndex: readonly string[]) {
  return (operand: Variable, row: string, col: string, isA: boolean): string[] => {
    const own = operand.ndim <= 2 ? [] : broadcastIndex(batchIndex, operand.shape.slice(0, -2), product.batchShape.length);
    if (operand.ndim === 1) return [isA ? col : row];
    return [...own, row, col];
  };
}

/**
 * The store of a TM×TN block at rows gr0 + i and columns gc0 + j, through the epilogue
 * element by element (`productAt` the product's value at i, j), with the product itself
 * stored too when other kernels read it.
 */
export function storeBlock(builder: KernelBuilder, kernel: Kernel, product: Product, batchIndex: readonly string[], at: { gr0: string; gc0: string; TM: number; TN: number; productAt: string }): string[] {
  const store = builder.scoped(() => builder.lines.push(...storeElement(builder, kernel, product, batchIndex, at.gr0, at.gc0, at.productAt)));
  return [`for (var i = 0i; i < ${at.TM}i; i++) {`, `  for (var j = 0i; j < ${at.TN}i; j++) {`, indent(store, 2), '  }', '}'];
}

/** The store of one element (at row gr0 + i, column gc0 + j) through the epilogue. */
export function storeElement(builder: KernelBuilder, kernel: Kernel, product: Product, batchIndex: readonly string[], gr0: string, gc0: string, productAt: string): string[] {
  const { node, a, b, out, M, N } = product;
  return builder.scoped(() => {
    builder.lines.push(`let gr = ${gr0} + i;`, `let gc = ${gc0} + j;`);
    builder.lines.push(`if (gr < ${M}i && gc < ${N}i) {`);
    const inner = builder.scoped(() => {
      const rootIndex = [...batchIndex, ...(a.ndim === 1 ? [] : ['gr']), ...(b.ndim === 1 ? [] : ['gc'])];
      const flat = builder.bind(builder.offset(rootIndex, out), 'flat');
      const value = builder.bind(productAt, 'product');
      builder.overrides.set(node, value);
      if (kernel.alsoStoresRoot) builder.lines.push(`${builder.binding(node, 'read_write').name}[${flat}] = ${toStorage(value, node.dtype)};`);
      // The epilogue has the root's flat layout (partition.ts checks), maybe another shape.
      const outShape = kernel.output.shape as number[];
      const sameShape = outShape.length === out.length && outShape.every((dim, k) => dim === out[k]);
      const outIndex = sameShape ? rootIndex : unflatten(builder, flat, outShape, 'e');
      const result = builder.value(kernel.output, outIndex);
      builder.overrides.delete(node);
      builder.lines.push(`${builder.binding(kernel.output, 'read_write').name}[${flat}] = ${toStorage(result, kernel.output.dtype)};`);
    });
    builder.lines.push(indent(inner, 1), '}');
  });
}
