// The sliding-window ops on the cpu device (definitions: graph/src/ops/window.ts).
// Convolutions become matrix products on the device's WebAssembly GEMM (cpu/matmul.ts)
// around an im2col copy, for any number of spatial axes, strides, padding, dilation and
// groups; pooling and its gradient are direct loops in the reference's order and
// arithmetic (a double accumulator, one rounding on store), so they equal it bit for bit.
//   conv             y[n, g]  = W_g · col[n, g]          (Fg × CgK)(CgK × P), batched over n
//   conv_transpose   dcol[n, g] = W_gᵀ · dy[n, g], then col2im adds each tap into dx
//   conv_weight_grad dW_g = dyᵀ_g · colᵀ_gᵀ              (Fg × N·P)(N·P × CgK), one product
// Shapes: x [N, C, ...L], w [F, C/g, ...K], y [N, F, ...O]; P = ∏O positions, K = ∏K taps,
// Cg = C/g and Fg = F/g per group; col [N, C·K, P] (forward, input gradient) or
// [C·K, N·P] (weight gradient, so that one product sums over the batch too).
// An operand the partition fused (a view, a cheap activation) is computed into scratch
// first. Left out: float64 (the reference's alone), and convolutions without the GEMM
// (they raise Unsupported and run on the reference).

import { sizeOf, stridesOf, type ConvAttrs, type PoolAttrs, type TypedArray, type Variable } from '@theorbo/graph';
import { JsBuilder, loops, offsetOf, Unsupported } from './js-render.ts';
import type { KernelContext } from './kernel-context.ts';

/** Computes the window op of `root` into `rootView`; how it runs (wasm: on the GEMM). */
export function windowOp(root: Variable, context: KernelContext, rootView: TypedArray): { run: () => void; how: 'js' | 'wasm' } {
  const node = root.owner!;
  if (root.dtype !== 'float32' || node.inputs.slice(0, 2).some((input) => input.dtype !== 'float32')) throw new Unsupported(`${root.dtype} windows run on the reference`);
  switch (node.op) {
    case 'conv': return { run: convForward(root, context, rootView as Float32Array), how: 'wasm' };
    case 'conv_transpose': return { run: convInputGradient(root, context, rootView as Float32Array), how: 'wasm' };
    case 'conv_weight_grad': return { run: convWeightGradient(root, context, rootView as Float32Array), how: 'wasm' };
    case 'pool': return { run: pool(root, context, rootView as Float32Array), how: 'js' };
    case 'pool_grad': return { run: poolGradient(root, context, rootView as Float32Array), how: 'js' };
    default: throw new Unsupported(`no cpu rule for ${node.op}`);
  }
}

interface Dense { view: Float32Array; prepare?: () => void }

/** A variable as a dense row-major buffer: its own when stored, else computed into scratch. */
function dense(variable: Variable, context: KernelContext): Dense {
  if (context.materialized.has(variable)) return { view: context.viewOf(variable) as Float32Array };
  const shape = variable.shape as number[];
  const view = context.scratch('float32', sizeOf(shape)).view as Float32Array;
  const builder = new JsBuilder(context.materialized, new Set());
  const body = loops(builder, shape, 'i', (index) => builder.lines.push(`out[${offsetOf(index, shape)}] = ${builder.value(variable, index)};`));
  return { view, prepare: builder.compile(body, { out: view }, context.viewOf) };
}

/** Runs each operand's preparation, then `then`. */
function after(operands: readonly Dense[], then: () => void): () => void {
  const steps = operands.flatMap((operand) => (operand.prepare ? [operand.prepare] : []));
  if (steps.length === 0) return then;
  return () => {
    for (const step of steps) step();
    then();
  };
}

/** The geometry of one convolution, from x's, w's and y's shapes. */
interface ConvGeometry {
  batch: number; channels: number; filters: number; groups: number;
  /** Spatial elements of one channel of x, taps of one filter channel, output positions. */
  inputPlane: number; taps: number; positions: number;
  /** Input offset (within a channel plane) of tap t at position p, or −1 where it reads padding: [t · P + p]. */
  offsets: Int32Array;
}

