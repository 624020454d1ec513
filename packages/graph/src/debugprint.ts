// debugprint: a graph as text, in the spirit of Theano's debugprint. One line per
// variable, children indented under their node with ' |':
//
//   add [id A] float32[?,256] 'y'
//    |mul [id B] float32[?,256]
//    | |x [id C] float32[?,256]
//    | |shared{w} [id D] float32[256]
//    |exp [id E] float32[?,256]
//      |mul [id B]
//
// A line is the op with its key attributes (`sum{axes=[1], keepdims}`), the variable's
// [id], its type and its name in quotes. Leaves print as their name (symbolic inputs),
// `shared{name}`, or `constant{value}` when the constant is small. A variable met again
// prints its label and id only. Left out: Theano's destroy/view maps (nodes here are
// never in place) and profiling columns.

import { Constant, type Variable } from './graph.ts';
import { formatLocation } from './location.ts';
import type { NDArray } from './ndarray.ts';
import type { AdvancedItem, AttrsOf, ConvAttrs, OpAttributes, OpName, PoolAttrs, ReduceAttrs, ShapeSpec, SliceItem, WindowAttrs } from './ops.ts';

export interface DebugprintOptions {
  /** Print `[id A]` identities (default true). */
  ids?: boolean;
  /** Append where each node was created (default false). */
  locations?: boolean;
  /** Print this many levels below each output and elide the rest with '...' (default: all). */
  depth?: number;
}

const smallConstant = 8;

const list = (values: readonly (number | string)[]): string => `[${values.join(',')}]`;
const shapeText = (spec: ShapeSpec): string => list(spec.map((dim) => (dim === null ? '?' : dim)));

function sliceText(item: SliceItem): string {
  if (item.kind === 'index') return String(item.index);
  const step = item.step === 1 ? '' : `:${item.step}`;
  return `${item.start ?? ''}:${item.stop ?? ''}${step}`;
}

const advancedText = (item: AdvancedItem): string => (item === 'all' ? ':' : 'index');

function windowText({ stride, padding, dilation }: WindowAttrs): string {
  const parts: string[] = [];
  if (stride.some((s) => s !== 1)) parts.push(`stride=${list(stride)}`);
  if (padding.some(([before, after]) => before !== 0 || after !== 0)) parts.push(`padding=${list(padding.map((pair) => list(pair)))}`);
  if (dilation.some((d) => d !== 1)) parts.push(`dilation=${list(dilation)}`);
  return parts.join(', ');
}

function convText(attrs: ConvAttrs & { spatial?: ShapeSpec }): string {
  return [windowText(attrs), ...(attrs.groups !== 1 ? [`groups=${attrs.groups}`] : []), ...(attrs.spatial ? [`spatial=${shapeText(attrs.spatial)}`] : [])].filter((part) => part !== '').join(', ');
}

function poolText(attrs: PoolAttrs): string {
  return [attrs.mode, `size=${list(attrs.size)}`, windowText({ ...attrs, dilation: attrs.size.map(() => 1) }), ...(attrs.ceilMode ? ['ceil'] : []), ...(attrs.mode === 'avg' && !attrs.countIncludePad ? ['exclude padding'] : [])]
    .filter((part) => part !== '').join(', ');
}

function reduceText({ axes, keepdims }: ReduceAttrs): string {
  return [`axes=${list(axes)}`, ...(keepdims ? ['keepdims'] : [])].join(', ');
}

/** The text between the braces of each op with attributes; ops without attributes print their bare name. */
type AttrText = { readonly [K in keyof OpAttributes]: (attrs: AttrsOf<K>) => string };

const attrText: AttrText = {
  cast: ({ dtype }) => dtype,
  sum: reduceText, prod: reduceText, max: reduceText, min: reduceText, any: reduceText, all: reduceText,
  argmax: ({ axis, keepdims }) => [`axis=${axis ?? 'all'}`, ...(keepdims ? ['keepdims'] : [])].join(', '),
  argmin: ({ axis, keepdims }) => [`axis=${axis ?? 'all'}`, ...(keepdims ? ['keepdims'] : [])].join(', '),
  reshape: ({ shape }) => `shape=${shapeText(shape)}`,
  dimshuffle: ({ pattern }) => pattern.join(','),
  broadcast_to: ({ shape }) => `shape=${shapeText(shape)}`,
  subtensor: ({ items }) => items.map(sliceText).join(', '),
  concat: ({ axis }) => `axis=${axis}`,
  pad: ({ widths, mode, value }) => `widths=${list(widths.map((pair) => list(pair)))}, ${mode}${mode === 'constant' ? `=${formatNumber(value, 'float64')}` : ''}`,
  inc_subtensor: ({ items, mode }) => [...items.map(sliceText), mode].join(', '),
  advanced_subtensor: ({ items }) => items.map(advancedText).join(', '),
  advanced_inc_subtensor: ({ items, mode }) => [...items.map(advancedText), mode].join(', '),
  conv: convText, conv_transpose: convText, conv_weight_grad: convText,
  pool: poolText, pool_grad: poolText,
  scan: ({ body, output }) => `${(body as unknown as { name: string }).name}, output ${output}`,
  arange: ({ dtype }) => dtype,
  dim: ({ axis }) => String(axis),
  random: ({ distribution, draw, shape, dtype }) => `${distribution}, draw=${draw}, shape=${shapeText(shape)}, ${dtype}`,
};

