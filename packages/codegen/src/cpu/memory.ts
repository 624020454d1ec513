// The cpu device's memory: one shared WebAssembly.Memory that every buffer of every plan
// lives in, so that WebAssembly kernels (by byte offset), JS kernels (by typed-array
// view) and the worker threads all see the same bytes without copies. Regions are
// 64-byte aligned (cache lines, and v128 loads never straddle one); a plan's buffers are
// taken once when the plan is built and given back when it is dropped. Views over a
// shared memory stay valid after it grows (a shared buffer is never detached).
// Left out: compaction (freed regions are reused by size, best fit; neighbours are not merged).

import { allocate, type DType, type TypedArray } from '@theorbo/graph';

const page = 65536;
/** 4 GiB of address space: the most a 32-bit WebAssembly memory can address. */
const maximumPages = 65536;
const align = 64;

export class CpuMemory {
  readonly memory: WebAssembly.Memory;
  /** Freed regions: byte offset → size. */
  private readonly free = new Map<number, number>();
  private top = align;

  constructor(initialBytes = 16 * 2 ** 20) {
    this.memory = new WebAssembly.Memory({ initial: Math.ceil(initialBytes / page), maximum: maximumPages, shared: true });
  }

  /** A region of at least `bytes`, 64-byte aligned: its byte offset. */
  take(bytes: number): number {
    const size = Math.max(align, Math.ceil(bytes / align) * align);
    // Best fit: a region freed by a tensor of the same size comes back at the same offset,
    // so a loop that gives its outputs back finds the plan bound to them (cpu/calls.ts).
    let best: number | undefined, bestLength = Infinity;
    for (const [offset, length] of this.free) {
      if (length < size || length >= bestLength) continue;
      [best, bestLength] = [offset, length];
      if (length === size) break;
    }
    if (best !== undefined) {
      this.free.delete(best);
      if (bestLength > size) this.free.set(best + size, bestLength - size);
      return best;
    }
    const offset = this.top;
    const end = offset + size;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / page);
      if (have / page + pages > maximumPages) {
        throw new RangeError(`the cpu device needs ${formatBytes(end)} of memory, more than the 4 GiB a WebAssembly memory can address`);
      }
      // Grow by a quarter at least, so that many small plans do not grow it page by page.
      this.memory.grow(Math.min(maximumPages - have / page, Math.max(pages, Math.ceil(have / page / 4))));
    }
    this.top = end;
    return offset;
  }

  give(offset: number, bytes: number): void {
    this.free.set(offset, Math.max(align, Math.ceil(bytes / align) * align));
  }

  /** A typed view of `size` elements of `dtype` at byte `offset` (bool as one byte each, as NDArray stores it). */
  view(dtype: DType, offset: number, size: number): TypedArray {
    const buffer = this.memory.buffer as unknown as ArrayBuffer;
    switch (dtype) {
      case 'float32': return new Float32Array(buffer, offset, size);
      case 'int32': return new Int32Array(buffer, offset, size);
      case 'uint32': return new Uint32Array(buffer, offset, size);
      case 'bool': return new Uint8Array(buffer, offset, size);
      case 'float64': return new Float64Array(buffer, offset, size);
    }
  }

  /** A region holding `size` elements of `dtype`, and its view. */
  region(dtype: DType, size: number): { offset: number; view: TypedArray } {
    const offset = this.take(Math.max(1, size) * bytesPer(dtype));
    return { offset, view: this.view(dtype, offset, size) };
  }
}

/**
 * A copy of a view of the device memory in ordinary memory. (`slice()` of a view over
 * shared memory copies element by element in V8, 40× slower than this block copy.)
 */
export function copyOut(view: TypedArray): TypedArray {
  const copy = new (view.constructor as new (length: number) => TypedArray)(view.length);
  copy.set(view);
  return copy;
}

export function bytesPer(dtype: DType): number {
  return allocate(dtype, 0).BYTES_PER_ELEMENT;
}

function formatBytes(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
}
