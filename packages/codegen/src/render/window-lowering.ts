// The direct lowerings of the sliding-window ops: each op's value at one output index as
// a loop over what it sums or compares, reading its inputs through the builder (so an
// activation feeding a pool is computed inside the pool's loop, not stored first). They
// are the definitions on the device, written from the reference in graph/ops/window.ts:
//  - conv: Σ over the group's channels and the kernel's taps of w · x, padding reads 0;
//  - conv_transpose (gather form, no atomics): each input position sums the outputs whose
//    windows hold it, only over taps that land on it (no work on a stride's zeros);
//  - conv_weight_grad: each tap sums x · y over the batch and the output positions;
//  - pool: max (NaN propagates) or mean over the window, padding ignored;
//  - pool_grad (gather form): each input position sums the gradients of the windows that
//    hold it — all of them for average pooling, those whose first maximum it is for max.
// A kernel of its own computes each (render/window.ts); convolutions large enough to
// share work run as implicit matrix products instead (render/conv-gemm.ts).

import type { AttrsOf, ConvAttrs, PoolAttrs, Variable } from '@theorbo/graph';
import type { Emit, ExpressionBuilder } from './emit.ts';
import { convert, literal, wgslType } from './wgsl.ts';

const product = (values: readonly number[]): number => values.reduce((a, b) => a * b, 1);

/** WGSL for the multi-index of flat `t` over `shape` (constants folded where a size is 1). */
function unflattenExpr(t: string, shape: readonly number[]): string[] {
  let stride = product(shape);
  return shape.map((size, axis) => {
    stride /= size;
    if (size === 1) return '0i';
    const quotient = stride === 1 ? t : `(${t} / ${stride}i)`;
    return axis === 0 ? quotient : `(${quotient} % ${size}i)`;
  });
}

/** A loop `for (var t = 0i; t < count; t++)` whose body `build` writes; skipped when count is 0. */
function loop(builder: ExpressionBuilder, count: number, build: (t: string) => void): void {
  if (count <= 0) return;
  const t = builder.fresh('t');
  const body = builder.scoped(() => build(t));
  builder.statement(`for (var ${t} = 0i; ${t} < ${count}i; ${t}++) {\n${body.map((line) => `  ${line}`).join('\n')}\n}`);
}

/** Runs `build` only where `condition` holds (an `if` block). */
function when(builder: ExpressionBuilder, condition: string, build: () => void): void {
  const body = builder.scoped(build);
  if (condition === 'true') for (const line of body) builder.statement(line);
  else builder.statement(`if (${condition}) {\n${body.map((line) => `  ${line}`).join('\n')}\n}`);
}

const spatialOf = (variable: Variable): number[] => (variable.shape as number[]).slice(2);

/** An accumulator variable of `variable`'s dtype, starting at `init`. */
function accumulator(builder: ExpressionBuilder, variable: Variable, init: number): string {
  const name = builder.fresh('acc');
  builder.statement(`var ${name}: ${wgslType(variable.dtype)} = ${literal(init, variable.dtype)};`);
  return name;
}

/** x's position along each spatial axis for output position `o` and tap `k`, and whether all lie inside x. */
function tapPositions(o: readonly string[], k: readonly string[], attrs: ConvAttrs | (PoolAttrs & { dilation?: undefined }), spatialIn: readonly number[]): { positions: string[]; inside: string } {
  const positions = spatialIn.map((_, axis) => {
    const dilation = attrs.dilation?.[axis] ?? 1;
    const start = attrs.padding[axis]![0];
    const scaled = attrs.stride[axis] === 1 ? o[axis]! : `${o[axis]} * ${attrs.stride[axis]}i`;
    const tap = dilation === 1 ? k[axis]! : `${k[axis]} * ${dilation}i`;
    return `(${scaled} + ${tap}${start === 0 ? '' : ` - ${start}i`})`;
  });
  const inside = positions.map((p, axis) => {
    const needLow = attrs.padding[axis]![0] > 0;
    const needHigh = needsUpperCheck(attrs, axis);
    return [needLow ? `${p} >= 0i` : '', needHigh ? `${p} < ${spatialIn[axis]}i` : ''].filter((c) => c !== '').join(' && ');
  }).filter((c) => c !== '');
  return { positions, inside: inside.length === 0 ? 'true' : inside.join(' && ') };
}

