// A host value made into a DeviceTensor of a device, once, so that calls bind it as an
// input instead of copying it each time (what `outputsOnDevice` outputs already are).

import { GraphError, type NDArray } from '@theorbo/graph';
import type { AcquiredDevice } from '../device.ts';
import { DeviceTensor } from './device-tensor.ts';
import { byteSize, upload } from './gpu.ts';
import { runtimeFor } from './runtime.ts';

/**
 * `value` as a tensor of `device`: a buffer of a WebGPU device, a region of the cpu
 * device's memory, or the value itself on the reference evaluator. `destroy()` gives it back.
 */
export function toDevice(device: AcquiredDevice, value: NDArray): DeviceTensor {
  switch (device.kind) {
    case 'reference':
      return DeviceTensor.onHost(value);
    case 'cpu': {
      const { view } = device.cpu.memory.region(value.dtype, value.size);
      view.set(value.data);
      return DeviceTensor.onCpu(device.cpu.memory, view, value.dtype, value.shape);
    }
    default: {
      if (value.dtype === 'float64') throw new GraphError('toDevice', `a float64[${value.shape.join(',')}] value cannot go to a WebGPU device (it has no float64)`, undefined);
      const runtime = runtimeFor(device);
      const buffer = runtime.takeBuffer(byteSize(value.size), 'toDevice');
      upload(device.device, buffer, value);
      return new DeviceTensor(runtime, buffer, value.dtype, value.shape);
    }
  }
}
