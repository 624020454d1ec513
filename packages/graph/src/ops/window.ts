// Sliding-window ops over the trailing (spatial) axes of x [N, C, ...spatial]: convolution
// (cross-correlation, as in PyTorch and Theano's conv2d with filter_flip=False), its two
// adjoints, and pooling with its gradient. Any number of spatial axes; the API offers
// 1-D and 2-D. The references are direct loops with a double accumulator per output,
// float32 rounding once on store: the definitions the device kernels are checked against.
//
// Shapes, per spatial axis (L input, K kernel, s stride, d dilation, [b, a] padding):
//   conv            x [N, C, L], w [F, C/g, K]   → [N, F, ⌊(L + b + a − d(K − 1) − 1) / s⌋ + 1]
//   conv_transpose  y [N, F, Lo], w [F, C/g, K] → [N, C, spatial] (the L that conv maps to Lo)
//   conv_weight_grad x [N, C, L], y [N, F, Lo]  → [F, C/g, spatial] (the K)
//   pool            x [N, C, L]                 → [N, C, ⌊ or ⌈(L + b + a − K) / s⌉ + 1]
//   pool_grad       x [N, C, L], y [N, C, Lo]   → x's shape
// conv_transpose takes filters in the layout of the conv it is the adjoint of, [F, C/g, K],
// which is also PyTorch's layout for a transposed convolution [C_in, C_out/g, K].
// Left out: integer convolution, pooling with dilation.

import { allocate, isFloat, promote, type DType } from '../dtype.ts';
import { NDArray, sizeOf, stridesOf } from '../ndarray.ts';
import type { ConvAdjointAttrs, ConvAttrs, PoolAttrs, ShapeSpec } from '../ops.ts';
import { formatShape, type Dim, type TensorType } from '../type.ts';
import { fail, type OpDefs } from './def.ts';
import { specDims } from './movement.ts';

/** conv's output size along one axis, or a sentence on why there is none. */
export function convOutputSize(length: number, kernel: number, stride: number, dilation: number, [before, after]: readonly [number, number]): number | string {
  const padded = length + before + after;
  const span = dilation * (kernel - 1) + 1;
  if (padded < span) return `the kernel spans ${span} positions${dilation > 1 ? ` (${kernel} taps, dilation ${dilation})` : ''}, more than the ${padded} of the padded input (${length} + ${before} + ${after})`;
  return Math.floor((padded - span) / stride) + 1;
}

/** pool's output size along one axis (PyTorch's rule: in ceil mode, a last window must start inside the input or its left padding). */
export function poolOutputSize(length: number, size: number, stride: number, [before, after]: readonly [number, number], ceilMode: boolean): number | string {
  const padded = length + before + after;
  if (padded < size) return `the window of ${size} is longer than the padded input (${length} + ${before} + ${after})`;
  let count = (ceilMode ? Math.ceil((padded - size) / stride) : Math.floor((padded - size) / stride)) + 1;
  if (ceilMode && (count - 1) * stride >= length + before) count--;
  return count;
}

function checkWindowAttrs(attrs: { stride: readonly number[]; padding: readonly (readonly [number, number])[]; dilation?: readonly number[] }, spatial: number): void {
  const { stride, padding, dilation } = attrs;
  if (stride.length !== spatial || padding.length !== spatial || (dilation && dilation.length !== spatial)) {
    fail(`stride, padding${dilation ? ' and dilation' : ''} need one entry per spatial axis (${spatial}); got stride [${stride}], padding ${JSON.stringify(padding)}${dilation ? `, dilation [${dilation}]` : ''}`);
  }
  for (const s of stride) if (!(Number.isInteger(s) && s >= 1)) fail(`stride [${stride}] must hold positive integers`);
  for (const d of dilation ?? []) if (!(Number.isInteger(d) && d >= 1)) fail(`dilation [${dilation}] must hold positive integers`);
  for (const pair of padding) if (!pair.every((p) => Number.isInteger(p) && p >= 0)) fail(`padding ${JSON.stringify(padding)} must hold non-negative integers`);
}

