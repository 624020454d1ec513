// User functions for sliding windows: convolutions (conv1d, conv2d, and conv for any
// number of spatial axes), transposed convolutions, and max and average pooling, with
// PyTorch's argument names and semantics. Convolution here is cross-correlation, as in
// PyTorch and Theano's conv2d(filter_flip=False); `filterFlip: true` flips the kernel
// first (true convolution). Also the adjoint builders the gradients use.
//
// Shapes: x [N, C, ...spatial], w [F, C/groups, ...kernel] → [N, F, ...out]; padding is
// 'valid' (none), 'same' (output size ⌈L / stride⌉, the extra on the right, as
// TensorFlow; a static L is needed when stride > 1), a number for every side, or per
// spatial axis a number or [before, after].

import { applyOp, buildError, composite } from '../build.ts';
import { Variable } from '../graph.ts';
import type { ConvAttrs, PoolAttrs } from '../ops.ts';
import { asVariable, type TensorLike } from './convert.ts';
import { dim, sizesToShapeSpec, type SizeLike } from './construct.ts';
import { add, mul } from './elementwise.ts';
import { flip, reshape } from './shape.ts';

type PerAxis = number | readonly number[];
type PaddingSpec = 'valid' | 'same' | number | readonly (number | readonly [number, number])[];

export interface ConvOptions {
  stride?: PerAxis;
  padding?: PaddingSpec;
  dilation?: PerAxis;
  groups?: number;
  /** Flip the kernel along its spatial axes (true convolution instead of cross-correlation). */
  filterFlip?: boolean;
  /** A bias per filter [F], added to every output position. */
  bias?: TensorLike;
}

export interface ConvTransposeOptions extends Omit<ConvOptions, 'padding' | 'filterFlip'> {
  /** The padding of the convolution this transposes (it crops the output): a number or per axis. */
  padding?: number | readonly (number | readonly [number, number])[];
  /** Extra positions at the end of each spatial axis (below the stride), to pick among the sizes a strided conv maps to one. */
  outputPadding?: PerAxis;
}

export interface PoolOptions {
  /** Default: the window size. */
  stride?: PerAxis;
  /** Positions ignored (max) or counted as zeros (avg with countIncludePad) on each side; at most half the window. */
  padding?: number | readonly (number | readonly [number, number])[];
  ceilMode?: boolean;
  /** Average pooling: divide by the whole window, padding included (default true, as PyTorch). */
  countIncludePad?: boolean;
}

function perAxis(op: string, name: string, value: PerAxis | undefined, spatial: number, fallback: number): number[] {
  if (value === undefined) return new Array<number>(spatial).fill(fallback);
  const list = typeof value === 'number' ? new Array<number>(spatial).fill(value) : [...value];
  if (list.length !== spatial || !list.every((v) => Number.isInteger(v) && v >= 0)) {
    throw buildError(op, `${name} must be a non-negative integer or one per spatial axis (${spatial}), not ${JSON.stringify(value)}`);
  }
  return list;
}

function paddingPairs(op: string, padding: Exclude<PaddingSpec, 'same' | 'valid'> | undefined, spatial: number): [number, number][] {
  if (padding === undefined) return new Array(spatial).fill(0).map(() => [0, 0]);
  if (typeof padding === 'number') padding = new Array<number>(spatial).fill(padding);
  // A bare [before, after] pair for one spatial axis.
  const list = spatial === 1 && padding.length === 2 && padding.every((p) => typeof p === 'number') ? [padding as readonly [number, number]] : padding;
  if (list.length !== spatial) throw buildError(op, `padding needs one entry per spatial axis (${spatial}), not ${JSON.stringify(padding)}`);
  return list.map((entry) => {
    const pair: [number, number] = typeof entry === 'number' ? [entry, entry] : [entry[0]!, entry[1]!];
    if (!pair.every((p) => Number.isInteger(p) && p >= 0)) throw buildError(op, `padding must hold non-negative integers, not ${JSON.stringify(padding)}`);
    return pair;
  });
}