function convGeometry(xShape: readonly number[], wShape: readonly number[], yShape: readonly number[], attrs: ConvAttrs): ConvGeometry {
  const spatialIn = xShape.slice(2);
  const kernel = wShape.slice(2);
  const spatialOut = yShape.slice(2);
  const [taps, positions] = [sizeOf(kernel), sizeOf(spatialOut)];
  const inStrides = stridesOf(spatialIn);
  const [kernelStrides, outStrides] = [stridesOf(kernel), stridesOf(spatialOut)];
  const offsets = new Int32Array(taps * positions);
  for (let t = 0; t < taps; t++) {
    for (let p = 0; p < positions; p++) {
      let at = 0;
      for (let axis = 0; axis < spatialIn.length && at >= 0; axis++) {
        const k = Math.floor(t / kernelStrides[axis]!) % kernel[axis]!;
        const o = Math.floor(p / outStrides[axis]!) % spatialOut[axis]!;
        const position = o * attrs.stride[axis]! + k * attrs.dilation[axis]! - attrs.padding[axis]![0];
        at = position < 0 || position >= spatialIn[axis]! ? -1 : at + position * inStrides[axis]!;
      }
      offsets[t * positions + p] = at;
    }
  }
  return { batch: xShape[0]!, channels: xShape[1]!, filters: wShape[0]!, groups: attrs.groups, inputPlane: sizeOf(spatialIn), taps, positions, offsets };
}

/**
 * im2col: col[n, c·K + t, p] = x[n, c, at(t, p)] (0 on padding), stored at
 * n·batchStride + (c·K + t)·rowStride + p.
 */
function im2col(x: Float32Array, col: Float32Array, g: ConvGeometry, batchStride: number, rowStride: number): void {
  const { batch, channels, inputPlane, taps, positions, offsets } = g;
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < channels; c++) {
      const xBase = (n * channels + c) * inputPlane;
      for (let t = 0; t < taps; t++) {
        const out = n * batchStride + (c * taps + t) * rowStride;
        const table = t * positions;
        for (let p = 0; p < positions; p++) {
          const at = offsets[table + p]!;
          col[out + p] = at >= 0 ? x[xBase + at]! : 0;
        }
      }
    }
  }
}

function gemmOf(context: KernelContext, op: string): NonNullable<KernelContext['gemm']> {
  if (!context.gemm) throw new Unsupported(`${op} needs the WebAssembly GEMM`);
  return context.gemm;
}

/** Element offset of a view in the device memory. */
const at = (context: KernelContext, view: TypedArray): number => context.offsetOf(view) / 4;

/** What every convolution kernel derives first: the geometry, the GEMM and the per-group sizes. */
function convSetup(context: KernelContext, op: string, xShape: readonly (number | null)[], wShape: readonly (number | null)[], yShape: readonly (number | null)[], attrs: ConvAttrs) {
  const g = convGeometry(xShape as number[], wShape as number[], yShape as number[], attrs);
  return {
    g, gemm: gemmOf(context, op), rows: g.channels * g.taps, depth: g.batch * g.positions,
    perGroup: (g.channels / g.groups) * g.taps, filtersPerGroup: g.filters / g.groups,
  };
}

function convForward(root: Variable, context: KernelContext, y: Float32Array): () => void {
  const [xVar, wVar] = root.owner!.inputs as [Variable, Variable];
  const { g, gemm, rows, depth, perGroup, filtersPerGroup } = convSetup(context, 'conv', xVar.shape, wVar.shape, root.shape, root.owner!.attrs as ConvAttrs);
  const [x, w] = [dense(xVar, context), dense(wVar, context)];
  const colT = context.scratch('float32', rows * depth).view as Float32Array;
  const yT = context.scratch('float32', g.filters * depth).view as Float32Array;
  const calls = Array.from({ length: g.groups }, (_, group) => ({
    a: { offset: at(context, w.view) + group * filtersPerGroup * perGroup, strides: [0, perGroup, 1] as [number, number, number] },
    b: { offset: at(context, colT) + group * perGroup * depth, strides: [0, depth, 1] as [number, number, number] },
    c: { offset: at(context, yT) + group * filtersPerGroup * depth, strides: [0, depth] as [number, number] },
    m: filtersPerGroup, n: depth, k: perGroup, batch: 1,
  }));
  return after([x, w], () => {
    im2col(x.view, colT, g, g.positions, depth);
    for (const call of calls) gemm.run(call);
    relayout(yT, y, g, false);
  });
}

/**
 * Between the convolution's layout [N, F, P] and the product's [F, N·P] (one product runs
 * over the whole batch): `toProduct` true goes [N, F, P] → [F, N·P], false the other way.
 */
