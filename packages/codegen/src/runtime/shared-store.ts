// Shared variables on a device: one buffer per shared variable per device, uploaded
// when the host value changed (its `version`), marked newer than the host after a
// compiled function updates it, and read back on request. This is what lets a training
// loop keep its parameters on the GPU between calls.

import { NDArray, SharedVariable } from '@theorbo/graph';
import { byteSize, fromWords, stageReadback, storageUsage, upload } from './gpu.ts';

interface Resident {
  buffer: GPUBuffer;
  /** The host version last uploaded; −1 forces an upload. */
  version: number;
  /** Bumped by every device-side update, so a read-back knows whether it is still the latest. */
  updates: number;
}

/** The store that last updated each shared variable on a device (for readShared). */
export const homes = new WeakMap<SharedVariable, SharedStore>();

export class SharedStore {
  private readonly residents = new Map<SharedVariable, Resident>();
  constructor(readonly device: GPUDevice) {}

  /** The device buffer of `shared`, uploading the host value if it changed since. */
  buffer(shared: SharedVariable): GPUBuffer {
    let resident = this.residents.get(shared);
    if (!resident) {
      const buffer = this.device.createBuffer({ size: byteSize(shared.type.size ?? 0), usage: storageUsage, label: shared.name ?? 'shared' });
      resident = { buffer, version: -1, updates: 0 };
      this.residents.set(shared, resident);
    }
    if (resident.version !== shared.version && !shared.deviceNewer) {
      upload(this.device, resident.buffer, shared.hostValue());
      resident.version = shared.version;
    }
    return resident.buffer;
  }

  /** Records that a compiled function wrote a new value on the device. */
  markUpdated(shared: SharedVariable): void {
    shared.deviceNewer = `${shared.name ?? 'this shared variable'} was updated on the device by a compiled function; read it with \`await readShared(${shared.name ?? 'variable'})\` first`;
    const resident = this.residents.get(shared)!;
    homes.set(shared, this);
    resident.version = shared.version;
    resident.updates++;
  }

  /** Reads the device value back and makes it the host's value. */
  async read(shared: SharedVariable): Promise<NDArray> {
    const resident = this.residents.get(shared);
    if (!resident || !shared.deviceNewer) return shared.get();
    const encoder = this.device.createCommandEncoder();
    const read = stageReadback(this.device, encoder, resident.buffer, resident.buffer.size);
    this.device.queue.submit([encoder.finish()]);
    const updates = resident.updates;
    const value = fromWords(await read(), shared.dtype, shared.shape as number[]);
    // A call queued after this read updated it again: the host stays behind the device.
    if (shared.deviceNewer && resident.updates === updates) shared.setFromDevice(value);
    return value;
  }

  /** Shared variables whose only current value is on this device. */
  deviceOnly(): SharedVariable[] {
    return [...this.residents.keys()].filter((shared) => shared.deviceNewer);
  }

  forget(): void {
    this.residents.clear();
  }
}