/** Whether a window can reach past the end of the input along `axis` (after-padding or ceil mode). */
function needsUpperCheck(attrs: { padding: readonly (readonly [number, number])[] } & Partial<PoolAttrs>, axis: number): boolean {
  return attrs.padding[axis]![1] > 0 || attrs.ceilMode === true;
}

function convEmit(builder: ExpressionBuilder, variable: Variable, index: readonly string[]): string {
  const [x, w] = variable.owner!.inputs as [Variable, Variable];
  const attrs = variable.owner!.attrs as AttrsOf<'conv'>;
  const [, perGroup] = w.shape as number[];
  const kernel = spatialOf(w);
  const filtersPerGroup = (w.shape[0] as number) / attrs.groups;
  const [n, f] = [index[0]!, index[1]!];
  const group = attrs.groups === 1 ? '0i' : builder.bind(`${f} / ${filtersPerGroup}i`, 'grp');
  const acc = accumulator(builder, variable, 0);
  loop(builder, perGroup! * product(kernel), (t) => {
    const [c, ...k] = unflattenExpr(t, [perGroup!, ...kernel]);
    const cc = builder.bind(c!, 'c');
    const taps = k.map((expr) => builder.bind(expr, 'k'));
    const { positions, inside } = tapPositions(index.slice(2), taps, attrs, spatialOf(x));
    const channel = attrs.groups === 1 ? cc : `${group} * ${perGroup}i + ${cc}`;
    when(builder, inside, () => {
      const clamped = positions.map((p) => builder.bind(p, 'p'));
      const xv = convert(builder.value(x, [n, channel, ...clamped]), x.dtype, variable.dtype);
      const wv = convert(builder.value(w, [f, cc, ...taps]), w.dtype, variable.dtype);
      builder.statement(`${acc} = fma(${xv}, ${wv}, ${acc});`);
    });
  });
  return acc;
}

function convTransposeEmit(builder: ExpressionBuilder, variable: Variable, index: readonly string[]): string {
  // dx[n, c, i] = Σ_f Σ_k w[f, c', k] · y[n, f, q] where q·s + k·d − b = i.
  const [y, w] = variable.owner!.inputs as [Variable, Variable];
  const attrs = variable.owner!.attrs as AttrsOf<'conv_transpose'>;
  const [filters, perGroup] = w.shape as number[];
  const filtersPerGroup = filters! / attrs.groups;
  const kernel = spatialOf(w);
  const spatialOut = spatialOf(y);
  const [n, c] = [index[0]!, index[1]!];
  const group = attrs.groups === 1 ? '0i' : builder.bind(`${c} / ${perGroup}i`, 'grp');
  const within = attrs.groups === 1 ? c : builder.bind(`${c} % ${perGroup}i`, 'cw');
  const acc = accumulator(builder, variable, 0);
  loop(builder, filtersPerGroup * product(kernel), (t) => {
    const [fl, ...k] = unflattenExpr(t, [filtersPerGroup, ...kernel]);
    const taps = k.map((expr) => builder.bind(expr, 'k'));
    const filter = attrs.groups === 1 ? builder.bind(fl!, 'f') : builder.bind(`${group} * ${filtersPerGroup}i + ${fl}`, 'f');
    const conditions: string[] = [];
    const qs = taps.map((tap, axis) => {
      const dilation = attrs.dilation[axis]!;
      const shifted = builder.bind(`${index[axis + 2]} + ${attrs.padding[axis]![0]}i - ${dilation === 1 ? tap : `${tap} * ${dilation}i`}`, 'u');
      const stride = attrs.stride[axis]!;
      if (stride !== 1) conditions.push(`${shifted} % ${stride}i == 0i`);
      conditions.push(`${shifted} >= 0i`, `${shifted} < ${spatialOut[axis]! * stride}i`);
      return stride === 1 ? shifted : `${shifted} / ${stride}i`;
    });
    when(builder, conditions.join(' && '), () => {
      const positions = qs.map((q) => builder.bind(q, 'q'));
      const yv = convert(builder.value(y, [n, filter, ...positions]), y.dtype, variable.dtype);
      const wv = convert(builder.value(w, [filter, within, ...taps]), w.dtype, variable.dtype);
      builder.statement(`${acc} = fma(${yv}, ${wv}, ${acc});`);
    });
  });
  return acc;
}