function relayout(from: Float32Array, to: Float32Array, g: ConvGeometry, toProduct: boolean): void {
  const { batch, filters, positions } = g;
  const depth = batch * positions;
  for (let n = 0; n < batch; n++) {
    for (let f = 0; f < filters; f++) {
      const batched = (n * filters + f) * positions, product = f * depth + n * positions;
      if (toProduct) to.set(from.subarray(batched, batched + positions), product);
      else to.set(from.subarray(product, product + positions), batched);
    }
  }
}

function convInputGradient(root: Variable, context: KernelContext, dx: Float32Array): () => void {
  const [dyVar, wVar] = root.owner!.inputs as [Variable, Variable];
  const { g, gemm, rows, depth, perGroup, filtersPerGroup } = convSetup(context, 'conv_transpose', root.shape, wVar.shape, dyVar.shape, root.owner!.attrs as ConvAttrs);
  const [dy, w] = [dense(dyVar, context), dense(wVar, context)];
  const dyT = context.scratch('float32', g.filters * depth).view as Float32Array;
  const dcolT = context.scratch('float32', rows * depth).view as Float32Array;
  const calls = Array.from({ length: g.groups }, (_, group) => ({
    a: { offset: at(context, w.view) + group * filtersPerGroup * perGroup, strides: [0, 1, perGroup] as [number, number, number] },
    b: { offset: at(context, dyT) + group * filtersPerGroup * depth, strides: [0, depth, 1] as [number, number, number] },
    c: { offset: at(context, dcolT) + group * perGroup * depth, strides: [0, depth] as [number, number] },
    m: perGroup, n: depth, k: filtersPerGroup, batch: 1,
  }));
  const sums = new Float64Array(g.channels * g.inputPlane);
  return after([dy, w], () => {
    relayout(dy.view, dyT, g, true);
    for (const call of calls) gemm.run(call);
    // col2im: every tap's product added into the input position it read, per batch item.
    const { batch, channels, inputPlane, taps, positions, offsets } = g;
    for (let n = 0; n < batch; n++) {
      sums.fill(0);
      for (let c = 0; c < channels; c++) {
        const base = c * inputPlane;
        for (let t = 0; t < taps; t++) {
          const from = (c * taps + t) * depth + n * positions;
          const table = t * positions;
          for (let p = 0; p < positions; p++) {
            const to = offsets[table + p]!;
            if (to >= 0) sums[base + to]! += dcolT[from + p]!;
          }
        }
      }
      dx.set(sums, n * channels * inputPlane);
    }
  });
}

function convWeightGradient(root: Variable, context: KernelContext, dw: Float32Array): () => void {
  const [xVar, dyVar] = root.owner!.inputs as [Variable, Variable];
  const { g, gemm, rows, depth, perGroup, filtersPerGroup } = convSetup(context, 'conv_weight_grad', xVar.shape, root.shape, dyVar.shape, root.owner!.attrs as ConvAttrs);
  const [x, dy] = [dense(xVar, context), dense(dyVar, context)];
  const colT = context.scratch('float32', rows * depth).view as Float32Array;
  const dyT = context.scratch('float32', g.filters * depth).view as Float32Array;
  const calls = Array.from({ length: g.groups }, (_, group) => ({
    a: { offset: at(context, dyT) + group * filtersPerGroup * depth, strides: [0, depth, 1] as [number, number, number] },
    b: { offset: at(context, colT) + group * perGroup * depth, strides: [0, 1, depth] as [number, number, number] },
    c: { offset: at(context, dw) + group * filtersPerGroup * perGroup, strides: [0, perGroup] as [number, number] },
    m: filtersPerGroup, n: perGroup, k: depth, batch: 1,
  }));
  return after([x, dy], () => {
    im2col(x.view, colT, g, g.positions, depth);
    relayout(dy.view, dyT, g, true);
    for (const call of calls) gemm.run(call);
  });
}