/** The op and its key attributes, e.g. `sum{axes=[1], keepdims}`. */
export function opLabel<K extends OpName>(op: K, attrs: AttrsOf<K>): string {
  const format = (attrText as unknown as Partial<Record<OpName, (attrs: unknown) => string>>)[op];
  return format ? `${op}{${format(attrs)}}` : op;
}

/** Shortest decimal that reads back as the same value of the dtype. */
function formatNumber(value: number, dtype: string): string {
  if (dtype === 'bool') return value ? 'true' : 'false';
  if (dtype !== 'float32' || !Number.isFinite(value)) return String(value);
  for (let digits = 1; digits < 9; digits++) {
    const text = String(Number(value.toPrecision(digits)));
    if (Math.fround(Number(text)) === value) return text;
  }
  return String(value);
}

function valueText(value: NDArray): string {
  const nested = (axis: number, offset: number): string => {
    if (axis === value.ndim) return formatNumber(value.data[offset]!, value.dtype);
    const parts: string[] = [];
    for (let i = 0; i < value.shape[axis]!; i++) parts.push(nested(axis + 1, offset + i * value.strides[axis]!));
    return `[${parts.join(',')}]`;
  };
  return nested(0, 0);
}

function leafLabel(variable: Variable): string {
  if (variable instanceof Constant) return variable.value.size <= smallConstant ? `constant{${valueText(variable.value)}}` : 'constant';
  if (variable.kind === 'shared') return variable.name ? `shared{${variable.name}}` : 'shared';
  return variable.name ?? 'input';
}

/** Theano's ids: A, B, ..., Z, BA, BB, ... */
function idText(index: number): string {
  let text = '';
  do {
    text = String.fromCharCode(65 + (index % 26)) + text;
    index = Math.floor(index / 26);
  } while (index > 0);
  return text;
}

/** The outputs' graph as text, one line per variable (see the top of this file). */
export function debugprint(outputs: Variable | readonly Variable[], options: DebugprintOptions = {}): string {
  const { ids: showIds = true, locations = false, depth = Infinity } = options;
  const roots = Array.isArray(outputs) ? (outputs as readonly Variable[]) : [outputs as Variable];
  const ids = new Map<Variable, string>();
  const lines: string[] = [];
  // An explicit stack instead of recursion, so deep graphs print without overflowing.
  const stack: { variable: Variable; prefix: string; childPrefix: string; level: number }[] = [];
  for (const root of [...roots].reverse()) stack.push({ variable: root, prefix: '', childPrefix: '', level: 0 });
  while (stack.length > 0) {
    const { variable, prefix, childPrefix, level } = stack.pop()!;
    const label = variable.owner ? opLabel(variable.owner.op, variable.owner.attrs) : leafLabel(variable);
    const seen = ids.has(variable);
    if (!seen) ids.set(variable, idText(ids.size));
    const id = showIds ? ` [id ${ids.get(variable)}]` : '';
    if (seen) {
      lines.push(`${prefix}${label}${id}`);
      continue;
    }
    // Inputs print their name as their label; other variables add it in quotes.
    const named = variable.name && (variable.owner || variable instanceof Constant);
    const name = named ? ` '${variable.name}'` : '';
    const where = locations ? ` at ${formatLocation(variable.owner?.location ?? variable.location)}` : '';
    lines.push(`${prefix}${label}${id} ${variable.type}${name}${where}`);
    const inputs = variable.owner?.inputs ?? [];
    if (inputs.length > 0 && level >= depth) {
      lines.push(`${childPrefix} |...`);
      continue;
    }
    for (let i = inputs.length - 1; i >= 0; i--) {
      const last = i === inputs.length - 1;
      stack.push({ variable: inputs[i]!, prefix: `${childPrefix} |`, childPrefix: `${childPrefix}${last ? '  ' : ' |'}`, level: level + 1 });
    }
  }
  return lines.join('\n');
}
