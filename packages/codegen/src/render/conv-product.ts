// Convolutions as implicit matrix products (implicit GEMM): the matmul kernels (tiles in
// workgroup memory on a GPU, thread blocks on the CPU device) run them with operands that
// are computed from x, w and y at each (row, col) instead of read from a matrix, so the
// im2col matrix (N·C·K·positions values) is never stored, and the bias and activation
// epilogue fuses as a matmul's does. Per group g of G, with P output positions, KK kernel
// taps and the product batched over [N, G] (or [G] for the weight gradient):
//   conv             [Fg × Cg·KK] · [Cg·KK × P]      A = w,  B = windows of x
//   conv_weight_grad [Fg × N·P] · [N·P × Cg·KK]       A = y,  B = windows of x (transposed)
//   conv_transpose   [Cg × Fg·KK] · [Fg·KK × L]       A = wᵀ, B = y at the positions each tap maps from
// Each product's row-major output [..batch, rows, cols] is the op's own layout, so the
// store and the epilogue need no transpose. conv_transpose with a stride multiplies by the
// zeros between y's positions (a factor of the stride's product in work), which keeps it
// one product; the direct kernel (window-lowering.ts) is the alternative.

import type { AttrsOf, ConvAttrs, Variable } from '@theorbo/graph';
import * as T from '@theorbo/graph';
import type { Kernel } from '../lower/kernel.ts';
import type { KernelBuilder } from './builder.ts';
import type { Product } from './matmul-product.ts';
import { convert, literal } from './wgsl.ts';

const product = (values: readonly number[]): number => values.reduce((a, b) => a * b, 1);

/** The multi-index of flat WGSL index `flat` over `shape`, each entry bound as a let. */
function split(builder: KernelBuilder, flat: string, shape: readonly number[], prefix: string): string[] {
  let stride = product(shape);
  return shape.map((size, axis) => {
    stride /= size;
    if (size === 1) return '0i';
    const quotient = stride === 1 ? `(${flat})` : `((${flat}) / ${stride}i)`;
    return builder.bind(axis === 0 ? quotient : `(${quotient} % ${size}i)`, prefix);
  });
}

/**
 * x's value at the window position of output position `o` and tap `k` (padding reads 0):
 * position o·s + k·d − b along each spatial axis.
 */
function windowValue(builder: KernelBuilder, x: Variable, n: string, channel: string, o: readonly string[], k: readonly string[], attrs: ConvAttrs, dtype: Variable['dtype']): string {
  const spatial = (x.shape as number[]).slice(2);
  const conditions: string[] = [];
  const positions = spatial.map((length, axis) => {
    const stride = attrs.stride[axis]!;
    const dilation = attrs.dilation[axis]!;
    const [before, after] = attrs.padding[axis]!;
    const at = builder.bind(`${stride === 1 ? o[axis] : `${o[axis]} * ${stride}i`} + ${dilation === 1 ? k[axis] : `${k[axis]} * ${dilation}i`}${before === 0 ? '' : ` - ${before}i`}`, 'p');
    if (before === 0 && after === 0) return at;
    conditions.push(...(before > 0 ? [`${at} >= 0i`] : []), ...(after > 0 ? [`${at} < ${length}i`] : []));
    return builder.bind(`clamp(${at}, 0i, ${length - 1}i)`, 'pc');
  });
  const value = convert(builder.value(x, [n, channel, ...positions]), x.dtype, dtype);
  return conditions.length === 0 ? value : `select(${literal(0, dtype)}, ${value}, ${conditions.join(' && ')})`;
}