function floatDType(a: TensorType, b: TensorType | undefined, what: string): DType {
  const dtype = b ? promote(a.dtype, b.dtype) : a.dtype;
  if (!isFloat(dtype)) fail(`${what} needs float inputs, but got ${b ? `${a} and ${b}` : String(a)}; cast to float32 first`);
  return dtype;
}

/** Checks x [N, C, ...] against filters [F, C/g, ...] and returns the spatial count. */
function checkConvOperands(x: TensorType, w: TensorType, groups: number, filtersFirst: 'x' | 'output'): number {
  const spatial = x.ndim - 2;
  if (spatial < 1) fail(`the input must be [batch, channels, ...spatial] with at least one spatial axis, but is ${x}`);
  if (w.ndim !== x.ndim) fail(`the filters must be [filters, channels/groups, ...kernel] with ${spatial} kernel axes like the input ${x}, but are ${w}`);
  if (!(Number.isInteger(groups) && groups >= 1)) fail(`groups must be a positive integer, not ${groups}`);
  const [channels, filters, perGroup] = [x.shape[1] ?? null, w.shape[0] ?? null, w.shape[1] ?? null];
  if (filtersFirst === 'x') {
    // conv: x's channels C = groups · w's C/g; w's F divides by groups.
    if (channels !== null && channels % groups !== 0) fail(`the input's ${channels} channels do not divide into ${groups} groups (${x}, filters ${w})`);
    if (filters !== null && filters % groups !== 0) fail(`the ${filters} filters do not divide into ${groups} groups (${x}, filters ${w})`);
    if (channels !== null && perGroup !== null && channels !== perGroup * groups) {
      fail(`the input has ${channels} channels but the filters ${w} expect ${perGroup} per group × ${groups} group${groups > 1 ? 's' : ''} = ${perGroup * groups}`);
    }
  } else if (channels !== null && filters !== null && channels !== filters) {
    fail(`the gradient has ${channels} channels but the filters ${w} have ${filters}`);
  } else if (filters !== null && filters % groups !== 0) {
    fail(`the ${filters} filters do not divide into ${groups} groups (filters ${w})`);
  }
  return spatial;
}

/** Odometer over a shape: calls visit with each multi-index in row-major order. */
function forEachIndex(shape: readonly number[], visit: (index: readonly number[]) => void): void {
  const size = sizeOf(shape);
  const index = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < size; flat++) {
    visit(index);
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      if (++index[axis]! < shape[axis]!) break;
      index[axis] = 0;
    }
  }
}

/**
 * The shared loop of the three convolution ops: for every batch n, filter f, output
 * position o, input channel c of f's group and tap k whose input position lies inside x
 * (else it reads a padding zero), calls visit with the flat offsets into x [N, C, L],
 * w [F, C/g, K] and y [N, F, Lo].
 */
function forEachTap(xShape: readonly number[], wShape: readonly number[], yShape: readonly number[], attrs: ConvAttrs, visit: (xAt: number, wAt: number, yAt: number) => void): void {
  const batch = xShape[0]!;
  const [filters, perGroup] = wShape as [number, number];
  const spatialIn = xShape.slice(2);
  const kernel = wShape.slice(2);
  const spatialOut = yShape.slice(2);
  const perFilterGroup = filters / attrs.groups;
  const xStrides = stridesOf(xShape);
  const wStrides = stridesOf(wShape);
  const yStrides = stridesOf(yShape);
  const position = new Array<number>(spatialIn.length);
  for (let n = 0; n < batch; n++) {
    for (let f = 0; f < filters; f++) {
      const group = Math.floor(f / perFilterGroup);
      forEachIndex(spatialOut, (o) => {
        let yAt = n * yStrides[0]! + f * yStrides[1]!;
        o.forEach((i, axis) => (yAt += i * yStrides[axis + 2]!));
        for (let c = 0; c < perGroup; c++) {
          const channel = group * perGroup + c;
          forEachIndex(kernel, (k) => {
            let xAt = n * xStrides[0]! + channel * xStrides[1]!;
            let wAt = f * wStrides[0]! + c * wStrides[1]!;
            for (let axis = 0; axis < k.length; axis++) {
              position[axis] = o[axis]! * attrs.stride[axis]! + k[axis]! * attrs.dilation[axis]! - attrs.padding[axis]![0];
              if (position[axis]! < 0 || position[axis]! >= spatialIn[axis]!) return;
              xAt += position[axis]! * xStrides[axis + 2]!;
              wAt += k[axis]! * wStrides[axis + 2]!;
            }
            visit(xAt, wAt, yAt);
          });
        }
      });
    }
  }
}

