// The one module of codegen that reads environment variables: it maps them onto the
// options the rest of the package takes as typed values (a device kind, tuning, debug
// output) and answers the questions the device chain asks of the process (Dawn's
// backend, library search paths). In a browser there is no `process`: every variable
// reads as unset.
//
// | variable                     | option                                         |
// | ---------------------------- | ---------------------------------------------- |
// | THEORBO_DEVICE               | the device kind (acquireDevice's `prefer`)      |
// | THEORBO_WORKGROUP_TARGET=N   | tuning.workgroupTarget                         |
// | THEORBO_MATMUL_TILE=128|64|32| tuning.matmulTile                              |
// | THEORBO_MATMUL_CPU=tiles     | tuning.cpuMatmul                               |
// | THEORBO_MATMUL_BK=N          | tuning.matmulDepth                             |
// | THEORBO_ELEMENTWISE_GROUPS=N | tuning.elementwiseGroups                       |
// | THEORBO_SUBGROUPS=0          | tuning.subgroups = false                       |
// | THEORBO_CPU_REDUCE=tree      | tuning.cpuReductions = 'workgroups'            |
// | THEORBO_CONV=direct          | tuning.convolutions = 'direct'                 |
// | THEORBO_MATMUL_VEC4=1        | tuning.matmulVec4Loads (undecided)             |
// | THEORBO_ROW_SUBGROUPS=1      | tuning.rowSubgroups (undecided)                |
// | THEORBO_DEBUG=shaders        | print every generated kernel's WGSL            |
// | THEORBO_DEBUG=cpu-kernels    | time the cpu device's kernels; table at exit   |
// | THEORBO_CPU_THREADS=N        | the cpu device's thread cap (1: no workers)    |

import type { TuningOptions } from './tuning.ts';

type Environment = Readonly<Record<string, string | undefined>>;

/** The process's environment, or an empty one where there is no process (a browser). */
export function environment(): Environment {
  return (globalThis as { process?: { env?: Environment } }).process?.env ?? {};
}

const read = (name: string, env: Environment = environment()): string | undefined => {
  const value = env[name]?.trim();
  return value === '' ? undefined : value;
};

function positiveInteger(name: string, env: Environment): number | undefined {
  const text = read(name, env);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!(Number.isInteger(value) && value >= 1)) throw new Error(`${name}=${text} is not a positive integer`);
  return value;
}

function oneOf<V extends string>(name: string, env: Environment, mapping: Record<string, V>): V | undefined {
  const text = read(name, env);
  if (text === undefined) return undefined;
  const value = mapping[text];
  if (value === undefined) throw new Error(`${name}=${text}: use ${Object.keys(mapping).join(' or ')}`);
  return value;
}

/** Tuning options set by THEORBO_* variables (unset variables leave the defaults). */
export function tuningFromEnvironment(env: Environment = environment()): TuningOptions {
  const tile = oneOf('THEORBO_MATMUL_TILE', env, { 128: '128', 64: '64', 32: '32' });
  const options: TuningOptions = {
    workgroupTarget: positiveInteger('THEORBO_WORKGROUP_TARGET', env),
    matmulTile: tile === undefined ? undefined : (Number(tile) as 128 | 64 | 32),
    cpuMatmul: oneOf('THEORBO_MATMUL_CPU', env, { tiles: 'tiles', blocks: 'blocks' }),
    matmulDepth: positiveInteger('THEORBO_MATMUL_BK', env),
    elementwiseGroups: positiveInteger('THEORBO_ELEMENTWISE_GROUPS', env),
    subgroups: flag('THEORBO_SUBGROUPS', env),
    cpuReductions: oneOf('THEORBO_CPU_REDUCE', env, { tree: 'workgroups', threads: 'threads' }),
    convolutions: oneOf('THEORBO_CONV', env, { direct: 'direct', gemm: 'gemm' }),
    matmulVec4Loads: flag('THEORBO_MATMUL_VEC4', env),
    rowSubgroups: flag('THEORBO_ROW_SUBGROUPS', env),
  };
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}

function flag(name: string, env: Environment): boolean | undefined {
  const value = oneOf(name, env, { 0: 'off', 1: 'on' });
  return value === undefined ? undefined : value === 'on';
}

/** THEORBO_DEVICE, or undefined. */
export function deviceFromEnvironment(): string | undefined {
  return read('THEORBO_DEVICE');
}

/** THEORBO_CPU_THREADS as a positive integer, or undefined when unset. */
export function cpuThreadsFromEnvironment(env: Environment = environment()): number | undefined {
  return positiveInteger('THEORBO_CPU_THREADS', env);
}

/**
 * THEORBO_CPU_KERNELS: 'wasm' (the default: elementwise, reduce and rows kernels as
 * WebAssembly SIMD where the renderer can express them) or 'js' (all as JS, to compare).
 */
export function cpuKernelsFromEnvironment(env: Environment = environment()): 'wasm' | 'js' {
  const text = read('THEORBO_CPU_KERNELS', env)?.toLowerCase();
  if (text === undefined || text === 'wasm' || text === 'js') return text ?? 'wasm';
  throw new Error(`THEORBO_CPU_KERNELS=${text} is neither 'wasm' nor 'js'`);
}

/** Whether THEORBO_DEBUG (a comma-separated list) names `topic`. */
export function debugTopic(topic: string): boolean {
  return (read('THEORBO_DEBUG') ?? '').split(',').some((flag) => flag.trim() === topic);
}

/** DAWNNODE_BACKEND, lower-cased, or undefined. */
export function dawnBackend(): string | undefined {
  return read('DAWNNODE_BACKEND')?.toLowerCase();
}

/**
 * Mesa's EGL needs a platform without a display server; it reads EGL_PLATFORM when Dawn
 * initializes EGL, so setting it in-process before create() is enough. Returns its value.
 */
export function useSurfacelessEgl(): string {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  if (env) env.EGL_PLATFORM ??= 'surfaceless';
  return env?.EGL_PLATFORM ?? 'surfaceless';
}

/** Directories in LD_LIBRARY_PATH, and in LIBGL_DRIVERS_PATH (undefined when unset). */
export function librarySearchPaths(): { libraries: string[]; glDrivers: string[] | undefined } {
  return {
    libraries: (read('LD_LIBRARY_PATH') ?? '').split(':').filter((dir) => dir !== ''),
    glDrivers: read('LIBGL_DRIVERS_PATH')?.split(':'),
  };
}
