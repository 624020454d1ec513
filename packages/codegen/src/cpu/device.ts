// Opening the cpu device: its shared memory, its store of shared variables, and (once
// built) the WebAssembly GEMM on a pool of worker threads. Kept apart from device.ts so
// that the device chain imports no worker or WebAssembly code until it opens this kind.

import { availableParallelism } from 'node:os';
import { CpuMemory } from './memory.ts';
import { CpuStore, type CpuDeviceParts } from './plan.ts';

export async function openCpuParts(): Promise<{ parts: CpuDeviceParts; threads: number; detail: string }> {
  const memory = new CpuMemory();
  const store = new CpuStore(memory);
  const threads = availableParallelism();
  return { parts: { memory, store }, threads, detail: `JS kernels on 1 of ${threads} cores; matrix products in JS (no WebAssembly GEMM yet)` };
}