/** 'same' padding of one axis: output ⌈L / s⌉, the odd position on the right. */
function samePadding(op: string, length: number | null, kernel: number, stride: number, dilation: number): [number, number] {
  const span = dilation * (kernel - 1) + 1;
  if (stride === 1) return [Math.floor((span - 1) / 2), span - 1 - Math.floor((span - 1) / 2)];
  if (length === null) throw buildError(op, `padding 'same' with stride ${stride} needs the input's static length along that axis; give the padding as numbers`);
  const total = Math.max((Math.ceil(length / stride) - 1) * stride + span - length, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

function convAttrs(op: string, x: Variable, w: Variable, spatial: number, options: ConvOptions): ConvAttrs {
  if (x.ndim !== spatial + 2) throw buildError(op, `expects the input [batch, channels, ${spatial === 1 ? 'length' : 'height, width'}] (${spatial + 2} axes), but got ${x.type}`);
  if (w.ndim !== spatial + 2) throw buildError(op, `expects filters [filters, channels/groups, ${spatial === 1 ? 'taps' : 'height, width'}] (${spatial + 2} axes), but got ${w.type}`);
  const stride = perAxis(op, 'stride', options.stride, spatial, 1);
  const dilation = perAxis(op, 'dilation', options.dilation, spatial, 1);
  if (stride.some((s) => s < 1) || dilation.some((d) => d < 1)) throw buildError(op, `stride and dilation must be at least 1, got stride [${stride}], dilation [${dilation}]`);
  let padding: [number, number][];
  if (options.padding === 'same') {
    padding = stride.map((s, axis) => {
      const kernel = w.shape[axis + 2];
      if (kernel === null || kernel === undefined) throw buildError(op, `padding 'same' needs the filters' static kernel size, but they are ${w.type}`);
      return samePadding(op, x.shape[axis + 2] ?? null, kernel, s, dilation[axis]!);
    });
  } else {
    padding = paddingPairs(op, options.padding === 'valid' ? undefined : options.padding, spatial);
  }
  return { stride, padding, dilation, groups: options.groups ?? 1 };
}

function withBias(y: Variable, bias: TensorLike | undefined, spatial: number): Variable {
  if (bias === undefined) return y;
  const b = asVariable(bias);
  return add(y, reshape(b, [-1, ...new Array<number>(spatial).fill(1)]));
}

/** Convolution (cross-correlation) over the trailing `spatial` axes of x [N, C, ...]. */
export function conv(x: TensorLike, w: TensorLike, spatial: number, options: ConvOptions = {}): Variable {
  const op = `conv${spatial}d`;
  return composite(op, () => {
    const input = asVariable(x);
    let filters = asVariable(w, input.dtype);
    const attrs = convAttrs(op, input, filters, spatial, options);
    if (options.filterFlip) filters = flip(filters, Array.from({ length: spatial }, (_, axis) => axis + 2));
    return withBias(applyOp('conv', [input, filters], attrs), options.bias, spatial);
  });
}

/** conv1d(x [N, C, L], w [F, C/groups, K]) → [N, F, L']. */
export const conv1d = (x: TensorLike, w: TensorLike, options: ConvOptions = {}): Variable => conv(x, w, 1, options);
/** conv2d(x [N, C, H, W], w [F, C/groups, KH, KW]) → [N, F, H', W']. */
export const conv2d = (x: TensorLike, w: TensorLike, options: ConvOptions = {}): Variable => conv(x, w, 2, options);

/** A spatial size: a number when static, else an int32 scalar computed from dims. */
function sizeExpression(parts: readonly (SizeLike | number)[], combine: (a: SizeLike, b: SizeLike) => SizeLike): SizeLike {
  return parts.reduce((a, b) => combine(a, b));
}

const plus = (a: SizeLike, b: SizeLike): SizeLike => (typeof a === 'number' && typeof b === 'number' ? a + b : add(a, b));
const times = (a: SizeLike, b: SizeLike): SizeLike => (typeof a === 'number' && typeof b === 'number' ? a * b : mul(a, b));

/** The size of an axis: its static size, or dim(x, axis). */
const sizeOf = (x: Variable, axis: number): SizeLike => x.shape[axis] ?? dim(x, axis);

/**
 * The transposed convolution: the gradient of conv with respect to its input, as a layer
 * (upsampling). x [N, C_in, ...], w [C_in, C_out/groups, ...kernel] (PyTorch's layout,
 * which is the layout of the conv it transposes) → [N, C_out, (L − 1)·s − b − a + d(K − 1)
 * + outputPadding + 1].
 */
export function convTranspose(x: TensorLike, w: TensorLike, spatial: number, options: ConvTransposeOptions = {}): Variable {
  const op = `convTranspose${spatial}d`;
  return composite(op, () => {
    const input = asVariable(x);
    const filters = asVariable(w, input.dtype);
    const attrs = convAttrs(op, input, filters, spatial, { ...options, padding: options.padding });
    const outputPadding = perAxis(op, 'outputPadding', options.outputPadding, spatial, 0);
    outputPadding.forEach((p, axis) => {
      if (p >= Math.max(attrs.stride[axis]!, attrs.dilation[axis]!)) throw buildError(op, `outputPadding [${outputPadding}] must be smaller than the stride or the dilation along each axis`);
    });
    const sizes = attrs.stride.map((s, axis) => {
      const [before, after] = attrs.padding[axis]!;
      const length = sizeOf(input, axis + 2);
      const kernel = sizeOf(filters, axis + 2);
      const fixed = -s - before - after - attrs.dilation[axis]! + outputPadding[axis]! + 1;
      return sizeExpression([times(length, s), times(kernel, attrs.dilation[axis]!), fixed], plus);
    });
    return withBias(convAdjoint('conv_transpose', input, filters, attrs, sizes), options.bias, spatial);
  });
}

export const convTranspose1d = (x: TensorLike, w: TensorLike, options: ConvTransposeOptions = {}): Variable => convTranspose(x, w, 1, options);
export const convTranspose2d = (x: TensorLike, w: TensorLike, options: ConvTransposeOptions = {}): Variable => convTranspose(x, w, 2, options);

/**
 * conv_transpose(y, w) to an input of spatial sizes `sizes`, or conv_weight_grad(x, y) to
 * a kernel of spatial sizes `sizes` (numbers, or int32 scalars): the adjoints the
 * gradients of conv are made of.
 */
export function convAdjoint(op: 'conv_transpose' | 'conv_weight_grad', a: Variable, b: Variable, attrs: ConvAttrs, sizes: readonly SizeLike[]): Variable {
  const { spec, inputs } = sizesToShapeSpec(op, sizes);
  return applyOp(op, [a, b, ...inputs], { ...attrs, spatial: spec });
}

/** The spatial sizes of x (from index 2), each static or read at run time. */
export function spatialSizes(x: Variable): SizeLike[] {
  return x.shape.slice(2).map((_, axis) => sizeOf(x, axis + 2));
}

function poolAttrs(op: string, x: Variable, mode: 'max' | 'avg', size: PerAxis, spatial: number, options: PoolOptions): PoolAttrs {
  if (x.ndim !== spatial + 2) throw buildError(op, `expects the input [batch, channels, ${spatial === 1 ? 'length' : 'height, width'}] (${spatial + 2} axes), but got ${x.type}`);
  const window = perAxis(op, 'size', size, spatial, 1);
  const stride = perAxis(op, 'stride', options.stride, spatial, 0).map((s, axis) => (options.stride === undefined ? window[axis]! : s));
  if (window.some((k) => k < 1) || stride.some((s) => s < 1)) throw buildError(op, `the window [${window}] and stride [${stride}] must be at least 1`);
  return { mode, size: window, stride, padding: paddingPairs(op, options.padding, spatial), ceilMode: options.ceilMode ?? false, countIncludePad: options.countIncludePad ?? true };
}

function pool(mode: 'max' | 'avg', spatial: number) {
  const op = `${mode}Pool${spatial}d`;
  return (x: TensorLike, size: PerAxis, options: PoolOptions = {}): Variable => composite(op, () => {
    const input = asVariable(x);
    return applyOp('pool', [input], poolAttrs(op, input, mode, size, spatial, options));
  });
}

/** Max over windows of `size` along the last axis of x [N, C, L]; padding is ignored. */
export const maxPool1d = pool('max', 1);
/** Max over windows of `size` ([KH, KW] or one number) of x [N, C, H, W]. */
export const maxPool2d = pool('max', 2);
/** Mean over windows of `size` along the last axis of x [N, C, L]. */
export const avgPool1d = pool('avg', 1);
/** Mean over windows of `size` of x [N, C, H, W]. */
export const avgPool2d = pool('avg', 2);
