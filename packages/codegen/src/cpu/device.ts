// Opening the cpu device: its shared memory, its store of shared variables, a pool of
// worker threads over that memory (one per core, the calling thread included) and the
// packed WebAssembly SIMD GEMM on it. Kept apart from device.ts so that the device chain
// loads no worker or WebAssembly code until it opens this kind. THEORBO_CPU_THREADS
// caps the threads (1: no workers); THEORBO_CPU_KERNELS=js keeps every non-matmul kernel on JS; a browser runs one (host/browser.ts says why).

import { host } from '#host';
import { cpuKernelsFromEnvironment, cpuThreadsFromEnvironment } from '../environment.ts';
import { createMatmul } from './matmul.ts';
import { CpuMemory } from './memory.ts';
import { CpuStore, type CpuDeviceParts } from './plan.ts';
import { ThreadPool } from './threads.ts';
import { createWasmRunner } from './wasm-kernels.ts';
import { relaxedSimdSupported } from './wasm-features.ts';

export async function openCpuParts(): Promise<{ parts: CpuDeviceParts; threads: number; detail: string }> {
  const unavailable = host.cpuUnavailable();
  if (unavailable !== undefined) throw new Error(unavailable);
  const memory = new CpuMemory();
  const store = new CpuStore(memory);
  const cap = cpuThreadsFromEnvironment();
  const cores = host.cores();
  const threads = Math.min(cap ?? cores, cores, host.maxPoolThreads);
  relaxedSimdSupported(); // sets V8's flag before the workers start, so they have it too
  const pool = await ThreadPool.create(memory.memory, threads);
  const matmul = await createMatmul(pool, (bytes) => memory.take(bytes));
  const gemm = {
    run(call: Parameters<typeof matmul.run>[0]) {
      if (call.m * call.n * call.k * (call.batch ?? 1) > 0) matmul.run(call);
    },
  };
  const detail = `elementwise, reduce and row kernels as WebAssembly SIMD where they can be (else JS), matrix products as WebAssembly SIMD (${matmul.relaxed ? 'relaxed fused multiply-add' : 'multiply and add'}) on ${threads} of ${cores} cores`;
  const wasm = cpuKernelsFromEnvironment() === 'wasm' ? createWasmRunner(pool) : undefined;
  return { parts: { memory, store, gemm, wasm }, threads, detail: wasm ? detail : detail.replace(/^.*?\(else JS\), /, 'JS kernels, ') };
}