function convWeightGradEmit(builder: ExpressionBuilder, variable: Variable, index: readonly string[]): string {
  // dw[f, c, k] = Σ_n Σ_o y[n, f, o] · x[n, g·C/g + c, o·s + k·d − b].
  const [x, y] = variable.owner!.inputs as [Variable, Variable];
  const attrs = variable.owner!.attrs as AttrsOf<'conv_weight_grad'>;
  const [filters, perGroup] = variable.shape as number[];
  const filtersPerGroup = filters! / attrs.groups;
  const spatialOut = spatialOf(y);
  const [f, c] = [index[0]!, index[1]!];
  const taps = index.slice(2);
  const channel = attrs.groups === 1 ? c : builder.bind(`(${f} / ${filtersPerGroup}i) * ${perGroup}i + ${c}`, 'ch');
  const acc = accumulator(builder, variable, 0);
  loop(builder, (y.shape[0] as number) * product(spatialOut), (t) => {
    const [n, ...o] = unflattenExpr(t, [y.shape[0] as number, ...spatialOut]).map((expr) => builder.bind(expr, 'o'));
    const { positions, inside } = tapPositions(o, taps, attrs, spatialOf(x));
    when(builder, inside, () => {
      const at = positions.map((p) => builder.bind(p, 'p'));
      const xv = convert(builder.value(x, [n!, channel, ...at]), x.dtype, variable.dtype);
      const yv = convert(builder.value(y, [n!, f, ...o]), y.dtype, variable.dtype);
      builder.statement(`${acc} = fma(${xv}, ${yv}, ${acc});`);
    });
  });
  return acc;
}

/** Average pooling's divisor for output position `o` (PyTorch's rule), as an expression of the variable's dtype. */
function divisor(builder: ExpressionBuilder, o: readonly string[], attrs: PoolAttrs, spatialIn: readonly number[], dtype: Variable['dtype']): string {
  const factors = spatialIn.map((length, axis) => {
    const start = builder.bind(`${o[axis]} * ${attrs.stride[axis]}i - ${attrs.padding[axis]![0]}i`, 'ws');
    const end = `min(${start} + ${attrs.size[axis]}i, ${length + attrs.padding[axis]![1]}i)`;
    return attrs.countIncludePad ? `(${end} - ${start})` : `(min(${end}, ${length}i) - max(${start}, 0i))`;
  });
  return convert(builder.bind(factors.join(' * '), 'div'), 'int32', dtype);
}

function poolEmit(builder: ExpressionBuilder, variable: Variable, index: readonly string[]): string {
  const [x] = variable.owner!.inputs as [Variable];
  const attrs = variable.owner!.attrs as PoolAttrs;
  const spatialIn = spatialOf(x);
  const acc = accumulator(builder, variable, attrs.mode === 'max' ? -Infinity : 0);
  loop(builder, product(attrs.size), (t) => {
    const taps = unflattenExpr(t, attrs.size).map((expr) => builder.bind(expr, 'k'));
    const { positions, inside } = tapPositions(index.slice(2), taps, attrs, spatialIn);
    when(builder, inside, () => {
      const at = positions.map((p) => builder.bind(p, 'p'));
      const v = convert(builder.value(x, [index[0]!, index[1]!, ...at]), x.dtype, variable.dtype);
      builder.statement(attrs.mode === 'max' ? `${acc} = th_max(${acc}, ${v});` : `${acc} = ${acc} + ${v};`);
    });
  });
  return attrs.mode === 'max' ? acc : `(${acc} / ${divisor(builder, index.slice(2), attrs, spatialIn, variable.dtype)})`;
}

