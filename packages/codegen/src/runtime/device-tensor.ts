// A tensor that stays on the device: compiled functions can return these (so the next
// call reads them without a round trip) and take them as inputs. `read()` copies to the host.

import type { DType, NDArray } from '@theorbo/graph';
import { fromWords, stageReadback } from './gpu.ts';
import type { Runtime } from './runtime.ts';

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

  /** Resolves once the device accepted the commands that wrote this tensor; rejects if it refused them. */
  accepted(): Promise<void> {
    return this.#checked;
  }

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  async read(): Promise<NDArray> {
    if (this.#host) return this.#host;
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
    if (!this.#host) throw new Error('DeviceTensor.hostCopy: await read() first');
    return this.#host;
  }

  /** Gives the buffer back (to the runtime's pool, for the next outputs of its size); a second call does nothing. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.runtime.releaseBuffer(this.buffer);
  }
  #destroyed = false;
}