/** A pool's windows: for output position p, the input offsets of its taps ([p · taps + t], −1 outside) and avg's divisor. */
function poolGeometry(xShape: readonly number[], yShape: readonly number[], attrs: PoolAttrs): { planes: number; inputPlane: number; positions: number; taps: number; offsets: Int32Array; divisors: Float64Array } {
  const spatialIn = xShape.slice(2);
  const spatialOut = yShape.slice(2);
  const [taps, positions] = [sizeOf(attrs.size), sizeOf(spatialOut)];
  const [inStrides, outStrides, sizeStrides] = [stridesOf(spatialIn), stridesOf(spatialOut), stridesOf(attrs.size)];
  const offsets = new Int32Array(positions * taps);
  const divisors = new Float64Array(positions);
  for (let p = 0; p < positions; p++) {
    let divisor = 1;
    for (let axis = 0; axis < spatialIn.length; axis++) {
      const o = Math.floor(p / outStrides[axis]!) % spatialOut[axis]!;
      const start = o * attrs.stride[axis]! - attrs.padding[axis]![0];
      const end = Math.min(start + attrs.size[axis]!, spatialIn[axis]! + attrs.padding[axis]![1]);
      divisor *= attrs.countIncludePad ? end - start : Math.min(end, spatialIn[axis]!) - Math.max(start, 0);
    }
    divisors[p] = divisor;
    for (let t = 0; t < taps; t++) {
      let offset = 0;
      for (let axis = 0; axis < spatialIn.length && offset >= 0; axis++) {
        const o = Math.floor(p / outStrides[axis]!) % spatialOut[axis]!;
        const k = Math.floor(t / sizeStrides[axis]!) % attrs.size[axis]!;
        const position = o * attrs.stride[axis]! - attrs.padding[axis]![0] + k;
        offset = position < 0 || position >= spatialIn[axis]! ? -1 : offset + position * inStrides[axis]!;
      }
      offsets[p * taps + t] = offset;
    }
  }
  return { planes: xShape[0]! * xShape[1]!, inputPlane: sizeOf(spatialIn), positions, taps, offsets, divisors };
}

/** The offset of the window's first maximum (a NaN counts as the maximum), or −1 for a window of padding only. */
function firstMax(x: Float32Array, base: number, offsets: Int32Array, from: number, taps: number): number {
  let best = -1;
  for (let t = 0; t < taps; t++) {
    const offset = offsets[from + t]!;
    if (offset < 0) continue;
    if (best < 0) { best = base + offset; continue; }
    const [v, b] = [x[base + offset]!, x[best]!];
    if (b !== b) break;
    if (v > b || v !== v) best = base + offset;
  }
  return best;
}

function pool(root: Variable, context: KernelContext, y: Float32Array): () => void {
  const xVar = root.owner!.inputs[0]!;
  const attrs = root.owner!.attrs as PoolAttrs;
  const x = dense(xVar, context);
  const { planes, inputPlane, positions, taps, offsets, divisors } = poolGeometry(xVar.shape as number[], root.shape as number[], attrs);
  const average = attrs.mode === 'avg';
  return after([x], () => {
    const data = x.view;
    for (let plane = 0; plane < planes; plane++) {
      const base = plane * inputPlane;
      for (let p = 0; p < positions; p++) {
        const o = plane * positions + p;
        if (average) {
          let total = 0;
          for (let t = 0; t < taps; t++) {
            const offset = offsets[p * taps + t]!;
            if (offset >= 0) total += data[base + offset]!;
          }
          y[o] = total / divisors[p]!;
        } else {
          const best = firstMax(data, base, offsets, p * taps, taps);
          y[o] = best < 0 ? -Infinity : data[best]!;
        }
      }
    }
  });
}

function poolGradient(root: Variable, context: KernelContext, dx: Float32Array): () => void {
  const [xVar, dyVar] = root.owner!.inputs as [Variable, Variable];
  const attrs = root.owner!.attrs as PoolAttrs;
  const [x, dy] = [dense(xVar, context), dense(dyVar, context)];
  const { planes, inputPlane, positions, taps, offsets, divisors } = poolGeometry(xVar.shape as number[], dyVar.shape as number[], attrs);
  const average = attrs.mode === 'avg';
  const sums = new Float64Array(inputPlane);
  return after([x, dy], () => {
    const [data, gradient] = [x.view, dy.view];
    for (let plane = 0; plane < planes; plane++) {
      const base = plane * inputPlane;
      sums.fill(0);
      for (let p = 0; p < positions; p++) {
        const g = gradient[plane * positions + p]!;
        if (average) {
          const share = g / divisors[p]!;
          for (let t = 0; t < taps; t++) {
            const offset = offsets[p * taps + t]!;
            if (offset >= 0) sums[offset]! += share;
          }
        } else {
          const best = firstMax(data, base, offsets, p * taps, taps);
          if (best >= 0) sums[best - base]! += g;
        }
      }
      dx.set(sums, base);
    }
  });
}
