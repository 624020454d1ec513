// Minibatches on the host: a data set is one NDArray per model input, all with the
// examples along axis 0; a batch gathers the same rows from each. The order of an epoch
// is a permutation drawn from (seed, 'shuffle', epoch) alone, so any epoch's batches can
// be rebuilt without replaying the ones before it (what resuming needs).
// The last partial batch is either kept (it runs as its own shape: compile() builds and
// caches a second plan for it) or dropped.
// Left out: sampling with replacement, class-balanced sampling, streaming from disk.

import { NDArray } from '@theorbo/graph';
import { SeededRandom } from '../random/seeded-random.ts';

export type LastBatch = 'keep' | 'drop';

/** The number of examples in a data set, after checking that every array has the same count along axis 0. */
export function exampleCount(arrays: readonly NDArray[], where: string): number {
  if (arrays.length === 0) throw new Error(`${where}: the data set has no arrays; give one array per model input`);
  const count = arrays[0]!.shape[0];
  arrays.forEach((array, i) => {
    if (!(array instanceof NDArray)) throw new Error(`${where}: array ${i} is not an NDArray (build it with T.array(data, { shape, dtype }))`);
    if (array.ndim === 0) throw new Error(`${where}: array ${i} is a scalar; every array needs the examples along axis 0`);
    if (array.shape[0] !== count) {
      throw new Error(`${where}: array ${i} has ${array.shape[0]} examples along axis 0 but array 0 has ${count}; every array must hold the same examples`);
    }
  });
  return count ?? 0;
}

/** Rows `indices` of `array` (along axis 0), copied into a new array. */
export function takeRows(array: NDArray, indices: ArrayLike<number>): NDArray {
  const rowSize = array.shape.slice(1).reduce((product, size) => product * size, 1);
  const Constructor = array.data.constructor as new (length: number) => typeof array.data;
  const data = new Constructor(indices.length * rowSize);
  for (let i = 0; i < indices.length; i++) {
    const start = indices[i]! * rowSize;
    data.set(array.data.subarray(start, start + rowSize), i * rowSize);
  }
  return new NDArray(array.dtype, [indices.length, ...array.shape.slice(1)], data);
}

/** The row indices of each batch of an epoch: shuffled from (seed, epoch), or in order. */
export function epochBatches(count: number, batchSize: number, lastBatch: LastBatch, seed: number, epoch: number, shuffle: boolean): Int32Array[] {
  const order = shuffle ? SeededRandom.derive(seed, 'shuffle', epoch).permutation(count) : Int32Array.from({ length: count }, (_, i) => i);
  const batches: Int32Array[] = [];
  for (let start = 0; start < count; start += batchSize) {
    const batch = order.subarray(start, Math.min(start + batchSize, count));
    if (batch.length < batchSize && lastBatch === 'drop') break;
    batches.push(batch);
  }
  return batches;
}

/** The number of batches per epoch, for schedules and progress. */
export function batchesPerEpoch(count: number, batchSize: number, lastBatch: LastBatch): number {
  return lastBatch === 'drop' ? Math.floor(count / batchSize) : Math.ceil(count / batchSize);
}