function convSpatial(xSpatial: readonly Dim[], kernel: readonly Dim[], attrs: ConvAttrs): Dim[] {
  return xSpatial.map((length, axis) => {
    const k = kernel[axis];
    if (length === null || k === null) return null;
    const out = convOutputSize(length, k!, attrs.stride[axis]!, attrs.dilation[axis]!, attrs.padding[axis]!);
    if (typeof out === 'string') fail(`along spatial axis ${axis}: ${out}`);
    return out;
  });
}

/** Static spatial sizes of an adjoint's output from its ShapeSpec and scalar inputs. */
function adjointSpatial(attrs: ConvAdjointAttrs, sizes: readonly TensorType[], spatial: number): Dim[] {
  if (attrs.spatial.length !== spatial) fail(`the output needs ${spatial} spatial sizes, but ${formatShape(attrs.spatial)} has ${attrs.spatial.length}`);
  return specDims(attrs.spatial, sizes, false);
}

function concreteSpec(spec: ShapeSpec, sizes: readonly NDArray[]): number[] {
  let next = 0;
  return spec.map((entry) => (entry === null ? sizes[next++]!.data[0]! : entry));
}

/** Checks that conv with `attrs` maps x's spatial sizes onto y's (the adjoints' consistency). */
function checkConvMaps(xSpatial: readonly number[], kernel: readonly number[], ySpatial: readonly number[], attrs: ConvAttrs, what: string): void {
  xSpatial.forEach((length, axis) => {
    const out = convOutputSize(length, kernel[axis]!, attrs.stride[axis]!, attrs.dilation[axis]!, attrs.padding[axis]!);
    if (out !== ySpatial[axis]) fail(`${what}: along spatial axis ${axis}, conv maps ${length} positions with kernel ${kernel[axis]} to ${typeof out === 'string' ? 'nothing' : out}, not ${ySpatial[axis]}`);
  });
}

