// GFLOP/s of the cpu device's WebAssembly GEMM (packages/codegen/src/cpu/matmul.ts) on
// square products, with 1 thread and with every core, beside @jax-js/jax's wasm backend
// on the same inputs. Each implementation is checked (the matmul case's sampled float64
// check) before it is timed; the best of several repeats is kept, since other work may
// share the machine. Not part of the tests.
// Usage: npx tsx benchmarks/cpu-matmul-probe.ts [--sizes 256,1024] [--repeats 7] [--no-jax]
import os from 'node:os';
import { createMatmul } from '../packages/codegen/src/cpu/matmul.ts';
import { ThreadPool } from '../packages/codegen/src/cpu/threads.ts';
import { matmulWorkload } from './cases.ts';
import type { Runner } from './harness.ts';
import { loadJax } from './peers/jax.ts';

const argument = (flag: string): string | undefined => {
  const index = process.argv.indexOf(flag);
  return index >= 0 ? process.argv[index + 1] : undefined;
};
const sizes = (argument('--sizes') ?? '256,1024').split(',').map(Number);
const repeats = Number(argument('--repeats') ?? 7);
const threadCounts = [...new Set([1, os.availableParallelism()])];

/** Best milliseconds per call over `repeats` timed batches, each about 0.2 s long. */
async function bestMs(step: () => void | Promise<void>, sync: () => Promise<void> = async () => {}): Promise<number> {
  await step(); await sync();
  let iterations = 1;
  for (;;) {
    const start = performance.now();
    for (let i = 0; i < iterations; i++) await step();
    await sync();
    if (performance.now() - start > 50 || iterations > 1e5) break;
    iterations *= 2;
  }
  iterations = Math.max(1, iterations * 4);
  let best = Infinity;
  for (let repeat = 0; repeat < repeats; repeat++) {
    const start = performance.now();
    for (let i = 0; i < iterations; i++) await step();
    await sync();
    best = Math.min(best, (performance.now() - start) / iterations);
  }
  return best;
}

const maxSize = Math.max(...sizes);
const memory = new WebAssembly.Memory({ initial: Math.ceil((3 * maxSize * maxSize * 4 + 16 * 2 ** 20) / 65536), maximum: 65536, shared: true });
let top = 0;
const alloc = (bytes: number) => { const offset = top; top += Math.ceil(bytes / 64) * 64; return offset; };
const engines = await Promise.all(threadCounts.map(async (threads) => {
  const pool = await ThreadPool.create(memory, threads);
  return { threads, pool, matmul: await createMatmul(pool, alloc) };
}));
const jax = !process.argv.includes('--no-jax') ? await loadJax('wasm') : { unavailable: 'skipped (--no-jax)' };
console.log(`relaxed SIMD: ${engines[0]!.matmul.relaxed}; ${os.availableParallelism()} cores; ${os.cpus()[0]?.model ?? ''}`);
if ('unavailable' in jax) console.log(`jax-js wasm: ${jax.unavailable}`);

for (const size of sizes) {
  const workload = matmulWorkload(size);
  const flops = workload.flops!;
  const [a, b] = workload.inputs.map((input) => input.data as Float32Array) as [Float32Array, Float32Array];
  const base = Math.ceil(top / 4);
  const view = new Float32Array(memory.buffer);
  view.set(a, base);
  view.set(b, base + size * size);
  const call = {
    a: { offset: base, strides: [0, size, 1] as const },
    b: { offset: base + size * size, strides: [0, size, 1] as const },
    c: { offset: base + 2 * size * size, strides: [0, size] as const },
    m: size, n: size, k: size,
  };
  const rows: string[] = [];
  let jaxMs: number | undefined;
  if (!('unavailable' in jax)) {
    const runner = await jax.cases.matmul!(workload) as Runner;
    const verdict = workload.check(await runner.result());
    if (!verdict.ok) rows.push(`  jax-js wasm        FAILED its check: ${verdict.detail}`);
    else {
      jaxMs = await bestMs(() => runner.step(), () => runner.sync());
      rows.push(`  jax-js wasm        ${(flops / jaxMs / 1e6).toFixed(1).padStart(6)} GFLOP/s  ${jaxMs.toFixed(3)} ms`);
    }
    await runner.dispose?.();
  }
  for (const { threads, matmul } of engines) {
    view.fill(Number.NaN, call.c.offset, call.c.offset + size * size);
    matmul.run(call);
    const verdict = workload.check([view.slice(call.c.offset, call.c.offset + size * size)]);
    if (!verdict.ok) { rows.push(`  theorbo ${threads} thread(s) FAILED its check: ${verdict.detail}`); continue; }
    const ms = await bestMs(() => matmul.run(call));
    const ratio = jaxMs === undefined ? '' : `  ${(jaxMs / ms).toFixed(2)}× jax-js`;
    rows.push(`  theorbo ${threads} thread${threads > 1 ? 's' : ' '}  ${(flops / ms / 1e6).toFixed(1).padStart(6)} GFLOP/s  ${ms.toFixed(3)} ms${ratio}`);
  }
  console.log(`${size}³ (${workload.label})`);
  for (const row of rows) console.log(row);
}
await Promise.all(engines.map(({ pool }) => pool.close()));
