// Batched float32 matrix products on the cpu device: C[b] = A[b] · B[b], with A and B read
// through general element strides (batch, row, column), so transposed and broadcast
// (stride 0) operands need no copy, and C written with unit column stride. Large products
// use the packed, cache-blocked GEMM of matmul-wasm.ts; thin and small ones (vector·matrix,
// matrix·vector, a few rows, k ≤ 8) the unpacked kernels of matmul-direct-wasm.ts, chosen by
// shape and strides. The work is split into tasks over the batch and over rows (or columns,
// for short-wide products) and run on the thread pool; products under ~131k multiply-adds
// run on the calling thread alone, where dispatch would cost more than it saves.
// Shapes: A [batch, m, k], B [batch, k, n], C [batch, m, n]; offsets and strides count
// float32 elements of the pool's shared memory.
// Left out: other dtypes, alpha/beta (C is overwritten), and output column strides ≠ 1.
import { blocking, buildGemmModule, scratchBytesPerThread, tile } from './matmul-wasm.ts';
import type { ThreadPool } from './threads.ts';
import { relaxedSimdSupported } from './wasm-features.ts';

export interface MatmulOperand { offset: number; strides: readonly [batch: number, row: number, column: number] }
export interface MatmulOutput { offset: number; strides: readonly [batch: number, row: number] }
export interface MatmulCall { a: MatmulOperand; b: MatmulOperand; c: MatmulOutput; m: number; n: number; k: number; batch?: number }

export interface Matmul {
  /** C = A·B; `form` forces one kernel (for tests and measurements), else it is chosen by shape. */
  run(call: MatmulCall, form?: MatmulForm): void;
  /** Whether the kernels use f32x4.relaxed_madd. */
  readonly relaxed: boolean;
}

export interface MatmulOptions {
  /** Use relaxed SIMD when the runtime has it (default); false forces mul + add. */
  relaxed?: boolean;
}

/** Products below this many multiply-adds run on the calling thread only. */
const serialWork = 1 << 17;
/** Below this many multiply-adds, the unpacked kernels beat packing (measured to 128³). */
const unpackedWork = 1 << 21;
/** Smallest share of work worth a task of its own. */
const minimumTaskWork = 1 << 16;
/** Tasks per thread: a few, so a thread slowed by other work is balanced by the rest. */
const tasksPerThread = 3;

// Which strides each kernel can read: rows need B's columns adjacent, dots need A and B adjacent along k.
const anyStrides = () => true;
const unitColumnsOfB = ({ b, n }: MatmulCall) => b.strides[2] === 1 || n === 1;
const adjacentAlongK = ({ a, b, k }: MatmulCall) => (a.strides[2] === 1 && b.strides[1] === 1) || k === 1;

/** Each exported kernel, with the tile it works in (tasks split rows and columns in whole tiles). */
const forms = {
  gemm: { rows: tile.rows, columns: tile.columns, fits: anyStrides },
  rows4: { rows: 4, columns: 8, fits: unitColumnsOfB },
  rows1: { rows: 1, columns: 32, fits: unitColumnsOfB },
  dots16: { rows: 1, columns: 6, fits: adjacentAlongK },
  dots24: { rows: 2, columns: 4, fits: adjacentAlongK },
  dots61: { rows: 6, columns: 1, fits: adjacentAlongK },
} as const satisfies Record<string, { rows: number; columns: number; fits: (call: MatmulCall) => boolean }>;
export type MatmulForm = keyof typeof forms;
export const matmulForms = Object.keys(forms) as MatmulForm[];

/**
 * Compiles the GEMM for `pool` and takes its packing scratch from `alloc(bytes)`, which
 * returns a byte offset into the pool's memory (called once, here).
 */
export async function createMatmul(pool: ThreadPool, alloc: (bytes: number) => number, options: MatmulOptions = {}): Promise<Matmul> {
  const relaxed = (options.relaxed ?? true) && relaxedSimdSupported();
  const scratchBase = Math.ceil(alloc(pool.threads * scratchBytesPerThread + 64) / 64) * 64;
  const moduleId = await pool.register(buildGemmModule({ memory: { initial: 0, maximum: 65536 }, scratchBase, relaxed }));
  const exports = pool.exports(moduleId);
  type Kernel = (a: number, aRow: number, aCol: number, b: number, bRow: number, bCol: number, c: number, cRow: number, m: number, n: number, k: number) => void;
  const kernels = Object.fromEntries(matmulForms.map((form) => [form, exports[form] as Kernel])) as Record<MatmulForm, Kernel>;
  return {
    relaxed,
    run(call, forced) {
      checkCall(call);
      if (forced !== undefined && !forms[forced].fits(call)) throw new Error(`matmul: the ${forced} kernel cannot read these strides (A ${call.a.strides}, B ${call.b.strides})`);
      const form = forced ?? chooseForm(call);
      if (pool.threads === 1 || work(call) < serialWork) {
        // On this thread, one call per product: no task list.
        const { a, b, c, m, n, k, batch = 1 } = call, kernel = kernels[form];
        for (let index = 0; index < batch; index++) {
          kernel(4 * (a.offset + index * a.strides[0]), 4 * a.strides[1], 4 * a.strides[2], 4 * (b.offset + index * b.strides[0]),
            4 * b.strides[1], 4 * b.strides[2], 4 * (c.offset + index * c.strides[0]), 4 * c.strides[1], m, n, k);
        }
        return;
      }
      const tasks = planTasks(call, form, pool.threads);
      pool.run(moduleId, form, tasks);
    },
  };
}