export const windowDefs = {
  conv: {
    infer: ([x, w], attrs) => {
      const spatial = checkConvOperands(x!, w!, attrs.groups, 'x');
      checkWindowAttrs(attrs, spatial);
      return { dtype: floatDType(x!, w!, 'conv'), shape: [x!.shape[0]!, w!.shape[0]!, ...convSpatial(x!.shape.slice(2), w!.shape.slice(2), attrs)] };
    },
    perform: ([x, w], attrs) => {
      const shape = [x!.shape[0]!, w!.shape[0]!, ...convSpatial(x!.shape.slice(2), w!.shape.slice(2), attrs) as number[]];
      const acc = new Float64Array(sizeOf(shape));
      const [xd, wd] = [x!.data, w!.data];
      forEachTap(x!.shape, w!.shape, shape, attrs, (xAt, wAt, yAt) => (acc[yAt]! += xd[xAt]! * wd[wAt]!));
      return fromDoubles(promote(x!.dtype, w!.dtype), shape, acc);
    },
  },
  conv_transpose: {
    infer: ([y, w, ...sizes], attrs) => {
      const spatial = checkConvOperands(y!, w!, attrs.groups, 'output');
      checkWindowAttrs(attrs, spatial);
      const channels = w!.shape[1] === null ? null : w!.shape[1]! * attrs.groups;
      return { dtype: floatDType(y!, w!, 'conv_transpose'), shape: [y!.shape[0]!, channels, ...adjointSpatial(attrs, sizes, spatial)] };
    },
    perform: ([y, w, ...sizes], attrs) => {
      const xShape = [y!.shape[0]!, w!.shape[1]! * attrs.groups, ...concreteSpec(attrs.spatial, sizes)];
      checkConvMaps(xShape.slice(2), w!.shape.slice(2), y!.shape.slice(2), attrs, 'conv_transpose');
      const acc = new Float64Array(sizeOf(xShape));
      const [yd, wd] = [y!.data, w!.data];
      forEachTap(xShape, w!.shape, y!.shape, attrs, (xAt, wAt, yAt) => (acc[xAt]! += yd[yAt]! * wd[wAt]!));
      return fromDoubles(promote(y!.dtype, w!.dtype), xShape, acc);
    },
  },
  conv_weight_grad: {
    infer: ([x, y, ...sizes], attrs) => {
      const spatial = x!.ndim - 2;
      if (spatial < 1 || y!.ndim !== x!.ndim) fail(`expects the input [batch, channels, ...spatial] and the output's gradient of the same rank, but got ${x} and ${y}`);
      checkWindowAttrs(attrs, spatial);
      const [channels, filters] = [x!.shape[1] ?? null, y!.shape[1] ?? null];
      if (channels !== null && channels % attrs.groups !== 0) fail(`the input's ${channels} channels do not divide into ${attrs.groups} groups`);
      if (filters !== null && filters % attrs.groups !== 0) fail(`the ${filters} filters do not divide into ${attrs.groups} groups`);
      return { dtype: floatDType(x!, y!, 'conv_weight_grad'), shape: [filters, channels === null ? null : channels / attrs.groups, ...adjointSpatial(attrs, sizes, spatial)] };
    },
    perform: ([x, y, ...sizes], attrs) => {
      const wShape = [y!.shape[1]!, x!.shape[1]! / attrs.groups, ...concreteSpec(attrs.spatial, sizes)];
      checkConvMaps(x!.shape.slice(2), wShape.slice(2), y!.shape.slice(2), attrs, 'conv_weight_grad');
      const acc = new Float64Array(sizeOf(wShape));
      const [xd, yd] = [x!.data, y!.data];
      forEachTap(x!.shape, wShape, y!.shape, attrs, (xAt, wAt, yAt) => (acc[wAt]! += xd[xAt]! * yd[yAt]!));
      return fromDoubles(promote(x!.dtype, y!.dtype), wShape, acc);
    },
  },
  pool: {
    infer: ([x], attrs) => {
      const spatial = checkPoolOperand(x!, attrs);
      return { dtype: floatDType(x!, undefined, `${attrs.mode} pooling`), shape: [...x!.shape.slice(0, 2), ...poolSpatial(x!.shape.slice(2), attrs, spatial)] };
    },
    perform: ([x], attrs) => {
      const shape = [...x!.shape.slice(0, 2), ...poolSpatial(x!.shape.slice(2), attrs, x!.ndim - 2) as number[]];
      const out = allocate(x!.dtype, sizeOf(shape));
      forEachWindow(x!.shape, shape, attrs, (o, taps, divisor) => {
        if (attrs.mode === 'avg') {
          let total = 0;
          for (const at of taps) total += x!.data[at]!;
          out[o] = total / divisor;
        } else {
          out[o] = x!.data[firstMax(x!.data, taps)] ?? -Infinity;
        }
      });
      return new NDArray(x!.dtype, shape, out);
    },
  },
  pool_grad: {
    infer: ([x, y], attrs) => {
      const spatial = checkPoolOperand(x!, attrs);
      const expected = [...x!.shape.slice(0, 2), ...poolSpatial(x!.shape.slice(2), attrs, spatial)];
      if (y!.ndim !== expected.length || expected.some((dim, axis) => dim !== null && y!.shape[axis] !== null && dim !== y!.shape[axis])) {
        fail(`the gradient ${y} does not have the pooled shape ${formatShape(expected)} of ${x}`);
      }
      return { dtype: floatDType(x!, y!, `${attrs.mode} pooling's gradient`), shape: x!.shape };
    },
    perform: ([x, y], attrs) => {
      const pooled = [...x!.shape.slice(0, 2), ...poolSpatial(x!.shape.slice(2), attrs, x!.ndim - 2) as number[]];
      if (pooled.join() !== y!.shape.join()) fail(`the gradient ${formatShape(y!.shape)} does not have the pooled shape ${formatShape(pooled)} of the input ${formatShape(x!.shape)}`);
      const acc = new Float64Array(x!.size);
      forEachWindow(x!.shape, y!.shape, attrs, (o, taps, divisor) => {
        const g = y!.data[o]!;
        if (attrs.mode === 'avg') for (const at of taps) acc[at]! += g / divisor;
        else if (taps.length > 0) acc[firstMax(x!.data, taps)]! += g;
      });
      return fromDoubles(promote(x!.dtype, y!.dtype), x!.shape, acc);
    },
  },
} satisfies OpDefs<'conv' | 'conv_transpose' | 'conv_weight_grad' | 'pool' | 'pool_grad'>;

