// The shapes of plans (runtime/plan.ts builds them, runtime/loop.ts the loops inside
// them, runtime/execute.ts runs them): a leaf module, so that those three import one
// another's types without a circle.

import type { NDArray, ScanBody, SharedVariable, Variable } from '@theorbo/graph';
import type { Kernel } from '../lower/kernel.ts';
import type { partition } from '../lower/partition.ts';
import type { RenderedPass } from '../render/render.ts';
import type { Tuning } from '../tuning.ts';
import type { IndexErrorSlots } from './index-errors.ts';
import type { SharedStore } from './shared-store.ts';

export interface PlannedPass {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  dispatch: [number, number, number];
  label: string;
  code: string;
  rendered: RenderedPass;
}

export interface PlannedKernel {
  kernel: Kernel;
  /** The buffer the kernel writes. */
  buffer: GPUBuffer;
  /** Its passes, in the order they run (one for most kernels; none for a loop). */
  passes: PlannedPass[];
  /** A scan's loop, recorded step by step (the first of a loop's output nodes runs it; the others have neither). */
  loop?: PlannedLoop;
}

export interface Plan {
  kernels: PlannedKernel[];
  /** Buffer of every original input, written at each call. */
  inputBuffers: Map<Variable, GPUBuffer>;
  /** The static-shaped stand-in of every original input (what kernels bind). */
  inputStands: Map<Variable, Variable>;
  /**
   * The bind group of one pass with some variables bound to other buffers (a call's device
   * tensors): built once per combination of buffers and kept, since a loop passes the same ones.
   */
  rebind(pass: PlannedPass, substitute: ReadonlyMap<Variable, GPUBuffer>): GPUBindGroup;
  /**
   * Where each requested output (specialized) lives after the kernels ran, or its folded
   * value. `ownBuffer`: a kernel of this plan writes it into a buffer nothing else uses, so
   * a call may bind a buffer of its own there instead (device outputs, written in place).
   */
  outputs: { variable: Variable; buffer?: GPUBuffer; constant?: NDArray; ownBuffer: boolean }[];
  /** Shared variables the kernels read: synced to the device before each call. */
  shared: SharedVariable[];
  updates: { target: SharedVariable; value: Variable; buffer: GPUBuffer; bytes: number }[];
  /** Intermediate buffers owned by the plan (freed when the plan is dropped). */
  owned: GPUBuffer[];
  /** Where its gathers flag out-of-range indices, if any checks them. */
  indexErrors?: IndexErrorSlots;
}

export interface PlanContext {
  device: GPUDevice;
  store: SharedStore;
  maxBuffers: number;
  maxBindingBytes: number;
  fuse: boolean;
  /** The device has the 'subgroups' feature and the tuning allows it (reductions use it). */
  subgroups: boolean;
  tuning: Tuning;
  /** Gathers flag out-of-range indices (compile's checkIndices). */
  checkIndices: boolean;
  /** The plan's flags, once buildPlan has made them (bind groups bind a slice per pass). */
  indexErrors?: IndexErrorSlots;
  pipelines: Map<string, GPUComputePipeline>;
  onShader?: (label: string, code: string) => void;
}

/** The device-free part of a plan: the specialized graph, its kernels and their WGSL. */
export interface Draft {
  specialized: Variable[];
  inputs: Map<Variable, Variable>;
  partition: ReturnType<typeof partition>;
  /** Each kernel's passes, in the order they run. */
  rendered: Map<Kernel, RenderedPass[]>;
  /** The loop of each scan kernel that runs one (the first of its output nodes). */
  loops: Map<Kernel, LoopDraft>;
}

/** A scan's loop before buffers: its body as a graph of its own, drafted for the step's shapes. */
export interface LoopDraft {
  body: ScanBody;
  /** The loop's inputs in the instantiated outer graph: [nSteps, ...sequences, ...initials, ...nonSequences]. */
  inputs: readonly Variable[];
  steps: number;
  /** The loop's output nodes in the outer partition, by output index (others have none). */
  nodes: Map<number, Variable>;
  draft: Draft;
}

/** Copies of rows between buffers, in bytes. */
export interface RowCopy {
  source: GPUBuffer;
  target: GPUBuffer;
  sourceOffset: number;
  targetOffset: number;
  bytes: number;
}

/**
 * A loop ready to record: what to copy in before the first step, the body's kernels and
 * the copies around them at each step (their offsets depend on the step), and what to
 * copy out after the last. Outer buffers are named by variable (a call may substitute
 * device tensors for them).
 */
export interface PlannedLoop {
  steps: number;
  /** Outer values copied whole into loop buffers before the first step (initial values, non-sequences). */
  before: { source: Variable; target: GPUBuffer; targetOffset: number; bytes: number }[];
  /** Rows of outer sequences copied into the step's buffers: row(t) of `source`. */
  sequences: { source: Variable; target: GPUBuffer; rowBytes: number; row: (t: number) => number }[];
  /** Rows of loop buffers copied before (taps) and after (outputs) the body at step t. */
  beforeStep: (t: number) => RowCopy[];
  afterStep: (t: number) => RowCopy[];
  body: PlannedKernel[];
  /** Copies into the outer output nodes' buffers after the last step. */
  after: RowCopy[];
  /** The outer graph's buffer of a variable, as planned (a call may substitute its own). */
  resolve: (variable: Variable) => GPUBuffer;
}


/** Creates a storage buffer for a variable, refusing one the device cannot bind. */
export type MakeBuffer = (variable: Variable, label: string) => GPUBuffer;
