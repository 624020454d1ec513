// The elementwise kernel: a grid-stride loop over the output's elements, each computed
// through the builder from the fused expression (broadcasts, views and gathers are index
// arithmetic). Where every read allows, a thread loads, computes and stores four
// consecutive float32 elements at once (vec4s); anything that moves elements along the
// last axis keeps the scalar loop.

import type { Variable } from '@theorbo/graph';
import type { Kernel } from '../lower/kernel.ts';
import type { Tuning } from '../tuning.ts';
import { indent, maxGroups, passOf, size, type RenderedPass, type RenderOptions } from './assemble.ts';
import { KernelBuilder, unflatten } from './builder.ts';
import { vectorReadsOf, withScalarFallback, withVectorLanes } from './vectors.ts';
import { toStorage } from './wgsl.ts';

/**
 * Workgroups of a grid-stride loop over `items`: at most tuning.elementwiseGroups (4096 by
 * default, about 8 per core of a large GPU), each thread taking every stride-th element
 * (a GPU launches workgroups at a bounded rate; tiny ones cost more to start than to run).
 */
function elementwiseGroupCount(items: number, threads: number, tuning: Tuning): number {
  const cap = Math.min(maxGroups, tuning.elementwiseGroups);
  return Math.max(1, Math.min(Math.ceil(items / threads), cap));
}

export function renderElementwise(kernel: Kernel, materialized: ReadonlySet<Variable>, label: string, { tuning }: RenderOptions): RenderedPass {
  return withScalarFallback((vectorize) => {
    const vectors = vectorize ? vectorReads(kernel, materialized) : undefined;
    return vectors ? renderElementwiseVec4(kernel, materialized, label, vectors, tuning) : renderElementwiseScalar(kernel, materialized, label, tuning);
  });
}

function renderElementwiseScalar(kernel: Kernel, materialized: ReadonlySet<Variable>, label: string, tuning: Tuning): RenderedPass {
  const out = kernel.output;
  const builder = new KernelBuilder(materialized, out, kernel.writesInto);
  const total = size(out);
  const threads = 256;
  const groups = elementwiseGroupCount(total, threads, tuning);
  const stride = groups * threads;
  const body = builder.scoped(() => {
    const index = unflatten(builder, 'flat', out.shape as number[]);
    const value = builder.value(out, index);
    const target = builder.binding(out, 'read_write');
    builder.lines.push(`${target.name}[flat] = ${toStorage(value, out.dtype)};`);
  });
  builder.lines.push(`for (var flat = i32(gid.x); flat < ${total}i; flat = flat + ${stride}i) {`, indent(body), '}');
  return passOf(builder, label, [groups, 1, 1], `${threads}`);
}

/**
 * The buffers an elementwise kernel can read four elements at a time, or undefined when
 * it cannot run on vec4s: a float32 output whose last axis is a multiple of 4, computed
 * by pointwise ops (broadcasting included) from buffers whose last axis is either the
 * output's (read as vec4s) or 1 (one value for the four). Anything that moves elements
 * (slices, transposes, gathers, concatenation) keeps the scalar kernel.
 */
function vectorReads(kernel: Kernel, materialized: ReadonlySet<Variable>): Set<Variable> | undefined {
  const out = kernel.output;
  const width = out.ndim === 0 ? 1 : (out.shape[out.ndim - 1] as number);
  if (out.dtype !== 'float32' || kernel.writesInto || width % 4 !== 0 || size(out) < 4) return undefined;
  return vectorReadsOf([out], width, materialized, kernel);
}

/** The elementwise kernel on vec4s: each thread loads, computes and stores four consecutive elements. */
function renderElementwiseVec4(kernel: Kernel, materialized: ReadonlySet<Variable>, label: string, vectors: ReadonlySet<Variable>, tuning: Tuning): RenderedPass {
  const out = kernel.output;
  const builder = new KernelBuilder(materialized, out);
  const quads = size(out) / 4;
  const threads = 256;
  const groups = elementwiseGroupCount(quads, threads, tuning);
  const shape = out.shape as number[];
  const body = builder.scoped(() => {
    builder.lines.push('let flat = quad * 4i;');
    const index = unflatten(builder, 'flat', shape);
    // Each vector buffer once: its four values for this thread's four elements.
    const lanes: string[] = [];
    withVectorLanes(builder, vectors, index, (laneIndex) => lanes.push(builder.value(out, laneIndex)));
    const target = builder.vectorBinding(out, 'read_write');
    builder.lines.push(`${target.name}[quad] = vec4<f32>(${lanes.join(', ')});`);
  });
  builder.lines.push(`for (var quad = i32(gid.x); quad < ${quads}i; quad = quad + ${groups * threads}i) {`, indent(body), '}');
  return passOf(builder, label, [groups, 1, 1], `${threads}`);
}
