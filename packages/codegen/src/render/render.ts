// Kernel renderers, one per kind of partition kernel, each in its own module and all
// built on the same KernelBuilder, so a fused prologue or epilogue is the same code
// everywhere:
//  - elementwise: a grid-stride loop over the output's elements (elementwise.ts);
//  - rows: reductions over the last axis and the elementwise output that reads them (rows.ts);
//  - reduce: one thread per output, or a workgroup tree per output (reduce.ts);
//  - matmul: tiles in workgroup memory on a GPU (matmul-tiles.ts), thread blocks on the
//    CPU device (matmul-blocks.ts), epilogue fused;
//  - scatter: copies x, then adds y at the gathered positions with atomics (scatter.ts);
//  - window: convolutions and pooling, a thread per output running the op's loop (window.ts).

import type { Variable } from '@theorbo/graph';
import type { Kernel } from '../lower/kernel.ts';
import { cpuShaped, type Tuning } from '../tuning.ts';
import { convProduct } from './conv-product.ts';
import { matmulProduct, type Product } from './matmul-product.ts';
import { passOf, type RenderedPass, type RenderOptions } from './assemble.ts';
import { renderingWith } from './builder.ts';
import { renderElementwise } from './elementwise.ts';
import { renderThreadBlocks } from './matmul-blocks.ts';
import { renderTiles } from './matmul-tiles.ts';
import { renderReduce } from './reduce.ts';
import { renderRows } from './rows.ts';
import { renderScatter } from './scatter.ts';
import { renderWindow } from './window.ts';

export type { RenderedPass, RenderOptions } from './assemble.ts';

/** The passes of one kernel, in the order they run. */
export function renderKernel(kernel: Kernel, materialized: ReadonlySet<Variable>, label: string, options: RenderOptions): RenderedPass[] {
  return renderingWith(options.checkIndices ?? true, () => renderOne(kernel, materialized, label, options));
}

function renderOne(kernel: Kernel, materialized: ReadonlySet<Variable>, label: string, options: RenderOptions): RenderedPass[] {
  switch (kernel.kind) {
    case 'elementwise': return [renderElementwise(kernel, materialized, label, options)];
    case 'rows': return [renderRows(kernel, materialized, label, options)];
    case 'reduce': return [renderReduce(kernel, materialized, label, options)];
    case 'matmul': {
      const { tuning } = options;
      return [renderProduct(kernel, matmulProduct(kernel), materialized, label, tuning)];
    }
    case 'scatter': return renderScatter(kernel, materialized, label);
    case 'scan': throw new Error('codegen: a scan kernel is recorded by runtime/loop.ts, not rendered');
    case 'window': {
      // Convolutions are implicit matrix products, through the matmul kernels (unless the
      // tuning asks for the direct kernel); pools loop.
      const product = options.tuning.convolutions === 'gemm' ? convProduct(kernel) : undefined;
      return [product ? renderProduct(kernel, product, materialized, label, options.tuning) : renderWindow(kernel, materialized, label)];
    }
  }
}

/** A product through the matmul kernels: CPU-shaped plans take thread blocks unless a tiling is asked for. */
function renderProduct(kernel: Kernel, product: Product, materialized: ReadonlySet<Variable>, label: string, tuning: Tuning): RenderedPass {
  const blocks = cpuShaped(tuning) && tuning.cpuMatmul === 'blocks' && tuning.matmulTile === 'auto';
  const { code: extra, builder, dispatch, workgroup } = blocks ? renderThreadBlocks(kernel, product, materialized) : renderTiles(kernel, product, materialized, tuning);
  return passOf(builder, label, dispatch, workgroup, extra);
}
