// Kernel tuning: the choices that change how kernels are built, never what they compute.
// One typed object, resolved once per compiled function from the device's defaults, the
// environment (environment.ts maps THEORBO_* variables onto it) and `compile({ tuning })`,
// in that order, and part of every plan's cache key. Measured winners are not options
// (vec4 reads, row caching and split-K are always on); what stays here either compares
// kernels on one device (benchmarks) or waits for a GPU run to decide it.
// Left out: per-kernel overrides; autotuning.

import type { DeviceKind } from './device-kind.ts';

export interface Tuning {
  /**
   * Workgroups a kernel should spread its work over: about two per core of a large GPU
   * (256), 1 on the CPU device. At 1, plans take the CPU device's kernel shapes (a thread
   * per output for reductions and rows, thread-block matmuls); tests use 256 to run
   * GPU-shaped plans on the CPU device.
   */
  readonly workgroupTarget: number;
  /**
   * The tiled matmul's tile side: 'auto' picks the largest that gives the device enough
   * workgroups; a number forces one (and, in CPU-shaped plans, the tiled kernel).
   */
  readonly matmulTile: 'auto' | 128 | 64 | 32;
  /** In CPU-shaped plans: 8×8 thread blocks without workgroup memory (measured fastest on llvmpipe), or the tiled kernel. */
  readonly cpuMatmul: 'blocks' | 'tiles';
  /** The tiled matmul's step depth: 'auto' (8, 16, 32 for the three tiles) or a number (16·tile/16·depth a multiple of 256). */
  readonly matmulDepth: 'auto' | number;
  /** Workgroups of an elementwise grid-stride loop (256 threads each). */
  readonly elementwiseGroups: number;
  /** Use subgroup operations where the device offers them. */
  readonly subgroups: boolean;
  /** In CPU-shaped plans, reductions and rows as a thread per output (measured fastest), or in workgroups as on a GPU. */
  readonly cpuReductions: 'threads' | 'workgroups';
  /**
   * Convolutions as implicit matrix products through the matmul kernels (default), or
   * directly, a thread per output looping over its window (the plain reference kernel,
   * kept for comparison).
   */
  readonly convolutions: 'gemm' | 'direct';
  /** Undecided until a GPU run: vec4 loads of plain float32 matmul operands at tile multiples. */
  readonly matmulVec4Loads: boolean;
  /** Undecided until a GPU run: subgroup reductions in row kernels (softmax). */
  readonly rowSubgroups: boolean;
}

export type TuningOptions = Partial<Tuning>;

/** The options that no GPU run has decided yet (listed in the README). */
export const undecidedOptions = ['matmulVec4Loads', 'rowSubgroups'] as const satisfies readonly (keyof Tuning)[];

/** The defaults of a device kind. */
export function defaultTuning(kind: DeviceKind): Tuning {
  return {
    workgroupTarget: kind === 'gpu' ? 256 : 1,
    matmulTile: 'auto',
    cpuMatmul: 'blocks',
    matmulDepth: 'auto',
    elementwiseGroups: 4096,
    subgroups: true,
    cpuReductions: 'threads',
    convolutions: 'gemm',
    matmulVec4Loads: false,
    rowSubgroups: false,
  };
}

/** Later options win; undefined entries leave the earlier value. */
export function resolveTuning(kind: DeviceKind, ...layers: readonly (TuningOptions | undefined)[]): Tuning {
  const tuning: Record<string, unknown> = { ...defaultTuning(kind) };
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer ?? {})) {
      if (!(key in tuning)) throw new Error(`compile: unknown tuning option '${key}'; the options are ${Object.keys(tuning).join(', ')}`);
      if (value !== undefined) tuning[key] = value;
    }
  }
  return checkTuning(tuning as unknown as Tuning);
}

function checkTuning(tuning: Tuning): Tuning {
  const positive = (name: keyof Tuning, value: unknown) => {
    if (!(Number.isInteger(value) && (value as number) >= 1)) throw new Error(`compile: tuning.${name} must be a positive integer, not ${String(value)}`);
  };
  positive('workgroupTarget', tuning.workgroupTarget);
  positive('elementwiseGroups', tuning.elementwiseGroups);
  if (tuning.matmulDepth !== 'auto') positive('matmulDepth', tuning.matmulDepth);
  if (![ 'auto', 128, 64, 32].includes(tuning.matmulTile)) throw new Error(`compile: tuning.matmulTile must be 'auto', 128, 64 or 32, not ${String(tuning.matmulTile)}`);
  if (!['blocks', 'tiles'].includes(tuning.cpuMatmul)) throw new Error(`compile: tuning.cpuMatmul must be 'blocks' or 'tiles', not ${String(tuning.cpuMatmul)}`);
  if (!['gemm', 'direct'].includes(tuning.convolutions)) throw new Error(`compile: tuning.convolutions must be 'gemm' or 'direct', not ${String(tuning.convolutions)}`);
  if (!['threads', 'workgroups'].includes(tuning.cpuReductions)) throw new Error(`compile: tuning.cpuReductions must be 'threads' or 'workgroups', not ${String(tuning.cpuReductions)}`);
  return tuning;
}

/** The tuning as a cache key: every field, in a fixed order. */
export function tuningKey(tuning: Tuning): string {
  return Object.keys(tuning).sort().map((key) => `${key}=${String(tuning[key as keyof Tuning])}`).join(',');
}

/** Whether plans take the CPU device's shapes (threads per output, thread-block matmuls). */
export const cpuShaped = (tuning: Tuning): boolean => tuning.workgroupTarget <= 1;