function checkPoolOperand(x: TensorType, attrs: PoolAttrs): number {
  const spatial = x.ndim - 2;
  if (spatial < 1) fail(`the input must be [batch, channels, ...spatial] with at least one spatial axis, but is ${x}`);
  if (attrs.mode !== 'max' && attrs.mode !== 'avg') fail(`mode must be 'max' or 'avg', not '${String(attrs.mode)}'`);
  if (attrs.size.length !== spatial) fail(`the window needs one size per spatial axis (${spatial}), but is [${attrs.size}]`);
  for (const k of attrs.size) if (!(Number.isInteger(k) && k >= 1)) fail(`window size [${attrs.size}] must hold positive integers`);
  checkWindowAttrs(attrs, spatial);
  attrs.padding.forEach(([before, after], axis) => {
    if (2 * Math.max(before, after) > attrs.size[axis]!) fail(`padding ${JSON.stringify(attrs.padding)} exceeds half the window [${attrs.size}] along axis ${axis}: a window could hold only padding`);
  });
  return spatial;
}

function poolSpatial(xSpatial: readonly Dim[], attrs: PoolAttrs, spatial: number): Dim[] {
  return xSpatial.slice(0, spatial).map((length, axis) => {
    if (length === null) return null;
    const out = poolOutputSize(length, attrs.size[axis]!, attrs.stride[axis]!, attrs.padding[axis]!, attrs.ceilMode);
    if (typeof out === 'string') fail(`along spatial axis ${axis}: ${out}`);
    return out;
  });
}

/**
 * For every output of a pool over x, the flat offsets of the input elements its window
 * covers (row-major over the window) and the divisor of average pooling (PyTorch's: the
 * window clipped to the padded input, or to the input without countIncludePad).
 */
function forEachWindow(xShape: readonly number[], yShape: readonly number[], attrs: PoolAttrs, visit: (o: number, taps: number[], divisor: number) => void): void {
  const spatialIn = xShape.slice(2);
  const planes = xShape[0]! * xShape[1]!;
  const planeIn = sizeOf(spatialIn);
  const spatialOut = yShape.slice(2);
  const planeOut = sizeOf(spatialOut);
  const strides = stridesOf(spatialIn);
  for (let plane = 0; plane < planes; plane++) {
    let o = plane * planeOut;
    forEachIndex(spatialOut, (out) => {
      const taps: number[] = [];
      let divisor = 1;
      out.forEach((i, axis) => {
        const start = i * attrs.stride[axis]! - attrs.padding[axis]![0];
        const end = Math.min(start + attrs.size[axis]!, spatialIn[axis]! + attrs.padding[axis]![1]);
        divisor *= attrs.countIncludePad ? end - start : Math.min(end, spatialIn[axis]!) - Math.max(start, 0);
      });
      forEachIndex(attrs.size, (k) => {
        let at = plane * planeIn;
        for (let axis = 0; axis < k.length; axis++) {
          const position = out[axis]! * attrs.stride[axis]! - attrs.padding[axis]![0] + k[axis]!;
          if (position < 0 || position >= spatialIn[axis]!) return;
          at += position * strides[axis]!;
        }
        taps.push(at);
      });
      visit(o++, taps, divisor);
    });
  }
}

/** The offset of a window's first maximum; a NaN counts as the maximum (numpy's argmax). */
function firstMax(data: ArrayLike<number>, taps: readonly number[]): number {
  let best = taps[0]!;
  for (const at of taps) {
    const [v, b] = [data[at]!, data[best]!];
    if (Number.isNaN(b)) break;
    if (v > b || Number.isNaN(v)) best = at;
  }
  return best;
}

function fromDoubles(dtype: DType, shape: readonly number[], values: Float64Array): NDArray {
  const out = allocate(dtype, values.length);
  out.set(values);
  return new NDArray(dtype, shape, out);
}