const work = ({ m, n, k, batch = 1 }: MatmulCall) => m * n * k * batch;

const whole = (value: number) => Number.isInteger(value) && value >= 1;

// No closures are made per call: tsx (esbuild's keepNames) names each one as it is made.
function checkCall(call: MatmulCall): void {
  const { m, n, k, batch = 1 } = call;
  if (!(whole(m) && whole(n) && whole(k) && whole(batch))) {
    const [name, value] = Object.entries({ m, n, k, batch }).find(([, value]) => !whole(value))!;
    throw new Error(`matmul: ${name} must be a whole number ≥ 1, got ${value}`);
  }
  if (batch > 1 && call.c.strides[0] === 0) throw new Error('matmul: C has batch stride 0 with batch > 1; each product needs its own output');
  if (m > 1 && n > 1 && Math.abs(call.c.strides[1]) < n) throw new Error(`matmul: C's row stride ${call.c.strides[1]} overlaps its rows of ${n} columns`);
}

/** Which kernel suits the shape and strides (the thresholds come from measurements). */
function chooseForm(call: MatmulCall): MatmulForm {
  const { m, n, k } = call;
  const alongK = adjacentAlongK(call);
  const rowsOfB = call.b.strides[2] === 1 && n >= 4;
  const small = m * n * k <= unpackedWork;
  if (alongK && k >= 8 && n <= 2) return 'dots61';
  if (rowsOfB && m === 1) return 'rows1';
  if (alongK && k >= 8 && m <= 2) return 'dots16';
  if (rowsOfB && (m <= 4 || k <= 8 || small)) return 'rows4';
  if (alongK && k >= 8 && small) return 'dots24';
  return 'gemm';
}

/** The kernel's arguments for every task: byte offsets and strides of one sub-product. */
function planTasks(call: MatmulCall, form: MatmulForm, threads: number): number[][] {
  const { a, b, c, m, n, k, batch = 1 } = call;
  const unit = forms[form];
  const wanted = Math.max(1, Math.min(threads * tasksPerThread, Math.floor(work(call) / minimumTaskWork)));
  const splits = Math.ceil(wanted / batch);
  // Split the side with more whole tiles: rows, or columns for short-wide products.
  const byRows = Math.ceil(m / unit.rows) >= Math.ceil(n / unit.columns);
  const step = byRows ? wholeTiles(m, splits, unit.rows) : wholeTiles(n, splits, unit.columns);
  const tasks: number[][] = [];
  for (let index = 0; index < batch; index++) {
    const aBase = a.offset + index * a.strides[0], bBase = b.offset + index * b.strides[0], cBase = c.offset + index * c.strides[0];
    for (let start = 0; start < (byRows ? m : n); start += step) {
      const size = Math.min(step, (byRows ? m : n) - start);
      tasks.push(byRows
        ? [4 * (aBase + start * a.strides[1]), 4 * a.strides[1], 4 * a.strides[2], 4 * bBase, 4 * b.strides[1], 4 * b.strides[2],
          4 * (cBase + start * c.strides[1]), 4 * c.strides[1], size, n, k]
        : [4 * aBase, 4 * a.strides[1], 4 * a.strides[2], 4 * (bBase + start * b.strides[2]), 4 * b.strides[1], 4 * b.strides[2],
          4 * (cBase + start), 4 * c.strides[1], m, size, k]);
    }
  }
  return tasks;
}

/** A split of `length` into about `parts` pieces, each a whole number of `unit`s. */
function wholeTiles(length: number, parts: number, unit: number): number {
  return Math.ceil(Math.ceil(length / parts) / unit) * unit;
}

/**
 * The definition: C = A·B accumulated in float64, read from `memory` through the same
 * strides (the tests' oracle). Returns C as [batch, m, n].
 */
export function referenceMatmul(memory: Float32Array, call: MatmulCall): Float64Array {
  const { a, b, m, n, k, batch = 1 } = call;
  const out = new Float64Array(batch * m * n);
  for (let index = 0; index < batch; index++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) {
          sum += memory[a.offset + index * a.strides[0] + i * a.strides[1] + p * a.strides[2]]!
            * memory[b.offset + index * b.strides[0] + p * b.strides[1] + j * b.strides[2]]!;
        }
        out[(index * m + i) * n + j] = sum;
      }
    }
  }
  return out;
}

export { blocking, scratchBytesPerThread, tile };
