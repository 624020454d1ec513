// The bandwidth roofline for elementwise work on the CPU: the machine's copy bandwidth,
// measured with Float32Array.prototype.set over buffers far larger than any cache, on one
// thread and on every core (worker threads copying slices of a SharedArrayBuffer, the
// main thread one of them), the best of several copies each. Its row in a workload's
// table is the time a copy at that bandwidth takes to move the workload's bytes (x in,
// y out), so "% of CPU copy" is the fraction of the machine's copy bandwidth a row reaches.
// It checks a copy of x made the same way (y == x) before it reports a number.
// Left out: non-temporal stores and prefetching (JavaScript offers neither); a workload
// small enough to stay in cache may run above 100%.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { compare, type Impl, type Prepared, type Workload } from '../harness.ts';

/** Each buffer (source and destination): 128 MiB, beyond the last-level cache of any CPU we run on. */
const bufferFloats = 32 * 2 ** 20;
const samples = 6;

export interface CopyBandwidth {
  /** Bytes read plus bytes written per second, best sample: one thread, and every core. */
  oneThread: number;
  allCores: number;
  threads: number;
}

// A worker copies its slice when told and answers; started once per measurement.
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const source = new Float32Array(workerData.source);
const destination = new Float32Array(workerData.destination);
parentPort.on('message', ({ start, end }) => {
  destination.subarray(start, end).set(source.subarray(start, end));
  parentPort.postMessage(0);
});`;

/** Copy bandwidth (read + write bytes per second), best of `samples` copies per way. */
export async function measureCopyBandwidth(threads = availableParallelism()): Promise<CopyBandwidth> {
  const source = new Float32Array(new SharedArrayBuffer(4 * bufferFloats));
  const destination = new Float32Array(new SharedArrayBuffer(4 * bufferFloats));
  for (let i = 0; i < bufferFloats; i += 1024) source[i] = i; // touch every page
  destination.set(source);
  const bytesMoved = 2 * source.byteLength;
  const best = async (copy: () => void | Promise<void>) => {
    let fastest = Infinity;
    for (let i = 0; i < samples; i++) {
      const started = performance.now();
      await copy();
      fastest = Math.min(fastest, performance.now() - started);
    }
    return bytesMoved / (fastest / 1000);
  };
  const oneThread = await best(() => destination.set(source));
  if (threads < 2) return { oneThread, allCores: oneThread, threads: 1 };
  const workers = Array.from({ length: threads - 1 }, () => new Worker(workerSource, { eval: true, workerData: { source: source.buffer, destination: destination.buffer } }));
  try {
    await Promise.all(workers.map((worker) => new Promise((resolve) => worker.once('online', resolve))));
    const slice = Math.ceil(bufferFloats / threads);
    const allCores = await best(async () => {
      const done = workers.map((worker, i) => {
        const answered = new Promise((resolve) => worker.once('message', resolve));
        worker.postMessage({ start: (i + 1) * slice, end: Math.min(bufferFloats, (i + 2) * slice) });
        return answered;
      });
      destination.subarray(0, slice).set(source.subarray(0, slice));
      await Promise.all(done);
    });
    return { oneThread, allCores, threads };
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

const gbPerSecond = (bytesPerSecond: number) => `${(bytesPerSecond / 1e9).toFixed(1)} GB/s`;

export function cpuCopyRoofline(): Impl {
  return {
    name: 'copy roofline (CPU)',
    role: 'cpu-roofline',
    check: (workload, outputs) => compare(outputs[0], workload.inputs[0]!.data, () => 0),
    prepare: async (workload: Workload): Promise<Prepared> => {
      if (workload.bytes === undefined) return { unavailable: 'the workload states no bytes moved' };
      const x = workload.inputs[0]!.data as Float32Array;
      const copy = new Float32Array(x.length);
      copy.set(x);
      const bandwidth = await measureCopyBandwidth();
      const best = Math.max(bandwidth.oneThread, bandwidth.allCores);
      return {
        external: true, outputs: [copy], iterations: samples,
        repeatsMs: [(1000 * workload.bytes) / best],
        note: `the workload's bytes at the machine's copy bandwidth: Float32Array.set over ${(4 * bufferFloats) / 2 ** 20} MiB, best of ${samples}: `
          + `1 thread ${gbPerSecond(bandwidth.oneThread)}, ${bandwidth.threads} threads ${gbPerSecond(bandwidth.allCores)}`,
      };
    },
  };
}
