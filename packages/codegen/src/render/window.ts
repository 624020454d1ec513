// The kernel of a sliding-window op computed directly: a thread per element of the op's
// output runs the op's loop (render/window-lowering.ts) with its inputs' fused
// expressions inside, then the epilogue the kernel absorbed (a bias, an activation) at
// the same element, storing the op's own value too where other kernels read it.

import type { Variable } from '@theorbo/graph';
import type { Kernel } from '../lower/kernel.ts';
import { grid, passOf, size, type RenderedPass } from './assemble.ts';
import { KernelBuilder, unflatten } from './builder.ts';
import { windowLowerings } from './window-lowering.ts';
import { toStorage } from './wgsl.ts';

export function renderWindow(kernel: Kernel, materialized: ReadonlySet<Variable>, label: string): RenderedPass {
  const root = kernel.root;
  const out = kernel.output;
  const builder = new KernelBuilder(materialized, out, kernel.writesInto);
  const threads = 64;
  const total = size(root);
  const dispatch = grid(Math.ceil(total / threads));
  builder.lines.push(`let o = i32(gid.x + gid.y * ${dispatch[0] * threads}u);`, `if (o >= ${total}i) { return; }`);
  const emit = windowLowerings[root.owner!.op as keyof typeof windowLowerings].emit;
  const value = builder.bind(emit(builder, root, unflatten(builder, 'o', root.shape as number[])), 'result');
  builder.overrides.set(root, value);
  if (kernel.alsoStoresRoot) builder.lines.push(`${builder.binding(root, 'read_write').name}[o] = ${toStorage(value, root.dtype)};`);
  const result = root === out ? value : builder.value(out, unflatten(builder, 'o', out.shape as number[], 'e'));
  builder.lines.push(`${builder.binding(out, 'read_write').name}[o] = ${toStorage(result, out.dtype)};`);
  return passOf(builder, label, dispatch, `${threads}`);
}
