// The matmul kernel: C = A·B (numpy matmul: 1-D operands promoted, batch axes
// broadcast), tiled in workgroup memory with register blocking. A 16×16 workgroup
// computes a (16·TM)×(16·TN) tile of C, each thread a TM×TN block held in vec4
// registers; A and B tiles of depth BK are staged in workgroup memory (A transposed,
// so a thread reads its TM rows as vec4s). Operands are read through the builder, so a
// transposed or sliced view is index arithmetic, not a copy; edges are masked, so any
// size works. The epilogue (bias, activation, an optimizer's update) runs per element
// at the store, and the product itself is stored too when other kernels read it.
// Three shapes: 128×128 tiles (TM = TN = 8, BK = 8), 64×64 (4×4 per thread, BK = 16)
// and 32×32 (2×2, BK = 32): the largest that still gives the device enough workgroups
// (a 256×256 product in 128×128 tiles would keep 4 of a GPU's ~100 cores busy).
// The CPU device runs another kernel (renderThreadBlocks, below): a thread per 8×8 block
// of C, no workgroup memory, vec4 reads where the operands' layouts allow.

import * as T from '@theorbo/graph';
import type { Variable } from '@theorbo/graph';
import type { Kernel } from '../lower/partition.ts';
import { KernelBuilder, unflatten } from './builder.ts';
import { broadcastIndex } from './lowering.ts';
import { convert, literal, toStorage, wgslType } from './wgsl.ts';
import { storageOf, vectorReadsOf, withScalarFallback, withVectorLanes } from './vectors.ts';

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
 * `workgroupTarget` workgroups (or the smallest that fits). THEORBO_MATMUL_TILE=128|64|32
 * forces one (the tests run each; benchmarks compare them).
 */
