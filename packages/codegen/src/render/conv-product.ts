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
/** Row-major strides of `shape`. */
const stridesOf = (shape: readonly number[]): number[] => shape.map((_, axis) => product(shape.slice(axis + 1)));
/** `a · b` for an index expression and a constant, simplified where b is 0 or 1. */
const times = (a: string, b: number): string => (b === 0 || a === '0i' ? '0i' : b === 1 ? a : /^[\w.]+$/.test(a) ? `${a} * ${b}i` : `(${a}) * ${b}i`);
/** A sum of index terms with the zeros left out. */
const sum = (terms: readonly string[]): string => terms.filter((t) => t !== '0i').join(' + ') || '0i';

/**
 * The multi-index of flat WGSL index `flat` over `shape`, each entry bound once per scope
 * (reads of one row or column of the implicit matrix share it).
 */
function split(builder: KernelBuilder, flat: string, shape: readonly number[], prefix: string): string[] {
  let stride = product(shape);
  return shape.map((size, axis) => {
    stride /= size;
    if (size === 1) return '0i';
    const quotient = stride === 1 ? `(${flat})` : `((${flat}) / ${stride}i)`;
    return builder.share(axis === 0 ? quotient : `(${quotient} % ${size}i)`, prefix);
  });
}

/**
 * An input position as the sum of a part that comes from the output position (o·s − b) and
 * one that comes from the tap (k·d), per spatial axis, and the flat offsets of each part in
 * a tensor with spatial `strides`. A matmul kernel's loop over k changes one part and not
 * the other, so each is bound where it changes (render/matmul-blocks.ts hoists the other).
 */
function outerPart(builder: KernelBuilder, o: readonly string[], attrs: ConvAttrs, strides: readonly number[]): { at: string[]; offset: string } {
  const at = o.map((position, axis) => {
    const [scaled, before] = [times(position, attrs.stride[axis]!), attrs.padding[axis]![0]];
    return builder.share(before === 0 ? scaled : `${scaled} - ${before}i`, 'ob');
  });
  return { at, offset: builder.share(sum(at.map((position, axis) => times(position, strides[axis]!))), 'oo') };
}

function tapPart(builder: KernelBuilder, k: readonly string[], attrs: ConvAttrs, strides: readonly number[]): { at: string[]; offset: string } {
  const at = k.map((tap, axis) => builder.share(times(tap, attrs.dilation[axis]!), 'kd'));
  return { at, offset: builder.share(sum(at.map((tap, axis) => times(tap, strides[axis]!))), 'ko') };
}

/**
 * x's value at the window position of output position `o` and tap `k` (padding reads 0):
 * position o·s + k·d − b along each spatial axis. A stored x is read at an offset summed
 * from the parts (one unsigned comparison per padded axis, the read's index selected to 0
 * outside); a view through the builder at the clamped multi-index. `loop` says which of
 * (channel, tap) and (n, position) the product's loop over k runs through.
 */
