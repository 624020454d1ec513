// A tensor that stays on the device: compiled functions can return these (so the next
// call reads them without a round trip) and take them as inputs. `read()` copies to the host.
// On the cpu device a tensor is a region of the device's memory: a call binds it as an
// input without copying it, and `destroy()` gives the region back.

import { NDArray, type DType, type TypedArray } from '@theorbo/graph';
import { copyOut, type CpuMemory } from '../cpu/memory.ts';
import { fromWords, stageReadback } from './gpu.ts';
import type { Runtime } from './runtime.ts';

/** Where a cpu device tensor lives: its memory, and its region's view. */
export interface CpuResidence {
  memory: CpuMemory;
  view: TypedArray;
}

export class DeviceTensor {
  #host: NDArray | undefined;
  /**
   * Set once the device refused the commands of the call that wrote this tensor: the
   * buffer then holds stale values, and reading it or passing it to a call is an error.
   */
  refused: Error | undefined;
  #checked: Promise<void>;

  /** `checked` resolves once the device accepted the writing call's commands (it rejects if refused). */
  constructor(readonly runtime: Runtime, readonly buffer: GPUBuffer, readonly dtype: DType, readonly shape: readonly number[], checked: Promise<void> = Promise.resolve()) {
    this.#checked = checked.catch((error: Error) => {
      this.refused = error;
      throw error;
    });
    this.#checked.catch(() => {}); // reported by read() and by the next call that takes it
  }

  /** A tensor of the cpu device, whose memory is the host's: it holds its value already. */
  static onHost(value: NDArray): DeviceTensor {
    const tensor = new DeviceTensor(undefined as unknown as Runtime, undefined as unknown as GPUBuffer, value.dtype, value.shape);
    tensor.#host = value;
    tensor.#destroyed = true;
    return tensor;
  }

  /** A tensor in the cpu device's memory (the region is the tensor's until `destroy()`). */
  static onCpu(memory: CpuMemory, view: TypedArray, dtype: DType, shape: readonly number[]): DeviceTensor {
    const tensor = new DeviceTensor(undefined as unknown as Runtime, undefined as unknown as GPUBuffer, dtype, shape);
    tensor.#cpu = { memory, view };
    return tensor;
  }

  /** The cpu device's region of this tensor, if it lives there and has not been destroyed. */
  get cpu(): CpuResidence | undefined {
    if (this.#cpu && this.#destroyed) throw new Error(`this device tensor (${this.dtype}[${this.shape.join(',')}]) was destroyed: its memory may hold another tensor now`);
    return this.#cpu;
  }
  #cpu: CpuResidence | undefined;

  /** Resolves once the device accepted the commands that wrote this tensor; rejects if it refused them. */
  accepted(): Promise<void> {
    return this.#checked;
  }

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  async read(): Promise<NDArray> {
    if (this.#host) return this.#host;
    if (this.#cpu) return this.hostCopy();
    await this.#checked;
    const device = this.runtime.descriptor.device as GPUDevice;
    const encoder = device.createCommandEncoder();
    const read = stageReadback(device, encoder, this.buffer, this.buffer.size);
    device.queue.submit([encoder.finish()]);
    this.#host = fromWords(await read(), this.dtype, this.shape);
    return this.#host;
  }

  /** The host copy, for the reference device (where no buffer exists, `read()` must have run). */
  hostCopy(): NDArray {
    const cpu = this.#host ? undefined : this.cpu;
    if (cpu) this.#host = new NDArray(this.dtype, [...this.shape], copyOut(cpu.view));
    if (!this.#host) throw new Error('DeviceTensor.hostCopy: await read() first');
    return this.#host;
  }

  /** Gives the buffer back (to the runtime's pool, for the next outputs of its size); a second call does nothing. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    if (this.#cpu) this.#cpu.memory.give(this.#cpu.view.byteOffset, this.#cpu.view.byteLength);
    else this.runtime.releaseBuffer(this.buffer);
  }
  #destroyed = false;
}
