// THEORBO_DEBUG=cpu-kernels: every kernel the cpu device runs in this process is timed,
// and at exit a table goes to stderr: the time per kernel label and how it ran (js,
// wasm, or the reference evaluator's fallback), the slowest first, and the total per
// `how`. It is how one finds which kernels of a whole job (the demo, a training run)
// still fall to the reference and what they cost. Off by default: then runCpuPlan
// pays one boolean test per call.

import { host } from '#host';
import { debugTopic } from '../environment.ts';
import type { CpuKernel } from './kernels.ts';

export interface KernelTime { how: CpuKernel['how']; calls: number; ms: number }

const times = new Map<string, KernelTime>();
let printing = false;

/** Whether kernels are being timed (THEORBO_DEBUG names cpu-kernels); read once. */
export const timingKernels: boolean = debugTopic('cpu-kernels');

/** Adds one run of `kernel` that took `ms`. */
export function recordKernelTime(kernel: CpuKernel, ms: number): void {
  const key = `${kernel.label} [${kernel.how}${kernel.jsPasses ? `; ${kernel.jsPasses}` : ''}]${kernel.why ? ` (${kernel.why})` : ''}`;
  let entry = times.get(key);
  if (!entry) times.set(key, (entry = { how: kernel.how, calls: 0, ms: 0 }));
  entry.calls++;
  entry.ms += ms;
  if (!printing) {
    printing = true;
    host.onExit(() => host.writeError(formatKernelTimes()));
  }
}

/** The table so far (also for tests). */
export function kernelTimes(): ReadonlyMap<string, KernelTime> {
  return times;
}

export function formatKernelTimes(limit = 40): string {
  const rows = [...times].sort((a, b) => b[1].ms - a[1].ms);
  const total = new Map<string, number>();
  for (const [, { how, ms }] of rows) total.set(how, (total.get(how) ?? 0) + ms);
  const lines = ['theorbo cpu kernels (THEORBO_DEBUG=cpu-kernels): ms, calls, kernel [how]'];
  // The slowest `limit` rows, and every fallback to the reference however cheap.
  for (const [label, { calls, ms }] of rows.filter(([, entry], i) => i < limit || entry.how === 'reference')) lines.push(`${ms.toFixed(1).padStart(10)} ${String(calls).padStart(7)}  ${label}`);
  lines.push(`total by how: ${[...total].map(([how, ms]) => `${how} ${ms.toFixed(0)} ms`).join(', ')}`);
  return `${lines.join('\n')}\n`;
}