function windowValue(builder: KernelBuilder, x: Variable, n: string, channel: string, o: readonly string[], k: readonly string[], attrs: ConvAttrs, dtype: Variable['dtype'], loop: 'tap' | 'position'): string {
  const spatial = (x.shape as number[]).slice(2);
  const padded = spatial.map((_, axis) => attrs.padding[axis]![0] > 0 || attrs.padding[axis]![1] > 0);
  if (builder.hasBuffer(x)) {
    const strides = stridesOf(spatial);
    const outer = outerPart(builder, o, attrs, strides);
    const tap = tapPart(builder, k, attrs, strides);
    const C = x.shape[1] as number;
    const plane = product(spatial);
    const conditions = spatial.flatMap((length, axis) => (padded[axis] ? [`u32(${builder.share(`${outer.at[axis]} + ${tap.at[axis]}`, 'p')}) < ${length}u`] : []));
    // Grouped by what the loop over k changes (bound per step) and what it does not (hoisted).
    const [no, co] = [builder.share(times(n, C * plane), 'no'), builder.share(times(channel, plane), 'co')];
    const [stepPart, columnPart] = loop === 'tap' ? [[no, co, tap.offset], [outer.offset]] : [[no, outer.offset], [co, tap.offset]];
    const offset = builder.share(sum([builder.share(sum(stepPart), 'xs'), builder.share(sum(columnPart), 'xc')]), 'xo');
    if (conditions.length === 0) return convert(builder.valueAt(x, offset)!, x.dtype, dtype);
    const inside = builder.share(conditions.join(' && '), 'in');
    const value = convert(builder.valueAt(x, builder.share(`select(0i, ${offset}, ${inside})`, 'xi'))!, x.dtype, dtype);
    return `select(${literal(0, dtype)}, ${value}, ${inside})`;
  }
  const conditions: string[] = [];
  const positions = spatial.map((length, axis) => {
    const stride = attrs.stride[axis]!;
    const dilation = attrs.dilation[axis]!;
    const [before] = attrs.padding[axis]!;
    const at = builder.share(`${stride === 1 ? o[axis] : `${o[axis]} * ${stride}i`} + ${dilation === 1 ? k[axis] : `${k[axis]} * ${dilation}i`}${before === 0 ? '' : ` - ${before}i`}`, 'p');
    if (!padded[axis]) return at;
    conditions.push(`${at} >= 0i`, `${at} < ${length}i`);
    return builder.share(`clamp(${at}, 0i, ${length - 1}i)`, 'pc');
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
  /** Channel or filter `index` of group `g` (of groups of `size`). */
  const grouped = (g: string | undefined, size: number, index: string) => (G === 1 ? index : `(${g ?? '0i'} * ${size}i + ${index})`);
  /** A stored operand's value at `offset`, else at `index` through the builder. */
  const read = (builder: KernelBuilder, v: Variable, offset: () => string, index: () => string[]) =>
    convert(builder.hasBuffer(v) ? builder.valueAt(v, offset())! : builder.value(v, index()), v.dtype, dtype);

  if (op === 'conv') {
    const [x, w] = [first, second];
    const N = x.shape[0] as number;
    const [F, Cg] = w.shape as number[];
    const kernelShape = (w.shape as number[]).slice(2);
    const outSpatial = (node.shape as number[]).slice(2);
    const [Fg, KK, P] = [F! / G, product(kernelShape), product(outSpatial)];
    const K = Cg! * KK;
    const batchShape = [N, G];
    // A = w as [Fg, Cg·KK]: a stored w is that matrix's row-major buffer (per group).
    const wRow = (builder: KernelBuilder, g: string | undefined, row: string) => builder.share(times(grouped(g, Fg, row), K), 'wo');
    const xStrides = stridesOf((x.shape as number[]).slice(2));
    return {
      ...base, M: Fg, K, N: P, batchShape, batch: N * G, out: [...batchShape, Fg, P],
      ...(x !== w && K % 4 === 0 ? { flatA: { stored: w, offset: (builder: KernelBuilder, [, g]: readonly string[], row: string, k: string) => `${wRow(builder, g, row)} + ${k}` } } : {}),
      hoist: (builder, side, [, g], own) => {
        if (side === 0 && builder.hasBuffer(w)) wRow(builder, g, own);
        if (side === 1 && builder.hasBuffer(x)) outerPart(builder, split(builder, own, outSpatial, 'o'), attrs, xStrides);
      },
      read: (builder, side, [n, g], row, col) => {
        if (side === 0) {
          return read(builder, w, () => builder.share(`${wRow(builder, g, row)} + ${col}`, 'wi'), () => {
            const [c, ...k] = split(builder, col, [Cg!, ...kernelShape], 'k');
            return [grouped(g, Fg, row), c!, ...k];
          });
        }
        const [c, ...k] = split(builder, row, [Cg!, ...kernelShape], 'k');
        return windowValue(builder, x, n!, grouped(g, Cg!, c!), split(builder, col, outSpatial, 'o'), k, attrs, dtype, 'tap');
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
    const xStrides = stridesOf((x.shape as number[]).slice(2));
    const plane = product((x.shape as number[]).slice(2));
    // A = y as [Fg, N·P] per group: y[n, f, o] at n·F·P + f·P + o.
    const yRow = (builder: KernelBuilder, g: string | undefined, row: string) => builder.share(times(grouped(g, Fg, row), P), 'yo');
    const yOffset = (builder: KernelBuilder, g: string | undefined, row: string, k: string) => {
      const n = builder.share(`(${k}) / ${P}i`, 'n');
      return builder.share(sum([times(n, F! * P), yRow(builder, g, row), builder.share(`(${k}) % ${P}i`, 'of')]), 'yi');
    };
    return {
      ...base, M: Fg, K: N * P, N: Cg! * KK, batchShape: [G], batch: G, out: [G, Fg, Cg! * KK],
      // Four k from a multiple of 4 stay in one n's positions when P is a multiple of 4.
      ...(x !== y && P % 4 === 0 ? { flatA: { stored: y, offset: (builder: KernelBuilder, [g]: readonly string[], row: string, k: string) => yOffset(builder, g, row, k) } } : {}),
      hoist: (builder, side, [g], own) => {
        if (side === 0 && builder.hasBuffer(y)) yRow(builder, g, own);
        if (side === 1 && builder.hasBuffer(x)) {
          // windowValue's column part for loop 'position': channel and tap offsets.
          const [c, ...k] = split(builder, own, [Cg!, ...kernelShape], 'k');
          const tap = tapPart(builder, k, attrs, xStrides);
          builder.share(sum([builder.share(times(grouped(g, Cg!, c!), plane), 'co'), tap.offset]), 'xc');
        }
      },
      read: (builder, side, [g], row, col) => {
        if (side === 0) {
          return read(builder, y, () => yOffset(builder, g, row, col), () => {
            const [n, ...o] = split(builder, col, [N, ...outSpatial], 'o');
            return [n!, grouped(g, Fg, row), ...o];
          });
        }
        const [n, ...o] = split(builder, row, [N, ...outSpatial], 'o');
        const [c, ...k] = split(builder, col, [Cg!, ...kernelShape], 'k');
        return windowValue(builder, x, n!, grouped(g, Cg!, c!), o, k, attrs, dtype, 'position');
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
  const yStrides = stridesOf(outSpatial);
  const unitStride = attrs.stride.every((stride) => stride === 1);
  // Without a stride, q = (i + b) − k·d: a part from the column and one from the step, as in windowValue.
  const shifted = (builder: KernelBuilder, i: readonly string[]) => {
    const at = i.map((position, axis) => builder.share(attrs.padding[axis]![0] === 0 ? position : `${position} + ${attrs.padding[axis]![0]}i`, 'ib'));
    return { at, offset: builder.share(sum(at.map((position, axis) => times(position, yStrides[axis]!))), 'io') };
  };
  return {
    ...base, M: Cg!, K: Fg * KK, N: L, batchShape, batch: N * G, out: [...batchShape, Cg!, L],
    hoist: (builder, side, _, own) => {
      if (side === 0 && builder.hasBuffer(w)) builder.share(times(own, KK), 'wo');
      if (side === 1 && unitStride && builder.hasBuffer(y)) shifted(builder, split(builder, own, inSpatial, 'i'));
    },
    read: (builder, side, [n, g], row, col) => {
      if (side === 0) {
        // A = wᵀ per group: w[g·Fg + f, c, k] at (g·Fg + f)·Cg·KK + c·KK + k, with col = (f, k).
        return read(builder, w, () => {
          const f = builder.share(KK === 1 ? `(${col})` : `(${col}) / ${KK}i`, 'f');
          const step = builder.share(sum([times(grouped(g, Fg, f), Cg! * KK), KK === 1 ? '0i' : builder.share(`(${col}) % ${KK}i`, 'kf')]), 'ws');
          return builder.share(sum([step, builder.share(times(row, KK), 'wo')]), 'wi');
        }, () => {
          const [f, ...k] = split(builder, col, [Fg, ...kernelShape], 'k');
          return [grouped(g, Fg, f!), row, ...k];
        });
      }
      const [f, ...k] = split(builder, row, [Fg, ...kernelShape], 'k');
      const filter = grouped(g, Fg, f!);
      const i = split(builder, col, inSpatial, 'i');
      if (unitStride && builder.hasBuffer(y)) {
        const outer = shifted(builder, i);
        const tap = tapPart(builder, k, attrs, yStrides);
        const q = outer.at.map((position, axis) => builder.share(`${position} - ${tap.at[axis]}`, 'q'));
        const inside = builder.share(q.map((position, axis) => `u32(${position}) < ${outSpatial[axis]}u`).join(' && '), 'in');
        const step = builder.share(`${builder.share(times(`${n} * ${F}i + ${filter}`, product(outSpatial)), 'fo')} - (${tap.offset})`, 'ys');
        const offset = builder.share(sum([step, outer.offset]), 'yi');
        const value = convert(builder.valueAt(y, builder.share(`select(0i, ${offset}, ${inside})`, 'yj'))!, y.dtype, dtype);
        return `select(${literal(0, dtype)}, ${value}, ${inside})`;
      }
      const conditions: string[] = [];
      const q = i.map((position, axis) => {
        const stride = attrs.stride[axis]!;
        const dilation = attrs.dilation[axis]!;
        const shift = builder.share(`${position} + ${attrs.padding[axis]![0]}i - ${dilation === 1 ? k[axis] : `${k[axis]} * ${dilation}i`}`, 'u');
        if (stride !== 1) conditions.push(`${shift} % ${stride}i == 0i`);
        conditions.push(`${shift} >= 0i`, `${shift} < ${outSpatial[axis]! * stride}i`);
        return builder.share(`clamp(${stride === 1 ? shift : `${shift} / ${stride}i`}, 0i, ${outSpatial[axis]! - 1}i)`, 'q');
      });
      const value = convert(builder.value(y, [n!, filter, ...q]), y.dtype, dtype);
      return `select(${literal(0, dtype)}, ${value}, ${conditions.join(' && ')})`;
    },
  };
}