function poolGradEmit(builder: ExpressionBuilder, variable: Variable, index: readonly string[]): string {
  // dx[i] = Σ over windows o holding i of g[o] / divisor(o) (avg), or of g[o] where i is o's first maximum (max).
  const [x, y] = variable.owner!.inputs as [Variable, Variable];
  const attrs = variable.owner!.attrs as PoolAttrs;
  const spatialIn = spatialOf(x);
  const spatialOut = spatialOf(y);
  const acc = accumulator(builder, variable, 0);
  // Windows holding i along an axis: o from ⌈(i + b − K + 1) / s⌉, at most ⌈K / s⌉ of them.
  const counts = attrs.size.map((size, axis) => Math.ceil(size / attrs.stride[axis]!));
  const first = spatialIn.map((_, axis) => {
    const shifted = `${index[axis + 2]} + ${attrs.padding[axis]![0] - attrs.size[axis]! + 1}i`;
    const s = attrs.stride[axis]!;
    // ⌈a / s⌉ for any sign of a, with WGSL's truncating division.
    return builder.bind(s === 1 ? shifted : `select((${shifted}) / ${s}i, (${shifted} + ${s - 1}i) / ${s}i, (${shifted}) > 0i)`, 'o0');
  });
  loop(builder, product(counts), (t) => {
    const o = unflattenExpr(t, counts).map((q, axis) => builder.bind(`${first[axis]} + ${q}`, 'o'));
    // The window must exist and hold i.
    const holds = o.map((oa, axis) => {
      const start = `${oa} * ${attrs.stride[axis]}i - ${attrs.padding[axis]![0]}i`;
      return `${oa} >= 0i && ${oa} < ${spatialOut[axis]}i && ${index[axis + 2]} >= ${start} && ${index[axis + 2]} < ${start} + ${attrs.size[axis]}i`;
    }).join(' && ');
    when(builder, holds, () => {
      const g = convert(builder.value(y, [index[0]!, index[1]!, ...o]), y.dtype, variable.dtype);
      if (attrs.mode === 'avg') {
        builder.statement(`${acc} = ${acc} + ${g} / ${divisor(builder, o, attrs, spatialIn, variable.dtype)};`);
        return;
      }
      // The window's first maximum (a NaN counts as the maximum), compared with i's own tap.
      const best = builder.fresh('best');
      const bestAt = builder.fresh('bestAt');
      builder.statement(`var ${best}: ${wgslType(variable.dtype)} = ${literal(0, variable.dtype)};`);
      builder.statement(`var ${bestAt}: i32 = -1i;`);
      loop(builder, product(attrs.size), (tap) => {
        const taps = unflattenExpr(tap, attrs.size).map((expr) => builder.bind(expr, 'k'));
        const { positions, inside } = tapPositions(o, taps, attrs, spatialIn);
        when(builder, inside, () => {
          const at = positions.map((p) => builder.bind(p, 'p'));
          const v = builder.bind(convert(builder.value(x, [index[0]!, index[1]!, ...at]), x.dtype, variable.dtype), 'v');
          builder.statement(`if (${bestAt} < 0i || (!th_isnan(${best}) && (${v} > ${best} || th_isnan(${v})))) { ${best} = ${v}; ${bestAt} = ${tap}; }`);
        });
      });
      const own = spatialIn.map((_, axis) => `(${index[axis + 2]} - (${o[axis]} * ${attrs.stride[axis]}i - ${attrs.padding[axis]![0]}i))`);
      let ownTap = own[0]!;
      for (let axis = 1; axis < own.length; axis++) ownTap = `(${ownTap}) * ${attrs.size[axis]}i + ${own[axis]}`;
      builder.statement(`if (${bestAt} == ${ownTap}) { ${acc} = ${acc} + ${g}; }`);
    });
  });
  return acc;
}

export const windowLowerings = {
  conv: { kernel: 'window', emit: convEmit },
  conv_transpose: { kernel: 'window', emit: convTransposeEmit },
  conv_weight_grad: { kernel: 'window', emit: convWeightGradEmit },
  pool: { kernel: 'window', emit: poolEmit },
  pool_grad: { kernel: 'window', emit: poolGradEmit },
} as const satisfies Record<string, { kernel: 'window'; emit: Emit }>;
