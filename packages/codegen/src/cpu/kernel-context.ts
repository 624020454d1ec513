// What a cpu kernel is given: the plan's buffers and scratch, the GEMM and the runner of
// generated WebAssembly. Its own module so that the kernel renderers (kernels.ts,
// window.ts, wasm-kernels.ts) can share these types without importing one another.

import type * as T from '@theorbo/graph';
import type { NDArray, TypedArray, Variable } from '@theorbo/graph';

export type Entry = (...args: number[]) => void;

/** Compiles and runs generated kernels on the device's thread pool. */
export interface WasmRunner {
  readonly threads: number;
  load(bytes: Uint8Array<ArrayBuffer>): { id: number; entry: Entry };
  run(id: number, tasks: readonly (readonly number[])[]): void;
}

export interface KernelContext {
  materialized: ReadonlySet<Variable>;
  reads: ReadonlySet<Variable>;
  viewOf: (variable: Variable) => TypedArray;
  /** A scratch buffer owned by the plan. */
  scratch: (dtype: T.DType, size: number) => { offset: number; view: TypedArray };
  /** Byte offset of a view in the device memory (for WebAssembly kernels). */
  offsetOf: (view: TypedArray) => number;
  gemm?: Gemm;
  /** Where elementwise, reduce and rows kernels run as WebAssembly SIMD (cpu/wasm-kernels.ts) when they can. */
  wasm?: WasmRunner;
  /** Runs a graph (a scan's step) as a plan on this device: the loop's evaluator. */
  evaluate?: (outputs: readonly Variable[], givens: readonly (readonly [Variable, NDArray])[]) => NDArray[];
  /** The kernel's own passes (an epilogue, a computed operand) that ran as JS, for its profile line. */
  jsPasses?: string[];
}

/** A float32 GEMM over device memory, offsets and strides in elements. */
export interface Gemm {
  run(call: {
    a: { offset: number; strides: [number, number, number] };
    b: { offset: number; strides: [number, number, number] };
    c: { offset: number; strides: [number, number] };
    m: number; n: number; k: number; batch: number;
  }): void;
}
