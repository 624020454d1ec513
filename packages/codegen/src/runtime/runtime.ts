// The runtime of one acquired device: its shared-variable store, its pipeline cache,
// and the error handling around device work — validation and out-of-memory errors
// become sentences naming what was being done, and a lost device is replaced by a new
// one on the next call, with shared variables restored from their last host copies.

import { acquireDevice, releaseDevices, type AcquiredDevice, type WebGpuDescriptor } from '../device.ts';
import { DeviceLostError, DeviceMemoryError, WgslError } from './errors.ts';
import type { PlanContext } from './plan.ts';
import type { Tuning } from '../tuning.ts';
import { SharedStore } from './shared-store.ts';

const runtimes = new WeakMap<object, Runtime>();

export function runtimeFor(descriptor: AcquiredDevice): Runtime {
  const key = descriptor.device ?? descriptor;
  let runtime = runtimes.get(key);
  if (!runtime) runtimes.set(key, (runtime = new Runtime(descriptor)));
  return runtime;
}

const pooledLimit = 2 ** 31;

export class Runtime {
  readonly store: SharedStore;
  readonly pipelines = new Map<string, GPUComputePipeline>();
  /** Buffers of destroyed device tensors, by size, for the next outputs (allocation and zeroing cost). */
  private readonly pool = new Map<number, GPUBuffer[]>();
  private pooledBytes = 0;
  constructor(public descriptor: AcquiredDevice) {
    this.store = new SharedStore(descriptor.device as GPUDevice);
  }

  /** What plans for this device need: its limits, caches, and the function's tuning. */
  planContext(tuning: Tuning, options: { debug?: boolean; fuse?: boolean; checkIndices?: boolean } = {}): PlanContext {
    const descriptor = this.descriptor as WebGpuDescriptor;
    return {
      device: descriptor.device,
      store: this.store,
      maxBuffers: descriptor.limits.maxStorageBuffersPerShaderStage,
      maxBindingBytes: descriptor.limits.maxStorageBufferBindingSize,
      fuse: options.fuse ?? true,
      checkIndices: options.checkIndices ?? true,
      subgroups: descriptor.features.includes('subgroups') && tuning.subgroups,
      tuning,
      pipelines: this.pipelines,
      onShader: options.debug ? (label, code) => console.log(`\n// ---- ${label} ----\n${code}`) : undefined,
    };
  }

  /** A storage buffer of `bytes` for an output tensor: a pooled one if any. */
  takeBuffer(bytes: number, label: string): GPUBuffer {
    const pooled = this.pool.get(bytes)?.pop();
    if (pooled) {
      this.pooledBytes -= pooled.size;
      return pooled;
    }
    return (this.descriptor as WebGpuDescriptor).device.createBuffer({ size: bytes, usage: 0x80 | 0x4 | 0x8, label });
  }

  /**
   * Takes back the buffer of a destroyed device tensor. Queue order makes reuse safe: work
   * submitted later runs after the work already submitted that reads it.
   */
  releaseBuffer(buffer: GPUBuffer): void {
    const list = this.pool.get(buffer.size) ?? [];
    if (list.includes(buffer)) return; // given back twice: one copy in the pool is enough
    // A loop that keeps a few calls in flight cycles through that many buffers: keep up to
    // 32 of a size, within 2 GiB in all (allocating a large buffer costs milliseconds).
    if (list.length < 32 && this.pooledBytes + buffer.size <= pooledLimit) {
      list.push(buffer);
      this.pool.set(buffer.size, list);
      this.pooledBytes += buffer.size;
    } else {
      buffer.destroy();
    }
  }

  /** Throws a sentence if the device was lost; the next compile() call acquires a new one. */
  checkUsable(): void {
    const lost = (this.descriptor as WebGpuDescriptor).lost;
    if (lost) {
      const reverted = this.store.deviceOnly().map((shared) => shared.name ?? 'unnamed');
      throw new DeviceLostError(`the ${this.descriptor.kind} device was lost (${lost.reason}: ${lost.message}); call reacquire() to continue on a new device${reverted.length ? `, where ${reverted.join(', ')} restart from their last host copies` : ''}`);
    }
  }

  /** Runs device work inside validation and out-of-memory error scopes. */
  async guard<T>(what: string, work: () => T): Promise<T> {
    const device = (this.descriptor as WebGpuDescriptor).device;
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    let result: T;
    try {
      result = work();
    } finally {
      const validation = await device.popErrorScope();
      const memory = await device.popErrorScope();
      if (memory) throw new DeviceMemoryError(`out of device memory while ${what}: ${memory.message}`);
      if (validation && /WGSL|ShaderModule/.test(validation.message)) {
        throw new WgslError(`a generated kernel does not compile (a Theorbo bug; please report it with this message):\n${validation.message}`);
      }
      if (validation) throw new Error(`WebGPU rejected the work while ${what}: ${validation.message}`);
    }
    return result;
  }

  async guardAsync<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      this.checkUsable();
      throw new Error(`${what} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

/**
 * Replaces a lost device: releases the old one, acquires a new one of the same kind, and
 * makes every shared variable that lived only on the old device current on the host
 * again (its last host copy; the device-side updates since are lost).
 */
export async function reacquire(old: Runtime): Promise<Runtime> {
  for (const shared of old.store.deviceOnly()) shared.setFromDevice(shared.hostValue());
  old.store.forget();
  await releaseDevices();
  const descriptor = await acquireDevice({ prefer: old.descriptor.kind });
  return runtimeFor(descriptor);
}