export function chooseTiling(M: number, N: number, batch: number, workgroupTarget: number): Tiling {
  const forced = process.env.THEORBO_MATMUL_TILE;
  if (forced) {
    const tiling = tilings.find(({ TM }) => String(16 * TM) === forced);
    if (!tiling) throw new Error(`THEORBO_MATMUL_TILE=${forced}: use ${tilings.map(({ TM }) => 16 * TM).join(', ')}`);
    return tiling;
  }
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
export function matmulWorkgroups(M: number, N: number, batch: number, workgroupTarget: number): number {
  const { TM, TN } = chooseTiling(M, N, batch, workgroupTarget);
  return batch * Math.ceil(M / (16 * TM)) * Math.ceil(N / (16 * TN));
}

export interface MatmulKernel {
  code: string;
  builder: KernelBuilder;
  dispatch: [number, number, number];
  /** The workgroup size, as @workgroup_size takes it. */
  workgroup: string;
}

const indent = (lines: readonly string[], depth: number): string => lines.map((line) => '  '.repeat(depth) + line).join('\n');

/** The product a kernel computes: its operands, sizes and batch axes. */
interface Product {
  node: Variable;
  a: Variable;
  b: Variable;
  out: number[];
  M: number;
  K: number;
  N: number;
  batchShape: number[];
  batch: number;
  /** What the epilogue computes from the product, up to the kernel's output (the variables its store reads). */
  epilogue: Variable[];
}

function productOf(kernel: Kernel): Product {
  const node = kernel.root;
  const [a, b] = node.owner!.inputs as [Variable, Variable];
  const out = node.shape as number[];
  const aShape = a.shape as number[];
  const bShape = b.shape as number[];
  const batchShape = out.slice(0, Math.max(0, out.length - (a.ndim === 1 ? 0 : 1) - (b.ndim === 1 ? 0 : 1)));
  return {
    node, a, b, out, batchShape,
    M: a.ndim === 1 ? 1 : aShape[aShape.length - 2]!,
    K: aShape[aShape.length - 1]!,
    N: b.ndim === 1 ? 1 : bShape[bShape.length - 1]!,
    batch: batchShape.reduce((x, y) => x * y, 1),
    epilogue: T.topologicalOrder([kernel.output], (variable) => variable === node),
  };
}

/** An operand's index at (row, col) of its matrix, its batch axes broadcast from the product's. */
function operandIndexer(product: Product, batchIndex: readonly string[]) {
  return (operand: Variable, row: string, col: string, isA: boolean): string[] => {
    const own = operand.ndim <= 2 ? [] : broadcastIndex(batchIndex, operand.shape.slice(0, -2), product.batchShape.length);
    if (operand.ndim === 1) return [isA ? col : row];
    return [...own, row, col];
  };
}

/**
 * The store of a TM×TN block at rows gr0 + i and columns gc0 + j, through the epilogue
 * element by element (`productAt` the product's value at i, j), with the product itself
 * stored too when other kernels read it.
 */
function storeBlock(builder: KernelBuilder, kernel: Kernel, product: Product, batchIndex: readonly string[], at: { gr0: string; gc0: string; TM: number; TN: number; productAt: string }): string[] {
  const store = builder.scoped(() => builder.lines.push(...storeElement(builder, kernel, product, batchIndex, at.gr0, at.gc0, at.productAt)));
  return [`for (var i = 0i; i < ${at.TM}i; i++) {`, `  for (var j = 0i; j < ${at.TN}i; j++) {`, indent(store, 2), '  }', '}'];
}

/** The store of one element (at row gr0 + i, column gc0 + j) through the epilogue. */
function storeElement(builder: KernelBuilder, kernel: Kernel, product: Product, batchIndex: readonly string[], gr0: string, gc0: string, productAt: string): string[] {
  const { node, a, b, out, M, N } = product;
  return builder.scoped(() => {
    builder.lines.push(`let gr = ${gr0} + i;`, `let gc = ${gc0} + j;`);
    builder.lines.push(`if (gr < ${M}i && gc < ${N}i) {`);
    const inner = builder.scoped(() => {
      const rootIndex = [...batchIndex, ...(a.ndim === 1 ? [] : ['gr']), ...(b.ndim === 1 ? [] : ['gc'])];
      const flat = builder.bind(builder.offset(rootIndex, out), 'flat');
      const value = builder.bind(productAt, 'product');
      builder.overrides.set(node, value);
      if (kernel.alsoStoresRoot) builder.lines.push(`${builder.binding(node, 'read_write').name}[${flat}] = ${toStorage(value, node.dtype)};`);
      // The epilogue has the root's flat layout (partition.ts checks), maybe another shape.
      const outShape = kernel.output.shape as number[];
      const sameShape = outShape.length === out.length && outShape.every((dim, k) => dim === out[k]);
      const outIndex = sameShape ? rootIndex : unflatten(builder, flat, outShape, 'e');
      const result = builder.value(kernel.output, outIndex);
      builder.overrides.delete(node);
      builder.lines.push(`${builder.binding(kernel.output, 'read_write').name}[${flat}] = ${toStorage(result, kernel.output.dtype)};`);
    });
    builder.lines.push(indent(inner, 1), '}');
  });
}

export function renderMatmulKernel(kernel: Kernel, materialized: ReadonlySet<Variable>, workgroupTarget: number): MatmulKernel {
  // The CPU device takes thread blocks, unless a tiling is asked for (THEORBO_MATMUL_TILE,
  // or THEORBO_MATMUL_CPU=tiles for the one chooseTiling picks).
  const tiles = process.env.THEORBO_MATMUL_CPU === 'tiles' || process.env.THEORBO_MATMUL_TILE !== undefined;
  if (workgroupTarget <= 1 && !tiles) return withScalarFallback((vectorize) => renderThreadBlocks(kernel, materialized, vectorize));
  const product = productOf(kernel);
  const { node, a, b, M, K, N, batchShape, batch } = product;
  const { TM, TN, BK: chosenBK } = chooseTiling(M, N, batch, workgroupTarget);
  // THEORBO_MATMUL_BK overrides the step depth (benchmarks compare; 16·TM·BK must be a multiple of 256).
  const BK = Number(process.env.THEORBO_MATMUL_BK) || chosenBK;
  if ((16 * TM * BK) % 256 !== 0) throw new Error(`THEORBO_MATMUL_BK=${BK}: ${16 * TM}×${BK} tiles do not split over 256 threads`);
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
  const fetchInto = (register: string, operand: Variable, isA: boolean, [row, rowMask]: [string, string | undefined], [col, colMask]: [string, string | undefined]) => {
    const value = convert(builder.value(operand, operandIndex(operand, row, col, isA)), operand.dtype, node.dtype);
    const mask = [rowMask, colMask].filter((m) => m !== undefined).join(' && ');
    builder.lines.push(`${register}[l] = ${mask ? `select(${zero}, ${value}, ${mask})` : value};`);
  };
  // Operands that are plain float32 buffers, read nowhere else in the kernel, with every
  // size a multiple of its tile, can be fetched four values at a time (vec4 loads: a row
  // of A along k, a row of B along n). Opt-in (THEORBO_MATMUL_VEC4=1) until measured.
  const quadsA = (BM * BK) / 1024;
  const quadsB = (BN * BK) / 1024;
  // (Not where the other operand reads the same buffer, itself or through a view: x·xᵀ.)
  const vectorizable = (operand: Variable, other: Variable, rows: number, tile: number, quads: number, width: number) =>
    process.env.THEORBO_MATMUL_VEC4 === '1' && !T.topologicalOrder([other]).includes(operand) && materialized.has(operand) && operand !== kernel.output && operand !== kernel.writesInto &&
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
    fetchInto('ra', a, true, masked('gr', M, BM), masked('gc', K, BK));
  });
  const fetchB = vecB ? vectorFetch(b, 'rb4', BN / 4, false) : builder.scoped(() => {
    builder.lines.push('let e = e0 + l * 256i;', `let r = e / ${BN}i;`, `let c = e % ${BN}i;`, 'let gr = kb + r;', 'let gc = col0 + c;');
    fetchInto('rb', b, false, masked('gr', K, BK), masked('gc', N, BN));
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

/**
 * How a thread-block kernel reads one operand: through the builder (any view, any dtype,
 * one value at a time), or four float32s at a time straight from the buffer of a stored
 * operand (or of the stored matrix it transposes), along `along`, its contiguous axis.
 */
interface OperandRead {
  operand: Variable;
  /** The stored tensor the vec4s come from: the operand, or the one its dimshuffle transposes. */
  stored?: Variable;
  /** The operand's matrix axis that is contiguous in `stored`: k, or the block's own (m for A, n for B). */
  along?: 'k' | 'own';
}

/**
 * Thread-block matmul for the CPU device: each thread computes an 8×8 block of C (fewer
 * rows or columns where the product has fewer) with a plain loop over k, reading the
 * operands from their buffers — no workgroup memory and no barriers, which llvmpipe runs
 * as coroutine switches. Stored float32 operands (or transposed views of them) whose
 * contiguous axis is a multiple of 4 are read as vec4s: llvmpipe loads each lane's
 * values one by one, and a vec4 load is one address computation for four of them.
 * On a 2-core llvmpipe this runs 1024³ in about 135 ms, against 270 ms for the tiled
 * kernel (THEORBO_MATMUL_CPU=tiles keeps that one).
 */
function renderThreadBlocks(kernel: Kernel, materialized: ReadonlySet<Variable>, vectorize: boolean): MatmulKernel {
  const product = productOf(kernel);
  const { node, a, b, M, K, N, batchShape, batch } = product;
  const blockSide = (size: number) => (size >= 8 ? 8 : size > 1 ? 4 : 1);
  const TM = blockSide(M);
  const TN = blockSide(N);
  const W = Math.min(4, TN);
  const t = wgslType(node.dtype);
  const vecW = W === 1 ? t : `vec${W}<${t}>`;
  const zero = literal(0, node.dtype);
  const builder = new KernelBuilder(materialized, kernel.output, kernel.writesInto);
  const lines = builder.lines;
  const MB = Math.ceil(M / TM);
  const NB = Math.ceil(N / TN);
  const threads = 16;
  const blocks = batch * MB * NB;
  const groups = Math.ceil(blocks / threads);
  const dispatch: [number, number, number] = groups <= 65535 ? [Math.max(1, groups), 1, 1] : [65535, Math.ceil(groups / 65535), 1];
  // Neighbouring threads take neighbouring column blocks: they read the same rows of A.
  lines.push(`let block = i32(gid.x + gid.y * ${dispatch[0] * threads}u);`, `if (block >= ${blocks}i) { return; }`);
  lines.push(`let row0 = ((block / ${NB}i) % ${MB}i) * ${TM}i;`, `let col0 = (block % ${NB}i) * ${TN}i;`, `let batch = block / ${MB * NB}i;`);
  const batchIndex = unflatten(builder, 'batch', batchShape, 'b');
  const operandIndex = operandIndexer(product, batchIndex);

  // Which operands are read as vec4s. The stored tensor's binding is then a vec4 array, so
  // nothing else in the kernel may read it one value at a time.
  const reads = [a, b].map((operand, side): OperandRead => {
    const plain = { operand };
    if (!vectorize || operand.ndim < 2 || operand.dtype !== 'float32' || node.dtype !== 'float32') return plain;
    const isA = side === 0;
    const own = isA ? M : N;
    const owner = operand.owner;
    const n = operand.ndim;
    const swapsLastTwo = owner?.op === 'dimshuffle' && (() => {
      const { pattern } = owner.attrs as { pattern: readonly (number | 'x')[] };
      return owner.inputs[0]!.ndim === n && pattern.every((axis, j) => axis === (j < n - 2 ? j : j === n - 2 ? n - 1 : n - 2));
    })();
    const stored = materialized.has(operand) ? operand : swapsLastTwo && materialized.has(owner!.inputs[0]!) ? owner!.inputs[0]! : undefined;
    if (!stored || stored === kernel.output || stored === kernel.writesInto || product.epilogue.includes(stored)) return plain;
    // A stored row-major A is contiguous along k, a stored B along n; their transposes the other way.
    const along: 'k' | 'own' = (stored === operand) === isA ? 'k' : 'own';
    const contiguous = along === 'k' ? K : own;
    const ownBlock = isA ? TM : TN;
    if (contiguous % 4 !== 0 || (along === 'own' && ownBlock % 4 !== 0)) return plain;
    return { operand, stored, along };
  });
  // One buffer read both ways (x·xᵀ with one side plain) must be read one value at a time.
  const bothWays = reads.map((read, side) => read.stored !== undefined && !reads[1 - side]!.stored && T.topologicalOrder([reads[1 - side]!.operand]).includes(read.stored));
  bothWays.forEach((conflict, side) => void (conflict && (reads[side] = { operand: reads[side]!.operand })));
  for (const read of reads) if (read.stored) builder.vectorBinding(read.stored);
  const [readA, readB] = reads as [OperandRead, OperandRead];
  // k steps of 4 wherever K allows (vec4s along k need it), else of 1.
  const U = K % 4 === 0 ? 4 : 1;
  const clamp = (index: string, size: number, block: number) => (size % block === 0 ? index : `min(${index}, ${size - 1}i)`);
  const vectorAt = (read: OperandRead, row: string, col: string, isA: boolean): string => {
    const binding = builder.binding(read.stored!);
    const index = read.stored === read.operand ? operandIndex(read.stored, row, col, isA) : operandIndex(read.stored!, col, row, isA);
    return `${binding.name}[(${builder.offset(index, read.stored!.shape as number[])}) / 4i]`;
  };
  // Loads of one step (values named per step), and each value's expression.
  const aAt: string[][] = Array.from({ length: U }, () => []);
  const bAt: string[][] = Array.from({ length: U }, () => []);
  const step = builder.scoped(() => {
    const bindLoad = (name: string, expr: string) => (builder.lines.push(`let ${name} = ${expr};`), name);
    // A: values a(kk, i).
    if (readA.along === 'k') {
      for (let i = 0; i < TM; i++) {
        const vector = bindLoad(`ak${i}`, vectorAt(readA, clamp(`row0 + ${i}i`, M, TM), 'k', true));
        for (let kk = 0; kk < U; kk++) aAt[kk]![i] = `${vector}[${kk}]`;
      }
    } else if (readA.along === 'own') {
      for (let kk = 0; kk < U; kk++) {
        for (let g = 0; g < TM / 4; g++) {
          const vector = bindLoad(`am${kk}_${g}`, vectorAt(readA, clamp(`row0 + ${4 * g}i`, M, TM), `k + ${kk}i`, true));
          for (let l = 0; l < 4; l++) aAt[kk]![4 * g + l] = `${vector}[${l}]`;
        }
      }
    } else {
      for (let kk = 0; kk < U; kk++) {
        for (let i = 0; i < TM; i++) aAt[kk]![i] = convert(builder.value(a, operandIndex(a, clamp(`row0 + ${i}i`, M, TM), `k + ${kk}i`, true)), a.dtype, node.dtype);
      }
    }
    // B: W-vectors b(kk, q) over columns 4q … 4q + W − 1.
    if (readB.along === 'own') {
      for (let kk = 0; kk < U; kk++) {
        for (let q = 0; q < TN / 4; q++) bAt[kk]![q] = bindLoad(`bn${kk}_${q}`, vectorAt(readB, `k + ${kk}i`, clamp(`col0 + ${4 * q}i`, N, TN), false));
      }
    } else {
      // Along k: one vec4 per column, each lane's value from its own. Otherwise one value at a time.
      const columns = readB.along === 'k' ? Array.from({ length: TN }, (_, j) => bindLoad(`bk${j}`, vectorAt(readB, 'k', clamp(`col0 + ${j}i`, N, TN), false))) : [];
      const value = (kk: number, j: number): string =>
        readB.along === 'k' ? `${columns[j]}[${kk}]` : convert(builder.value(b, operandIndex(b, `k + ${kk}i`, clamp(`col0 + ${j}i`, N, TN), false)), b.dtype, node.dtype);
      for (let kk = 0; kk < U; kk++) {
        for (let q = 0; q < TN / W; q++) {
          const lanes = Array.from({ length: W }, (_, l) => value(kk, W * q + l));
          bAt[kk]![q] = W === 1 ? lanes[0]! : `${vecW}(${lanes.join(', ')})`;
        }
      }
    }
    for (let kk = 0; kk < U; kk++) {
      for (let i = 0; i < TM; i++) {
        for (let q = 0; q < TN / W; q++) {
          const acc = `acc${i}_${q}`;
          const ai = W === 1 ? aAt[kk]![i]! : `${vecW}(${aAt[kk]![i]})`;
          builder.lines.push(t === 'f32' ? `${acc} = fma(${ai}, ${bAt[kk]![q]}, ${acc});` : `${acc} = ${acc} + ${ai} * ${bAt[kk]![q]};`);
        }
      }
    }
  });
  for (let i = 0; i < TM; i++) for (let q = 0; q < TN / W; q++) lines.push(`var acc${i}_${q} = ${vecW}(${zero});`);
  lines.push(`for (var k = 0i; k < ${K}i; k = k + ${U}i) {`, ...step.map((line) => `  ${line}`), '}');
  // The store: a loop over the block's rows that stores row 0's accumulators, then moves
  // every row's up by one. Unrolled, or indexing an array of them, the epilogue's code
  // would be repeated or indexed per element, and llvmpipe compiles each memory access
  // into much code: the talk's training step took 4 s to compile cold that way, 1 s so.
  const rowBody = builder.scoped(() => {
    const epilogueReads = vectorize ? vectorEpilogue(kernel, product, materialized, TN) : undefined;
    if (epilogueReads) {
      // Four columns at a time: the epilogue on each lane, one vec4 store.
      const target = builder.vectorBinding(kernel.output, 'read_write');
      const root = kernel.alsoStoresRoot ? builder.vectorBinding(node, 'read_write') : undefined;
      for (let q = 0; q < TN / 4; q++) {
        const quad = builder.scoped(() => {
          const index = [...batchIndex, ...(a.ndim === 1 ? [] : ['gr']), builder.bind(`col0 + ${4 * q}i`, 'gc')];
          const at = builder.bind(`(${builder.offset(index, product.out)}) / 4i`, 'quad');
          if (root) builder.lines.push(`${root.name}[${at}] = acc0_${q};`);
          const lanes: string[] = [];
          withVectorLanes(builder, epilogueReads, index, (laneIndex, l) => {
            builder.overrides.set(node, `acc0_${q}[${l}]`);
            lanes.push(builder.value(kernel.output, laneIndex));
          });
          builder.overrides.delete(node);
          builder.lines.push(`${target.name}[${at}] = vec4<f32>(${lanes.join(', ')});`);
        });
        builder.lines.push(N % TN === 0 ? '{' : `if (col0 + ${4 * q}i < ${N}i) {`, ...quad.map((line) => `  ${line}`), '}');
      }
    } else {
      const productAt = W === 1 ? 'acc0_0' : TN === W ? 'acc0_0[j]' : `select(acc0_1, acc0_0, j < 4i)[j % 4i]`;
      const element = storeElement(builder, kernel, product, batchIndex, 'row0', 'col0', productAt);
      builder.lines.push(`for (var j = 0i; j < min(${TN}i, ${N}i - col0); j++) {`, ...element.map((line) => `  ${line}`), '}');
    }
    for (let i = 0; i + 1 < TM; i++) for (let q = 0; q < TN / W; q++) builder.lines.push(`acc${i}_${q} = acc${i + 1}_${q};`);
  });
  lines.push(`for (var i = 0i; i < min(${TM}i, ${M}i - row0); i++) {`, '  let gr = row0 + i;', ...rowBody.map((line) => `  ${line}`), '}');
  return { code: '', builder, dispatch, workgroup: String(threads) };
}

/**
 * The buffers a thread-block matmul's epilogue reads as vec4s, when it can run on vec4s
 * at all: float32 product and output of the product's shape, whole quads of columns, an
 * epilogue of pointwise ops over the product and rows of stored tensors, and no buffer
 * that the operands read one value at a time (one binding cannot be both).
 */
function vectorEpilogue(kernel: Kernel, product: Product, materialized: ReadonlySet<Variable>, TN: number): Set<Variable> | undefined {
  const { node, a, b, out, N } = product;
  const output = kernel.output;
  if (node.dtype !== 'float32' || output.dtype !== 'float32' || b.ndim < 2 || N % 4 !== 0 || TN % 4 !== 0) return undefined;
  if (output.ndim !== out.length || output.shape.some((dim, k) => dim !== out[k])) return undefined;
  const vectors = vectorReadsOf([output], N, materialized, kernel, { leaves: new Set([node]), writesInto: true, none: true });
  if (!vectors) return undefined;
  const operandReads = T.topologicalOrder([a, b]);
  const shared = [...[...vectors].map((vector) => storageOf(vector, materialized)), ...(kernel.writesInto ? [kernel.writesInto] : []), output];
  return shared.some((variable) => operandReads.includes(variable)) ? undefined : vectors;
}
