// Small WebGPU helpers: the spec's flag values (Node has no GPUBufferUsage globals),
// storage buffers sized for a tensor, host↔device copies, and typed views of dtypes.

import { NDArray, type DType, type TypedArray } from '@theorbo/graph';

export const usage = { mapRead: 0x1, copySrc: 0x4, copyDst: 0x8, storage: 0x80 } as const;
export const mapModeRead = 0x1;

export const storageUsage = usage.storage | usage.copySrc | usage.copyDst;

export function byteSize(elements: number): number {
  return Math.max(4, elements * 4);
}

/** Host data as it lives in a storage buffer: 32-bit words, bool widened to u32. */
export function toWords(value: NDArray): Float32Array | Int32Array | Uint32Array {
  const data = value.data;
  if (value.dtype === 'bool') return Uint32Array.from(data as Uint8Array);
  if (value.dtype === 'float64') throw new Error('codegen: float64 values cannot go to a WebGPU device');
  return data as Float32Array | Int32Array | Uint32Array;
}

/** Words read back from a buffer, as an NDArray of `dtype` and `shape`. */
export function fromWords(words: ArrayBuffer, dtype: DType, shape: readonly number[]): NDArray {
  const count = shape.reduce((a, b) => a * b, 1);
  let data: TypedArray;
  switch (dtype) {
    case 'float32': data = new Float32Array(words, 0, count).slice(); break;
    case 'int32': data = new Int32Array(words, 0, count).slice(); break;
    case 'uint32': data = new Uint32Array(words, 0, count).slice(); break;
    case 'bool': data = Uint8Array.from(new Uint32Array(words, 0, count)); break;
    case 'float64': throw new Error('codegen: float64 values cannot come from a WebGPU device');
  }
  return new NDArray(dtype, shape, data);
}

export function upload(device: GPUDevice, buffer: GPUBuffer, value: NDArray): void {
  if (value.size === 0) return;
  const words = toWords(value);
  device.queue.writeBuffer(buffer, 0, words.buffer, words.byteOffset, words.byteLength);
}

/** Copies `buffer` to a fresh mappable buffer in `encoder`; `read()` resolves after the submit. */
export function stageReadback(device: GPUDevice, encoder: GPUCommandEncoder, buffer: GPUBuffer, bytes: number): () => Promise<ArrayBuffer> {
  const staging = device.createBuffer({ size: byteSize(bytes / 4), usage: usage.mapRead | usage.copyDst });
  encoder.copyBufferToBuffer(buffer, 0, staging, 0, staging.size);
  return async () => {
    await staging.mapAsync(mapModeRead);
    const copy = staging.getMappedRange().slice(0);
    staging.destroy();
    return copy;
  };
}
