// GFLOP/s of the cpu device's WebAssembly GEMM (packages/codegen/src/cpu/matmul.ts) on
// square products, with 1 thread and with every core, beside @jax-js/jax's wasm backend
// on the same inputs. Each implementation is checked (the matmul case's sampled float64
// check) before it is timed; they are timed in interleaved rounds and each keeps its best
// round, since other work may share the machine. Not part of the tests.
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
const repeats = Number(argument('--repeats') ?? 9);
const threadCounts = [...new Set([1, os.availableParallelism()])];

interface Timed { label: string; step: () => void | Promise<void>; sync: () => Promise<void>; iterations: number; bestMs: number; cpuMs: number; wallMs: number }

/** Calls per timed batch: enough for about 50 ms. */
async function calibrate(step: () => void | Promise<void>, sync: () => Promise<void>): Promise<number> {
  for (let iterations = 1; ; iterations *= 2) {
    const start = performance.now();
    for (let i = 0; i < iterations; i++) await step();
    await sync();
    if (performance.now() - start > 50 || iterations > 1e5) return iterations;
  }
}

/** Times every implementation once per round, round after round, keeping each one's best. */
async function timeInRounds(timed: Timed[]): Promise<void> {
  for (let round = 0; round < repeats; round++) {
    for (const entry of timed) {
      const start = performance.now(), cpu = process.cpuUsage();
      for (let i = 0; i < entry.iterations; i++) await entry.step();
      await entry.sync();
      const wall = performance.now() - start, used = process.cpuUsage(cpu);
      entry.bestMs = Math.min(entry.bestMs, wall / entry.iterations);
      entry.wallMs += wall;
      entry.cpuMs += (used.user + used.system) / 1000;
    }
  }
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
  const failures: string[] = [];
  const timed: Timed[] = [];
  const noSync = async () => {};
  let jaxRunner: Runner | undefined;
  if (!('unavailable' in jax)) {
    const runner = jaxRunner = await jax.cases.matmul!(workload) as Runner;
    const verdict = workload.check(await runner.result());
    if (!verdict.ok) failures.push(`  jax-js wasm FAILED its check: ${verdict.detail}`);
    else {
      const step = () => runner.step(), sync = () => runner.sync();
      timed.push({ label: 'jax-js wasm', step, sync, iterations: await calibrate(step, sync), bestMs: Infinity, cpuMs: 0, wallMs: 0 });
    }
  }
  for (const { threads, matmul } of engines) {
    view.fill(Number.NaN, call.c.offset, call.c.offset + size * size);
    matmul.run(call);
    const verdict = workload.check([view.slice(call.c.offset, call.c.offset + size * size)]);
    if (!verdict.ok) { failures.push(`  theorbo ${threads} thread(s) FAILED its check: ${verdict.detail}`); continue; }
    const step = () => matmul.run(call);
    timed.push({ label: `theorbo ${threads} thread${threads > 1 ? 's' : ''}`, step, sync: noSync, iterations: await calibrate(step, noSync), bestMs: Infinity, cpuMs: 0, wallMs: 0 });
  }
  await timeInRounds(timed);
  await jaxRunner?.dispose?.();
  const jaxMs = timed.find((entry) => entry.label === 'jax-js wasm')?.bestMs;
  // cores: the process's CPU time over wall time while the row was timed (below its thread
  // count when other work shares the machine).
  const rows = [...failures, ...timed.map(({ label, bestMs, cpuMs, wallMs }) => {
    const ratio = jaxMs === undefined || label.startsWith('jax') ? '' : `  ${(jaxMs / bestMs).toFixed(2)}× jax-js`;
    return `  ${label.padEnd(18)} ${(flops / bestMs / 1e6).toFixed(1).padStart(6)} GFLOP/s  ${bestMs.toFixed(3).padStart(8)} ms  cores ${(cpuMs / wallMs).toFixed(2)}${ratio}`;
  })];
  console.log(`${size}³ (${workload.label})`);
  for (const row of rows) console.log(row);
}
await Promise.all(engines.map(({ pool }) => pool.close()));
