// What every kernel renderer shares: the rendered pass (WGSL, bindings, dispatch), the
// options a renderer gets (the device's subgroups, the tuning), and the assembly of a
// kernel's text from the builder's bindings, the helpers its body uses, and the entry
// point with every builtin a renderer may read. Dispatches over 65535 workgroups use a
// 2-D grid.

import type { Variable } from '@theorbo/graph';
import { cpuShaped, type Tuning } from '../tuning.ts';
import type { Binding, IndexCheck, KernelBuilder } from './builder.ts';
import { helpersFor } from './wgsl.ts';

/** One compute pass of a kernel: most kernels are one; a scatter is two (copy, then add). */
export interface RenderedPass {
  code: string;
  bindings: Binding[];
  dispatch: [number, number, number];
  /** A label for errors and profiles: the kernel's ops. */
  label: string;
  /** The index checks it makes, by site (its slice of the plan's index-error buffer). */
  checks: readonly IndexCheck[];
}

/** What a renderer may use: the device's subgroups (when the tuning allows them) and the tuning. */
export interface RenderOptions {
  subgroups: boolean;
  tuning: Tuning;
  /** Gathers flag out-of-range indices (compile's checkIndices, default true). */
  checkIndices?: boolean;
}

export const maxGroups = 65535;

/**
 * Whether reductions and rows take a thread per output (CPU-shaped plans: llvmpipe runs a
 * workgroup's threads as SIMD lanes, and every barrier costs) rather than a workgroup.
 */
export const threadPerOutput = (tuning: Tuning): boolean => cpuShaped(tuning) && tuning.cpuReductions === 'threads';

export function grid(groups: number): [number, number, number] {
  if (groups <= maxGroups) return [Math.max(groups, 1), 1, 1];
  return [maxGroups, Math.ceil(groups / maxGroups), 1];
}

export const size = (variable: Variable): number => (variable.shape as number[]).reduce((a, b) => a * b, 1);

export const indent = (lines: readonly string[], depth = 1): string => lines.map((line) => '  '.repeat(depth) + line).join('\n');

export function assemble(builder: KernelBuilder, body: string, workgroup: string, extra = '', subgroups = false): string {
  const lanes = subgroups ? ', @builtin(subgroup_invocation_id) lane: u32, @builtin(subgroup_size) lanes: u32' : '';
  const text = `${extra}\n@compute @workgroup_size(${workgroup})\nfn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>${lanes}) {\n${body}\n}`;
  return `${subgroups ? 'enable subgroups;\n' : ''}${builder.declarations()}\n${helpersFor(text)}\n${text}\n`;
}

/** The pass of a builder whose body is its lines, in one scope. */
export function passOf(builder: KernelBuilder, label: string, dispatch: [number, number, number], workgroup: string, extra = '', subgroups = false): RenderedPass {
  return { code: assemble(builder, indent(builder.lines), workgroup, extra, subgroups), bindings: builder.bindings, dispatch, label, checks: builder.checks };
}
