// A compiled function's calls on the cpu device: one plan per input signature, built on
// the first call. Device tensors of this device's memory are bound without a copy: with
// `outputsOnDevice` each output gets a region of its own (the returned tensor's until
// `destroy()`), and a plan is built with the inputs' and outputs' regions as its buffers.
// A loop that gives its outputs back before the next call finds the same regions again,
// and so the same plan. At most `boundPlans` such plans per signature: a call with other
// regions runs the first plan and copies inputs in and outputs out within the device
// memory (no new plan). Host outputs are copied into fresh host arrays. Each plan's
// buffers (inputs, intermediates, outputs, constants; not shared variables' or bound
// device tensors' regions) are recorded when it is built and given back to the device
// memory by release(): the compiled function's release(), a reacquire, its collection by
// the garbage collector (compile.ts), or memory pressure: when a region would not fit in
// the 4 GiB, every other function's plans are given back (they are built again at their
// next call; calls on the cpu device run to completion within one turn, so no other plan
// is running then).

import { GraphError, type NDArray, type SharedVariable, type TypedArray, type Variable } from '@theorbo/graph';
import { DeviceTensor } from '../runtime/device-tensor.ts';
import type { Tuning } from '../tuning.ts';
import type { CpuMemory } from './memory.ts';
import { buildCpuPlan, hostOutput, runCpuPlan, type CpuDeviceParts, type CpuPlan } from './plan.ts';

/** Plans per signature that bind device tensors (each holds its own intermediate buffers). */
const boundPlans = 2;

export interface CpuCallSpec {
  inputs: readonly Variable[];
  outputs: readonly Variable[];
  updates: readonly (readonly [SharedVariable, Variable])[];
  fuse: boolean;
  outputsOnDevice: boolean;
}

/** A call's arguments: the device, tuning, input values, their signature key, mode, profile and a hook on a new plan. */
type CallArguments = [
  cpu: CpuDeviceParts,
  tuning: Tuning,
  values: readonly (NDArray | DeviceTensor)[],
  key: string,
  mode: 'fast' | 'nanguard' | 'profile',
  profile: Map<string, { calls: number; ms: number }>,
  onBuild?: (plan: CpuPlan) => void,
];

/** Every live function's calls, for memory pressure (weakly: a collected function is released by compile.ts's registry, and its entry dropped by `forgotten`). */
const everyCalls = new Set<WeakRef<CpuCalls>>();
const forgotten = new FinalizationRegistry<WeakRef<CpuCalls>>((ref) => everyCalls.delete(ref));
const relieved = new WeakSet<CpuMemory>();

/** Installs the pressure hook on a device memory once: gives back the plans of every function not in a call now. */
function relieveOn(memory: CpuMemory): void {
  if (relieved.has(memory)) return;
  relieved.add(memory);
  memory.onPressure = () => {
    for (const ref of everyCalls) {
      const calls = ref.deref();
      if (calls !== undefined && !calling.includes(calls)) calls.release();
    }
  };
}
/** The functions whose calls are running (their plans are in use). */
const calling: CpuCalls[] = [];

export class CpuCalls {
  private readonly plans = new Map<string, CpuPlan>();
  private readonly bindings = new Map<string, number>();
  /** Each plan's regions of the device memory, and that memory. */
  private readonly regions: { memory: CpuMemory; offset: number; bytes: number }[] = [];
  last: CpuPlan | undefined;

  constructor(private readonly spec: CpuCallSpec) {
    const ref = new WeakRef(this);
    everyCalls.add(ref);
    forgotten.register(this, ref);
  }

  call(...args: CallArguments): (NDArray | DeviceTensor)[] {
    relieveOn(args[0].memory);
    calling.push(this);
    try {
      return this.run(...args);
    } finally {
      calling.pop();
    }
  }

