// The CPU device's matmul: a thread per 8×8 block of C (fewer rows or columns where the
// product has fewer) with a plain loop over k, no workgroup memory and no barriers,
// which llvmpipe runs as coroutine switches. Stored float32 operands (or transposed
// views of them) whose contiguous axis is a multiple of 4 are read as vec4s: llvmpipe
// loads each lane's values one by one, and a vec4 load is one address computation for
// four of them. The epilogue runs on vec4s too where it allows.

import * as T from '@theorbo/graph';
import type { Variable } from '@theorbo/graph';
import type { Kernel } from '../lower/kernel.ts';
import { KernelBuilder, unflatten } from './builder.ts';
import { operandIndexer, operandValue, storeElement, type MatmulKernel, type Product } from './matmul-product.ts';
import { storageOf, vectorReadsOf, withScalarFallback, withVectorLanes } from './vectors.ts';
import { convert, literal, wgslType } from './wgsl.ts';

/** The thread-block kernel, with vec4 reads where the operands allow (scalar reads where one buffer would be read both ways). */
export function renderThreadBlocks(kernel: Kernel, product: Product, materialized: ReadonlySet<Variable>): MatmulKernel {
  return withScalarFallback((vectorize) => renderThreadBlocksWith(kernel, product, materialized, vectorize));
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
  /** Read through the product's flatA (stored at a row offset plus k), not a matrix index. */
  flat?: boolean;
}

/**
 * Thread-block matmul for the CPU device: each thread computes an 8×8 block of C (fewer
 * rows or columns where the product has fewer) with a plain loop over k, reading the
 * operands from their buffers — no workgroup memory and no barriers, which llvmpipe runs
 * as coroutine switches. Stored float32 operands (or transposed views of them) whose
 * contiguous axis is a multiple of 4 are read as vec4s: llvmpipe loads each lane's
 * values one by one, and a vec4 load is one address computation for four of them.
 * On a 2-core llvmpipe this runs 1024³ in about 135 ms, against 270 ms for the tiled
 * kernel (tuning.cpuMatmul 'tiles' keeps that one).
 */
function renderThreadBlocksWith(kernel: Kernel, product: Product, materialized: ReadonlySet<Variable>, vectorize: boolean): MatmulKernel {
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
    const flat = side === 0 ? product.flatA?.stored : undefined;
    if (flat && vectorize && materialized.has(flat) && K % 4 === 0 && flat.dtype === 'float32' && node.dtype === 'float32' && flat !== kernel.output && flat !== kernel.writesInto && !product.epilogue.includes(flat) && !T.topologicalOrder([a, b].filter((v) => v !== flat)).includes(flat)) {
      return { operand, stored: flat, along: 'k', flat: true };
    }
    if (!vectorize || product.read || operand.ndim < 2 || operand.dtype !== 'float32' || node.dtype !== 'float32') return plain;
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
  const bothWays = reads.map((read, side) => !read.flat && read.stored !== undefined && !reads[1 - side]!.stored && T.topologicalOrder([reads[1 - side]!.operand]).includes(read.stored));
  bothWays.forEach((conflict, side) => void (conflict && (reads[side] = { operand: reads[side]!.operand })));
  for (const read of reads) if (read.stored) builder.vectorBinding(read.stored);
  const [readA, readB] = reads as [OperandRead, OperandRead];
  // k steps of 4 wherever K allows (vec4s along k need it), else of 1.
  const U = K % 4 === 0 ? 4 : 1;
  const clamp = (index: string, size: number, block: number) => (size % block === 0 ? index : `min(${index}, ${size - 1}i)`);
  const vectorAt = (read: OperandRead, row: string, col: string, isA: boolean): string => {
    const binding = builder.binding(read.stored!);
    if (read.flat) return `${binding.name}[(${product.flatA!.offset(builder, batchIndex, row, col)}) / 4i]`;
    const index = read.stored === read.operand ? operandIndex(read.stored, row, col, isA) : operandIndex(read.stored!, col, row, isA);
    return `${binding.name}[(${builder.offset(index, read.stored!.shape as number[])}) / 4i]`;
  };
  // Loads of one step (values named per step), and each value's expression.
  if (product.hoist) {
    for (let i = 0; i < TM; i++) product.hoist(builder, 0, batchIndex, clamp(`row0 + ${i}i`, M, TM));
    for (let j = 0; j < TN; j++) product.hoist(builder, 1, batchIndex, clamp(`col0 + ${j}i`, N, TN));
  }
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
        for (let i = 0; i < TM; i++) aAt[kk]![i] = operandValue(product, builder, batchIndex, 0, clamp(`row0 + ${i}i`, M, TM), `k + ${kk}i`);
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
        readB.along === 'k' ? `${columns[j]}[${kk}]` : operandValue(product, builder, batchIndex, 1, `k + ${kk}i`, clamp(`col0 + ${j}i`, N, TN));
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