/** The product a convolution kernel computes, or undefined for ops that are not convolutions. */
export function convProduct(kernel: Kernel): Product | undefined {
  const node = kernel.root;
  const op = node.owner!.op;
  if (op !== 'conv' && op !== 'conv_weight_grad' && op !== 'conv_transpose') return undefined;
  const attrs = node.owner!.attrs as AttrsOf<'conv'>;
  const [first, second] = node.owner!.inputs as [Variable, Variable];
  const G = attrs.groups;
  const epilogue = T.topologicalOrder([kernel.output], (variable) => variable === node);
  const dtype = node.dtype;
  const base = { node, epilogue, a: first, b: second };

  if (op === 'conv') {
    const [x, w] = [first, second];
    const N = x.shape[0] as number;
    const [F, Cg] = w.shape as number[];
    const kernelShape = (w.shape as number[]).slice(2);
    const outSpatial = (node.shape as number[]).slice(2);
    const [Fg, KK, P] = [F! / G, product(kernelShape), product(outSpatial)];
    const batchShape = [N, G];
    return {
      ...base, M: Fg, K: Cg! * KK, N: P, batchShape, batch: N * G, out: [...batchShape, Fg, P],
      read: (builder, side, [n, g], row, col) => {
        const group = g ?? '0i';
        const [c, ...k] = split(builder, side === 0 ? col : row, [Cg!, ...kernelShape], 'k');
        if (side === 0) return convert(builder.value(w, [G === 1 ? row : `${group} * ${Fg}i + ${row}`, c!, ...k]), w.dtype, dtype);
        const o = split(builder, col, outSpatial, 'o');
        return windowValue(builder, x, n!, G === 1 ? c! : `${group} * ${Cg}i + ${c}`, o, k, attrs, dtype);
      },
    };
  }

  if (op === 'conv_weight_grad') {
    // dW[g, m, (c, k)] = Σ over (n, o) of y[n, g·Fg + m, o] · x[n, g·Cg + c, o·s + k·d − b].
    const [x, y] = [first, second];
    const N = x.shape[0] as number;
    const [F, Cg] = node.shape as number[];
    const kernelShape = (node.shape as number[]).slice(2);
    const outSpatial = (y.shape as number[]).slice(2);
    const [Fg, KK, P] = [F! / G, product(kernelShape), product(outSpatial)];
    return {
      ...base, M: Fg, K: N * P, N: Cg! * KK, batchShape: [G], batch: G, out: [G, Fg, Cg! * KK],
      read: (builder, side, [g], row, col) => {
        const group = g ?? '0i';
        const [n, ...o] = split(builder, side === 0 ? col : row, [N, ...outSpatial], 'o');
        if (side === 0) return convert(builder.value(y, [n!, G === 1 ? row : `${group} * ${Fg}i + ${row}`, ...o]), y.dtype, dtype);
        const [c, ...k] = split(builder, col, [Cg!, ...kernelShape], 'k');
        return windowValue(builder, x, n!, G === 1 ? c! : `${group} * ${Cg}i + ${c}`, o, k, attrs, dtype);
      },
    };
  }

  // conv_transpose: dX[n, g, c, i] = Σ over (f, k) of w[g·Fg + f, c, k] · y[n, g·Fg + f, q], where
  // q·s + k·d − b = i (zero where no such q exists).
  const [y, w] = [first, second];
  const N = node.shape[0] as number;
  const [F, Cg] = w.shape as number[];
  const kernelShape = (w.shape as number[]).slice(2);
  const inSpatial = (node.shape as number[]).slice(2);
  const outSpatial = (y.shape as number[]).slice(2);
  const [Fg, KK, L] = [F! / G, product(kernelShape), product(inSpatial)];
  const batchShape = [N, G];
  return {
    ...base, M: Cg!, K: Fg * KK, N: L, batchShape, batch: N * G, out: [...batchShape, Cg!, L],
    read: (builder, side, [n, g], row, col) => {
      const group = g ?? '0i';
      const [f, ...k] = split(builder, side === 0 ? col : row, [Fg, ...kernelShape], 'k');
      const filter = G === 1 ? f! : `${group} * ${Fg}i + ${f}`;
      if (side === 0) return convert(builder.value(w, [filter, row, ...k]), w.dtype, dtype);
      const i = split(builder, col, inSpatial, 'i');
      const conditions: string[] = [];
      const q = i.map((position, axis) => {
        const stride = attrs.stride[axis]!;
        const dilation = attrs.dilation[axis]!;
        const shifted = builder.bind(`${position} + ${attrs.padding[axis]![0]}i - ${dilation === 1 ? k[axis] : `${k[axis]} * ${dilation}i`}`, 'u');
        if (stride !== 1) conditions.push(`${shifted} % ${stride}i == 0i`);
        conditions.push(`${shifted} >= 0i`, `${shifted} < ${outSpatial[axis]! * stride}i`);
        return builder.bind(`clamp(${stride === 1 ? shifted : `${shifted} / ${stride}i`}, 0i, ${outSpatial[axis]! - 1}i)`, 'q');
      });
      const value = convert(builder.value(y, [n!, filter, ...q]), y.dtype, dtype);
      return `select(${literal(0, dtype)}, ${value}, ${conditions.join(' && ')})`;
    },
  };
}
