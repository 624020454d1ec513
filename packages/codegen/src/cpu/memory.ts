// The cpu device's memory: one shared WebAssembly.Memory that every buffer of every plan
// lives in, so that WebAssembly kernels (by byte offset), JS kernels (by typed-array
// view) and the worker threads all see the same bytes without copies. Regions are
// 64-byte aligned (cache lines, and v128 loads never straddle one); a plan's buffers are
// taken once when the plan is built (`owned` records them) and given back when the plan
// is dropped (cpu/calls.ts: a compiled function released, reacquired or collected). Freed
// regions are reused best fit and merge with free neighbours; one that reaches the top
// lowers it. Views over a shared memory stay valid after it grows (a shared buffer is
// never detached). Left out: moving live regions (no compaction); the WebAssembly memory
// itself never shrinks, its freed bytes are reused.

import { allocate, type DType, type TypedArray } from '@theorbo/graph';

const page = 65536;
/** 4 GiB of address space: the most a 32-bit WebAssembly memory can address. */
const maximumPages = 65536;
const align = 64;

export class CpuMemory {
  readonly memory: WebAssembly.Memory;
  /** Freed regions: byte offset → size, and end → offset (neighbours merge). */
  private readonly free = new Map<number, number>();
  private readonly freeEnds = new Map<number, number>();
  private top = align;
  /** The highest top so far: bytes above it are fresh pages (zero), bytes below may hold old values. */
  private highWater = align;
  /** While a plan is built: the regions it takes (the innermost owner's list). */
  private readonly owners: { offset: number; bytes: number }[][] = [];
  /**
   * Called once when a region would not fit in the 4 GiB: it may give regions back (the
   * plans of compiled functions not running now, cpu/calls.ts), and the region is tried again.
   */
  onPressure: (() => void) | undefined;

  private readonly maximumPages: number;

  /** `maximumBytes` below 4 GiB makes a small memory (tests of memory pressure). */
  constructor(initialBytes = 16 * 2 ** 20, maximumBytes = maximumPages * page) {
    this.maximumPages = Math.min(maximumPages, Math.ceil(maximumBytes / page));
    this.memory = new WebAssembly.Memory({ initial: Math.ceil(initialBytes / page), maximum: this.maximumPages, shared: true });
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
      this.freeEnds.delete(best + bestLength);
      if (bestLength > size) {
        this.free.set(best + size, bestLength - size);
        this.freeEnds.set(best + bestLength, best + size);
      }
      this.owners.at(-1)?.push({ offset: best, bytes: size });
      if (this.owners.length > 0) this.zero(best, size);
      return best;
    }
    const offset = this.top;
    const end = offset + size;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / page);
      if (have / page + pages > this.maximumPages) {
        const relieve = this.onPressure;
        if (relieve) {
          this.onPressure = undefined;
          try {
            relieve();
            return this.take(bytes);
          } finally {
            this.onPressure = relieve;
          }
        }
        throw new RangeError(`the cpu device needs ${formatBytes(end)} of memory, more than the ${formatBytes(this.maximumPages * page)} ${this.maximumPages === maximumPages ? 'a WebAssembly memory can address' : 'this memory was made with'}`);
      }
      // Grow by a quarter at least, so that many small plans do not grow it page by page.
      this.memory.grow(Math.min(this.maximumPages - have / page, Math.max(pages, Math.ceil(have / page / 4))));
    }
    this.top = end;
    if (offset < this.highWater && this.owners.length > 0) this.zero(offset, Math.min(end, this.highWater) - offset);
    this.highWater = Math.max(this.highWater, end);
    this.owners.at(-1)?.push({ offset, bytes: size });
    return offset;
  }

  /**
   * A plan's region (taken while it is built) that held something before reads as fresh
   * memory does, zeros: kernels may count on it, as they could before plans gave regions
   * back. A device tensor's region is written whole by its call, so it is not cleared (a
   * loop's outputs reuse theirs every call).
   */
  private zero(offset: number, bytes: number): void {
    new Uint8Array(this.memory.buffer as unknown as ArrayBuffer, offset, bytes).fill(0);
  }

  /** Gives a region back: it merges with free neighbours, and lowers the top if it reaches it. */
  give(offset: number, bytes: number): void {
    let start = offset;
    let length = Math.max(align, Math.ceil(bytes / align) * align);
    const after = this.free.get(start + length);
    if (after !== undefined) {
      this.free.delete(start + length);
      this.freeEnds.delete(start + length + after);
      length += after;
    }
    const before = this.freeEnds.get(start);
    if (before !== undefined) {
      this.freeEnds.delete(start);
      length += this.free.get(before)!;
      this.free.delete(before);
      start = before;
    }
    if (start + length === this.top) {
      this.top = start;
      return;
    }
    this.free.set(start, length);
    this.freeEnds.set(start + length, start);
  }

  /** `build`'s result and every region taken while it ran (not those of an inner `owned` or `unowned`): a plan's buffers, to give back when it is dropped. */
  owned<T>(build: () => T): { value: T; regions: { offset: number; bytes: number }[] } {
    const regions: { offset: number; bytes: number }[] = [];
    this.owners.push(regions);
    try {
      return { value: build(), regions };
    } catch (error) {
      // Only the plan that failed to build refers to them.
      for (const { offset, bytes } of regions.splice(0)) this.give(offset, bytes);
      throw error;
    } finally {
      this.owners.pop();
    }
  }

  /** `take` outside any plan's ownership (a shared variable's region, a cache of the device's own). */
  unowned<T>(take: () => T): T {
    const regions: { offset: number; bytes: number }[] = [];
    this.owners.push(regions);
    try {
      return take();
    } finally {
      this.owners.pop();
    }
  }

  /** Bytes from the start to the top (what the memory must hold now); for tests and diagnostics. */
  get used(): number {
    return this.top;
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
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
