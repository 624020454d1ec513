// The GPU matmul: C = A·B (numpy matmul: 1-D operands promoted, batch axes broadcast),
// tiled in workgroup memory with register blocking. A 16×16 workgroup computes a
// (16·TM)×(16·TN) tile of C, each thread a TM×TN block held in vec4 registers; A and B
// tiles of depth BK are staged in workgroup memory (A transposed, so a thread reads its
// TM rows as vec4s). Operands are read through the builder, so a transposed or sliced
// view is index arithmetic, not a copy; edges are masked, so any size works. The
// epilogue runs per element at the store (matmul-product.ts).
// Three shapes: 128×128 tiles (TM = TN = 8, BK = 8), 64×64 (4×4 per thread, BK = 16)
// and 32×32 (2×2, BK = 32): the largest that still gives the device enough workgroups
// (a 256×256 product in 128×128 tiles would keep 4 of a GPU's ~100 cores busy).

import * as T from '@theorbo/graph';
import type { Variable } from '@theorbo/graph';
import type { Kernel } from '../lower/kernel.ts';
import type { Tuning } from '../tuning.ts';
import { KernelBuilder, unflatten } from './builder.ts';
import { operandIndexer, operandValue, storeBlock, type MatmulKernel, type Product } from './matmul-product.ts';
import { convert, literal, wgslType } from './wgsl.ts';

const indent = (lines: readonly string[], depth: number): string => lines.map((line) => '  '.repeat(depth) + line).join('\n');

interface Tiling { TM: number; TN: number; BK: number }

/** Largest first; each thread's block is held in vectors of min(4, TM) lanes. */
// Smaller tiles run where there are few workgroups, each waiting on memory once per step
// of BK: they take deeper steps (each thread loads BM·BK/256 values of A and of B at once).
// Depths measured on an H200 (BENCHMARKS.md): 128×128 tiles fastest at BK 8 (36 TFLOP/s
// at 4096³; 30 at BK 16), 64×64 at 16 (1024³: 92 µs; 110 at BK 28), 32×32 at 32 (the
// talk's training step 104 µs; 116 at BK 56). All stay within WebGPU's default 16 KiB
// of workgroup memory, tileA's padding included.
const tilings: readonly Tiling[] = [{ TM: 8, TN: 8, BK: 8 }, { TM: 4, TN: 4, BK: 16 }, { TM: 2, TN: 2, BK: 32 }];
/**
 * The tiling for an M×N product repeated `batch` times: the largest that gives the device
 * tuning.workgroupTarget workgroups (or the smallest that fits). tuning.matmulTile forces
 * one (the tests run each; benchmarks compare them).
 */
export function chooseTiling(M: number, N: number, batch: number, tuning: Pick<Tuning, 'workgroupTarget' | 'matmulTile'>): Tiling {
  const { workgroupTarget, matmulTile } = tuning;
  if (matmulTile !== 'auto') return tilings.find(({ TM }) => 16 * TM === matmulTile)!;
  const groups = ({ TM, TN }: Tiling) => batch * Math.ceil(M / (16 * TM)) * Math.ceil(N / (16 * TN));
  // A tile at least twice a dimension computes mostly padding: a smaller one covers as much.
  // On the CPU device (target 1) 64×64 tiles run fastest (llvmpipe, 2 cores: the talk's
  // training step 44 ms against 60 ms with 128×128 tiles, 1024³ 278 ms against 365 ms).
  const candidates = workgroupTarget <= 1 ? tilings.slice(1) : tilings;
  const fitting = candidates.filter(({ TM, TN }) => 8 * TM < M && 8 * TN < N);
  const smallest = tilings[tilings.length - 1]!;
  return fitting.find((tiling) => groups(tiling) >= workgroupTarget) ?? fitting[fitting.length - 1] ?? smallest;
}

/** Workgroups the chosen tiling dispatches for an M×N product repeated `batch` times. */
export function matmulWorkgroups(M: number, N: number, batch: number, tuning: Pick<Tuning, 'workgroupTarget' | 'matmulTile'>): number {
  const { TM, TN } = chooseTiling(M, N, batch, tuning);
  return batch * Math.ceil(M / (16 * TM)) * Math.ceil(N / (16 * TN));
}