  private run(...[cpu, tuning, values, key, mode, profile, onBuild]: CallArguments): (NDArray | DeviceTensor)[] {
    const { inputs } = this.spec;
    // Each input: a host value, or a region of this device's memory.
    const given = values.map((value, i): NDArray | TypedArray => {
      if (!(value instanceof DeviceTensor)) return value;
      const input = inputs[i]!;
      let residence;
      try {
        residence = value.cpu;
      } catch (error) {
        throw new GraphError('function', `input ${input.name ?? i}: ${(error as Error).message}`, input.location);
      }
      return residence && residence.memory === cpu.memory ? residence.view : value.hostCopy();
    });
    const base = this.plans.get(key) ?? this.build(cpu, tuning, values, {}, key, onBuild);
    // Device outputs: a region each, which the plan's kernels write if it was built for them.
    const regions = this.spec.outputsOnDevice
      ? base.outputs.map(({ variable, view }) => (view ? cpu.memory.region(variable.dtype, view.length).view : undefined))
      : [];
    try {
      const places = [
        ...given.flatMap((value, i) => (isView(value) ? [`in${i}@${value.byteOffset}`] : [])),
        ...regions.flatMap((region, i) => (region ? [`out${i}@${region.byteOffset}`] : [])),
      ];
      let plan = base;
      let bound: ReadonlyMap<number, TypedArray> | undefined;
      if (places.length > 0) {
        const boundKey = `${key} bound ${places.join(',')}`;
        const made = this.bindings.get(key) ?? 0;
        const variant = this.plans.get(boundKey);
        if (variant || made < boundPlans) {
          bound = new Map(given.flatMap((value, i) => (isView(value) ? [[i, value] as const] : [])));
          const boundOutputs = new Map(regions.flatMap((region, i) => (region ? [[i, region] as const] : [])));
          plan = variant ?? this.build(cpu, tuning, values, { bound, boundOutputs }, boundKey, onBuild);
          if (!variant) this.bindings.set(key, made + 1);
        }
      }
      this.last = plan;
      const feed = given.map((value, i) => (bound?.has(i) ? undefined : isView(value) ? value : value.data));
      const results = runCpuPlan(plan, cpu.store, feed, mode, profile);
      if (!this.spec.outputsOnDevice) return results.map(hostOutput);
      return results.map(({ variable, view, constant }, i) => {
        if (constant) return DeviceTensor.onHost(constant);
        const region = regions[i]!;
        if (!plan.boundOutputs.has(i)) region.set(view!);
        return DeviceTensor.onCpu(cpu.memory, region, variable.dtype, variable.shape as number[]);
      });
    } catch (error) {
      // The call's output regions would otherwise belong to nobody.
      for (const region of regions) if (region) cpu.memory.give(region.byteOffset, region.byteLength);
      throw error;
    }
  }

  /** Drops every plan and gives its buffers back to the device memory; the next call builds again. */
  release(): void {
    for (const { memory, offset, bytes } of this.regions.splice(0)) memory.give(offset, bytes);
    this.plans.clear();
    this.bindings.clear();
    this.last = undefined;
  }

  /** The device memory this function's plans hold now, in bytes. */
  get heldBytes(): number {
    return this.regions.reduce((sum, region) => sum + region.bytes, 0);
  }

  private build(
    cpu: CpuDeviceParts, tuning: Tuning, values: readonly (NDArray | DeviceTensor)[],
    binding: { bound?: ReadonlyMap<number, TypedArray>; boundOutputs?: ReadonlyMap<number, TypedArray> }, key: string, onBuild?: (plan: CpuPlan) => void,
  ): CpuPlan {
    const { inputs, outputs, updates, fuse } = this.spec;
    const shapes = new Map(inputs.map((input, i) => [input, values[i]!.shape] as const));
    const { value: plan, regions } = cpu.memory.owned(() => buildCpuPlan(cpu, outputs, updates, shapes, { fuse, tuning, ...binding }));
    for (const region of regions) this.regions.push({ memory: cpu.memory, ...region });
    this.plans.set(key, plan);
    onBuild?.(plan);
    return plan;
  }
}

const isView = (value: NDArray | TypedArray): value is TypedArray => ArrayBuffer.isView(value);
