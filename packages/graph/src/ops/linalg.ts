// matmul with numpy's semantics: a 1-D left operand is a row [1,k] and a 1-D right
// operand a column [k,1], and those added axes are removed from the result; leading
// (batch) axes broadcast by numpy's rules. dtype: the promoted dtype of the operands;
// bool @ bool is refused (numpy's logical matmul has no use here and no GPU lowering).
//
// Shapes: a [...batchA, n, k] @ b [...batchB, k, m] → [...broadcast(batchA, batchB), n, m].
//
// The reference is a plain loop with a double accumulator per output element, summing
// over k in increasing order (the i-k-j loop order keeps that per-element order while
// reading both operands row by row); float32 rounds once on store. Integer products
// and sums wrap modulo 2³² at every step. Left out: scalar operands (use mul).

import { allocate, isFloat, promote, type DType } from '../dtype.ts';
import { NDArray, sizeOf } from '../ndarray.ts';
import { broadcastShapes, formatType, type Dim, type TensorType } from '../type.ts';
import { broadcastStrides } from './elementwise.ts';
import { fail, type OpDefs } from './def.ts';

function matmulDType(a: DType, b: DType, describe: () => string): DType {
  if (a === 'bool' && b === 'bool') fail(`bool @ bool is not supported: ${describe()}; cast an operand to int32 or a float dtype first`);
  return promote(a, b);
}

/** The operands' shapes as matrices ([1,k] / [k,1] for vectors) and the result shape. */
function layout<D extends Dim>(a: readonly D[], b: readonly D[], describe: () => string) {
  if (a.length === 0 || b.length === 0) fail(`matmul needs at least one dimension on each side, got ${describe()}; use mul to scale by a scalar`);
  const left = a.length === 1 ? [1 as D, a[0]!] : a;
  const right = b.length === 1 ? [b[0]!, 1 as D] : b;
  const [n, k] = [left[left.length - 2]!, left[left.length - 1]!];
  const [kb, m] = [right[right.length - 2]!, right[right.length - 1]!];
  if (k !== null && kb !== null && k !== kb) fail(`inner dimensions differ: ${describe()} (${k} vs ${kb})`);
  const batch = broadcastShapes([left.slice(0, -2), right.slice(0, -2)]);
  if (typeof batch === 'string') fail(`batch dimensions do not broadcast: ${describe()}: ${batch}`);
  const shape: Dim[] = [...batch];
  if (a.length > 1) shape.push(n);
  if (b.length > 1) shape.push(m);
  return { left, right, batch, n, k, m, shape };
}

export const linalgDefs = {
  matmul: {
    infer: ([a, b]) => {
      const describe = () => `${a} @ ${b}`;
      return { dtype: matmulDType(a!.dtype, b!.dtype, describe), shape: layout(a!.shape, b!.shape, describe).shape };
    },
    perform: ([a, b]) => {
      const describe = () => `${formatType(a!.dtype, a!.shape)} @ ${formatType(b!.dtype, b!.shape)}`;
      const dtype = matmulDType(a!.dtype, b!.dtype, describe);
      const { left, right, batch, n, k, m, shape } = layout(a!.shape, b!.shape, describe) as {
        left: number[]; right: number[]; batch: number[]; n: number; k: number; m: number; shape: number[];
      };
      const out = allocate(dtype, sizeOf(shape));
      // Offsets of each batch's matrix: the batch strides in units of whole matrices.
      const stridesA = broadcastStrides(left.slice(0, -2), batch);
      const stridesB = broadcastStrides(right.slice(0, -2), batch);
      const batchCount = sizeOf(batch);
      const index = new Array<number>(batch.length).fill(0);
      let batchA = 0;
      let batchB = 0;
      const row = new Float64Array(m);
      const wrap = dtype === 'uint32' ? (x: number) => x >>> 0 : (x: number) => x | 0;
      const float = isFloat(dtype);
      const [dataA, dataB] = [a!.data, b!.data];
      for (let t = 0; t < batchCount; t++) {
        const baseA = batchA * n * k;
        const baseB = batchB * k * m;
        for (let i = 0; i < n; i++) {
          row.fill(0);
          for (let p = 0; p < k; p++) {
            const x = dataA[baseA + i * k + p]!;
            const offsetB = baseB + p * m;
            if (float) for (let j = 0; j < m; j++) row[j]! += x * dataB[offsetB + j]!;
            else for (let j = 0; j < m; j++) row[j] = wrap(row[j]! + Math.imul(x, dataB[offsetB + j]!));
          }
          out.set(row, (t * n + i) * m);
        }
        for (let axis = batch.length - 1; axis >= 0; axis--) {
          index[axis]!++;
          batchA += stridesA[axis]!;
          batchB += stridesB[axis]!;
          if (index[axis]! < batch[axis]!) break;
          batchA -= stridesA[axis]! * batch[axis]!;
          batchB -= stridesB[axis]! * batch[axis]!;
          index[axis] = 0;
        }
      }
      return new NDArray(dtype, shape, out);
    },
  },
} satisfies OpDefs<'matmul'>;