export function renderTiles(kernel: Kernel, product: Product, materialized: ReadonlySet<Variable>, tuning: Tuning): MatmulKernel {
  const { node, a, b, M, K, N, batchShape, batch } = product;
  const { TM, TN, BK: chosenBK } = chooseTiling(M, N, batch, tuning);
  // tuning.matmulDepth overrides the step depth (benchmarks compare; 16·TM·BK must be a multiple of 256).
  const BK = tuning.matmulDepth === 'auto' ? chosenBK : tuning.matmulDepth;
  if ((16 * TM * BK) % 256 !== 0) throw new Error(`tuning.matmulDepth ${BK}: ${16 * TM}×${BK} tiles do not split over 256 threads`);
  const BM = 16 * TM;
  const BN = 16 * TN;
  const W = Math.min(4, TM);
  const t = wgslType(node.dtype);
  const v4 = `vec${W}<${t}>`;
  const zero = literal(0, node.dtype);
  const builder = new KernelBuilder(materialized, kernel.output, kernel.writesInto);
  const lines = builder.lines;
  lines.push('let batch = i32(wid.z);');
  const batchIndex = unflatten(builder, 'batch', batchShape, 'b');
  const operandIndex = operandIndexer(product, batchIndex);
  lines.push(`let row0 = i32(wid.y) * ${BM}i;`, `let col0 = i32(wid.x) * ${BN}i;`, 'let e0 = i32(lid.y * 16u + lid.x);');
  lines.push(`var acc: array<${v4}, ${(TM * TN) / W}>;`);
  lines.push(`for (var z = 0; z < ${(TM * TN) / W}; z++) { acc[z] = ${v4}(${zero}); }`);
  // Stage the tiles: A as [BK][BM] (transposed), B as [BK][BN], both in vectors. Each
  // thread fetches its share of the next step's values into registers (ra, rb) while the
  // current step computes, so that a workgroup waits on memory less than once a step.
  // tileA rows (one per k) are padded by one vector: the threads storing a step's values
  // hold consecutive k, and unpadded rows would put all their stores in one memory bank.
  const strideA = BM / W + 1;
  const LA = (BM * BK) / 256;
  const LB = (BN * BK) / 256;
  // Edges are masked (indices clamped, values zeroed) only where a size is not a multiple of its tile.
  const masked = (index: string, size: number, tile: number): [string, string | undefined] =>
    size % tile === 0 ? [index, undefined] : [`min(${index}, ${size - 1}i)`, `${index} < ${size}i`];
  const fetchInto = (register: string, isA: boolean, [row, rowMask]: [string, string | undefined], [col, colMask]: [string, string | undefined]) => {
    const value = operandValue(product, builder, batchIndex, isA ? 0 : 1, row, col);
    const mask = [rowMask, colMask].filter((m) => m !== undefined).join(' && ');
    builder.lines.push(`${register}[l] = ${mask ? `select(${zero}, ${value}, ${mask})` : value};`);
  };
  // Operands that are plain float32 buffers, read nowhere else in the kernel, with every
  // size a multiple of its tile, can be fetched four values at a time (vec4 loads: a row
  // of A along k, a row of B along n). Opt-in (tuning.matmulVec4Loads) until a GPU measures it.
  const quadsA = (BM * BK) / 1024;
  const quadsB = (BN * BK) / 1024;
  // (Not where the other operand reads the same buffer, itself or through a view: x·xᵀ.)
  const vectorizable = (operand: Variable, other: Variable, rows: number, tile: number, quads: number, width: number) =>
    tuning.matmulVec4Loads && !product.read && !T.topologicalOrder([other]).includes(operand) && materialized.has(operand) && operand !== kernel.output && operand !== kernel.writesInto &&
    operand.dtype === 'float32' && node.dtype === 'float32' && operand.ndim >= 2 && !product.epilogue.includes(operand) &&
    Number.isInteger(quads) && quads >= 1 && rows % tile === 0 && K % BK === 0 && width % 4 === 0;
  const vecA = vectorizable(a, b, M, BM, quadsA, K);
  const vecB = vectorizable(b, a, N, BN, quadsB, N);
  const vectorFetch = (operand: Variable, register: string, quadsPerRow: number, isA: boolean) => builder.scoped(() => {
    builder.lines.push('let q = e0 + l * 256i;', `let r = q / ${quadsPerRow}i;`, `let c = (q % ${quadsPerRow}i) * 4i;`);
    const index = isA ? operandIndex(operand, 'row0 + r', 'kb + c', true) : operandIndex(operand, 'kb + r', 'col0 + c', false);
    const binding = builder.vectorBinding(operand);
    builder.lines.push(`${register}[l] = ${binding.name}[(${builder.offset(index, operand.shape as number[])}) / 4i];`);
  });
  // One fetch body per operand (run once per register, l its index), and its register count.
  const fetchA = vecA ? vectorFetch(a, 'ra4', BK / 4, true) : builder.scoped(() => {
    builder.lines.push('let e = e0 + l * 256i;', `let r = e / ${BK}i;`, `let c = e % ${BK}i;`, 'let gr = row0 + r;', 'let gc = kb + c;');
    fetchInto('ra', true, masked('gr', M, BM), masked('gc', K, BK));
  });
  const fetchB = vecB ? vectorFetch(b, 'rb4', BN / 4, false) : builder.scoped(() => {
    builder.lines.push('let e = e0 + l * 256i;', `let r = e / ${BN}i;`, `let c = e % ${BN}i;`, 'let gr = kb + r;', 'let gc = col0 + c;');
    fetchInto('rb', false, masked('gr', K, BK), masked('gc', N, BN));
  });
  const countA = vecA ? quadsA : LA;
  const countB = vecB ? quadsB : LB;
  // Unrolled: one block per register, l a constant in each.
  const block = (head: string, body: readonly string[], depth: number) => indent([head, ...body.join('\n').split('\n').map((line) => `  ${line}`), '}'], depth);
  const fetch = (kb: string, depth: number): string[] => [
    ...Array.from({ length: countA }, (_, l) => block(`{ let l = ${l}i; let kb = ${kb};`, fetchA, depth)),
    ...Array.from({ length: countB }, (_, l) => block(`{ let l = ${l}i; let kb = ${kb};`, fetchB, depth)),
  ];
  lines.push(vecA ? `var ra4: array<vec4<f32>, ${quadsA}>;` : `var ra: array<${t}, ${LA}>;`, vecB ? `var rb4: array<vec4<f32>, ${quadsB}>;` : `var rb: array<${t}, ${LB}>;`, ...fetch('0i', 0));
  lines.push(`for (var k0 = 0i; k0 < ${K}i; k0 = k0 + ${BK}i) {`);
  if (vecA) {
    for (let l = 0; l < quadsA; l++) {
      const stores = [0, 1, 2, 3].map((j) => `tileA[(c + ${j}i) * ${strideA}i + r / ${W}i][r % ${W}i] = ra4[${l}][${j}];`).join(' ');
      lines.push(`  { let q = e0 + ${l * 256}i; let r = q / ${BK / 4}i; let c = (q % ${BK / 4}i) * 4i; ${stores} }`);
    }
  } else {
    for (let l = 0; l < LA; l++) {
      lines.push(`  { let e = e0 + ${l * 256}i; let r = e / ${BK}i; let c = e % ${BK}i; tileA[c * ${strideA}i + r / ${W}i][r % ${W}i] = ra[${l}]; }`);
    }
  }
  if (vecB) {
    for (let l = 0; l < quadsB; l++) {
      const stores = W === 4 ? `tileB[r * ${BN / 4}i + c / 4i] = rb4[${l}];` : `tileB[r * ${BN / 2}i + c / 2i] = rb4[${l}].xy; tileB[r * ${BN / 2}i + c / 2i + 1i] = rb4[${l}].zw;`;
      lines.push(`  { let q = e0 + ${l * 256}i; let r = q / ${BN / 4}i; let c = (q % ${BN / 4}i) * 4i; ${stores} }`);
    }
  } else {
    for (let l = 0; l < LB; l++) {
      lines.push(`  { let e = e0 + ${l * 256}i; let r = e / ${BN}i; let c = e % ${BN}i; tileB[r * ${BN / W}i + c / ${W}i][c % ${W}i] = rb[${l}]; }`);
    }
  }
  lines.push('  workgroupBarrier();');
  lines.push(`  if (k0 + ${BK}i < ${K}i) {`, ...fetch(`k0 + ${BK}i`, 2), '  }');
  lines.push(`  for (var kk = 0i; kk < ${BK}i; kk++) {`);
  // Unrolled register block: TM/4 vec4 of A rows, TN/4 vec4 of B columns.
  for (let q = 0; q < TM / W; q++) lines.push(`    let a${q} = tileA[kk * ${strideA}i + i32(lid.y) * ${TM / W}i + ${q}i];`);
  for (let q = 0; q < TN / W; q++) lines.push(`    let b${q} = tileB[kk * ${BN / W}i + i32(lid.x) * ${TN / W}i + ${q}i];`);
  for (let i = 0; i < TM; i++) {
    const ai = `a${Math.floor(i / W)}[${i % W}]`;
    for (let q = 0; q < TN / W; q++) {
      const slot = `acc[${i * (TN / W) + q}]`;
      lines.push(t === 'f32' ? `    ${slot} = fma(${v4}(${ai}), b${q}, ${slot});` : `    ${slot} = ${slot} + ${v4}(${ai}) * b${q};`);
    }
  }
  lines.push('  }', '  workgroupBarrier();', '}');
  // Store through the epilogue, element by element.
  lines.push(...storeBlock(builder, kernel, product, batchIndex, { gr0: `row0 + i32(lid.y) * ${TM}i`, gc0: `col0 + i32(lid.x) * ${TN}i`, TM, TN, productAt: `acc[i * ${TN / W}i + j / ${W}i][j % ${W}i]` }));
  const extra = `var<workgroup> tileA: array<${v4}, ${BK * strideA}>;\nvar<workgroup> tileB: array<${v4}, ${(BK * BN) / W}>;\n`;
  if (batch > 65535) throw new Error(`codegen: matmul with ${batch} batches exceeds 65535`);
  return { code: extra, builder, dispatch: [Math.ceil(N / BN), Math.ceil(M / BM), batch], workgroup: '16, 16' };
}
