// Unpacked GEMM kernels for products too small or too thin to repay packing (matrix ·
// vector, vector · matrix, outer products, a few dozen rows): they read A and B where they
// lie, through their strides. Two forms, added to the GEMM module by matmul-wasm.ts with
// gemm's arguments (a, aRow, aCol, b, bRow, bCol, c, cRow, m, n, k), each ignoring some:
//   rows: B has unit column stride (bCol unused); each tile is R rows × W columns of C,
//     W-wide vector rows of B times splatted elements of A.
//   dots: A and B are both contiguous along k (aCol, bRow unused: a row of A, a column of
//     B, as in matrix·vector and A·Bᵀ); each entry of a tile is a 4-lane dot product
//     summed across lanes at the end.
// Partial tiles clamp their row (column) pointers to the last valid one and compute
// duplicates that are never stored, so every tile runs the same vector code. Column tails
// narrower than 4 in `rows`, and k tails shorter than 4 in `dots`, are scalar.
// Shapes and strides in bytes, as in matmul-wasm.ts. Left out: cache blocking (these shapes
// stream each operand once or nearly so).
import type { FunctionBuilder, Local } from './wasm-encode.ts';

/** `while (position + width <= limit) { body(); position += width }`. */
function whileFits(f: FunctionBuilder, position: Local, limit: Local, width: number, body: () => void): void {
  f.block((exit) => {
    f.loop((top) => {
      f.local.get(position).i32.const(width).i32.add().local.get(limit).i32.gtU().brIf(exit);
      body();
      f.local.get(position).i32.const(width).i32.add().local.set(position);
      f.br(top);
    });
  });
}

/** Sets `pointers[r] = base + min(r, count - 1) * stride` for every r. */
function clampedPointers(f: FunctionBuilder, pointers: Local[], base: () => void, count: Local, stride: Local): void {
  pointers.forEach((pointer, r) => {
    base();
    if (r > 0) {
      f.i32.const(r).local.get(count).i32.const(1).i32.sub().i32.const(r).local.get(count).i32.const(1).i32.sub().i32.ltU().select();
      f.local.get(stride).i32.mul().i32.add();
    }
    f.local.set(pointer);
  });
}

function madd(f: FunctionBuilder, relaxed: boolean, a: Local, b: Local, acc: Local): void {
  if (relaxed) f.local.get(a).local.get(b).local.get(acc).f32x4.relaxedMadd().local.set(acc);
  else f.local.get(acc).local.get(a).local.get(b).f32x4.mul().f32x4.add().local.set(acc);
}

/** rows(...): R-row tiles, trying each width (in floats, multiples of 4, widest first). */
export function emitRows(f: FunctionBuilder, params: Local[], tileRows: number, widths: readonly number[], relaxed: boolean): void {
  const [a, aRow, aCol, b, bRow, , c, cRow, m, n, k] = params as Local[] as [Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local];
  const row0 = f.addLocal('i32'), rows = f.addLocal('i32'), column = f.addLocal('i32'), p = f.addLocal('i32');
  const aOffset = f.addLocal('i32'), bPointer = f.addLocal('i32'), cPointer = f.addLocal('i32');
  const pointers = Array.from({ length: tileRows }, () => f.addLocal('i32'));
  const widest = Math.max(...widths) / 4;
  const acc = Array.from({ length: tileRows }, () => Array.from({ length: widest }, () => f.addLocal('v128')));
  const bVectors = Array.from({ length: widest }, () => f.addLocal('v128'));
  const splat = f.addLocal('v128');
  const sums = Array.from({ length: tileRows }, () => f.addLocal('f32'));
  f.forUp(row0, m, tileRows, () => {
    f.local.get(m).local.get(row0).i32.sub().local.set(rows);
    clampedPointers(f, pointers, () => f.local.get(a).local.get(row0).local.get(aRow).i32.mul().i32.add(), rows, aRow);
    f.i32.const(0).local.set(column);
    for (const width of widths) {
      const vectors = width / 4;
      whileFits(f, column, n, width, () => {
        for (let r = 0; r < tileRows; r++) for (let v = 0; v < vectors; v++) f.v128.zero().local.set(acc[r]![v]!);
        f.local.get(b).local.get(column).i32.const(4).i32.mul().i32.add().local.set(bPointer);
        f.i32.const(0).local.set(aOffset);
        f.forUp(p, k, 1, () => {
          for (let v = 0; v < vectors; v++) f.local.get(bPointer).v128.load(v * 16).local.set(bVectors[v]!);
          for (let r = 0; r < tileRows; r++) {
            f.local.get(pointers[r]!).local.get(aOffset).i32.add().v128.load32Splat().local.set(splat);
            for (let v = 0; v < vectors; v++) madd(f, relaxed, splat, bVectors[v]!, acc[r]![v]!);
          }
          f.local.get(bPointer).local.get(bRow).i32.add().local.set(bPointer);
          f.local.get(aOffset).local.get(aCol).i32.add().local.set(aOffset);
        });
        f.local.get(c).local.get(row0).local.get(cRow).i32.mul().i32.add().local.get(column).i32.const(4).i32.mul().i32.add().local.set(cPointer);
        for (let r = 0; r < tileRows; r++) {
          const store = () => {
            for (let v = 0; v < vectors; v++) f.local.get(cPointer).local.get(acc[r]![v]!).v128.store(v * 16);
            f.local.get(cPointer).local.get(cRow).i32.add().local.set(cPointer);
          };
          if (r === 0) store(); else f.local.get(rows).i32.const(r).i32.gtU().if(store);
        }
      });
    }
    // Columns left over (fewer than the narrowest width): one scalar dot product per row.
    f.block((done) => {
      f.loop((top) => {
        f.local.get(column).local.get(n).i32.geU().brIf(done);
        for (const sum of sums) f.f32.const(0).local.set(sum);
        f.local.get(b).local.get(column).i32.const(4).i32.mul().i32.add().local.set(bPointer);
        f.i32.const(0).local.set(aOffset);
        f.forUp(p, k, 1, () => {
          for (let r = 0; r < tileRows; r++) {
            f.local.get(sums[r]!).local.get(pointers[r]!).local.get(aOffset).i32.add().f32.load();
            f.local.get(bPointer).f32.load().f32.mul().f32.add().local.set(sums[r]!);
          }
          f.local.get(bPointer).local.get(bRow).i32.add().local.set(bPointer);
          f.local.get(aOffset).local.get(aCol).i32.add().local.set(aOffset);
        });
        f.local.get(c).local.get(row0).local.get(cRow).i32.mul().i32.add().local.get(column).i32.const(4).i32.mul().i32.add().local.set(cPointer);
        for (let r = 0; r < tileRows; r++) {
          const store = () => {
            f.local.get(cPointer).local.get(sums[r]!).f32.store();
            f.local.get(cPointer).local.get(cRow).i32.add().local.set(cPointer);
          };
          if (r === 0) store(); else f.local.get(rows).i32.const(r).i32.gtU().if(store);
        }
        f.local.get(column).i32.const(1).i32.add().local.set(column);
        f.br(top);
      });
    });
  });
}

/** dots(...): R×S tiles of k-contiguous dot products. */
export function emitDots(f: FunctionBuilder, params: Local[], tileRows: number, tileColumns: number, relaxed: boolean): void {
  const [a, aRow, , b, , bCol, c, cRow, m, n, k] = params as [Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local];
  const row0 = f.addLocal('i32'), rows = f.addLocal('i32'), column0 = f.addLocal('i32'), columns = f.addLocal('i32');
  const offset = f.addLocal('i32'), k4 = f.addLocal('i32'), cPointer = f.addLocal('i32');
  const rowPointers = Array.from({ length: tileRows }, () => f.addLocal('i32'));
  const columnPointers = Array.from({ length: tileColumns }, () => f.addLocal('i32'));
  const acc = Array.from({ length: tileRows }, () => Array.from({ length: tileColumns }, () => f.addLocal('v128')));
  const aVectors = Array.from({ length: tileRows }, () => f.addLocal('v128'));
  const bVectors = Array.from({ length: tileColumns }, () => f.addLocal('v128'));
  const sums = Array.from({ length: tileRows }, () => Array.from({ length: tileColumns }, () => f.addLocal('f32')));
  const aScalar = f.addLocal('f32');
  const kBytes = f.addLocal('i32');
  f.local.get(k).i32.const(-4).i32.and().i32.const(4).i32.mul().local.set(k4);
  f.local.get(k).i32.const(4).i32.mul().local.set(kBytes);
  f.forUp(row0, m, tileRows, () => {
    f.local.get(m).local.get(row0).i32.sub().local.set(rows);
    clampedPointers(f, rowPointers, () => f.local.get(a).local.get(row0).local.get(aRow).i32.mul().i32.add(), rows, aRow);
    f.forUp(column0, n, tileColumns, () => {
      f.local.get(n).local.get(column0).i32.sub().local.set(columns);
      clampedPointers(f, columnPointers, () => f.local.get(b).local.get(column0).local.get(bCol).i32.mul().i32.add(), columns, bCol);
      for (const line of acc) for (const x of line) f.v128.zero().local.set(x);
      // Four k at a time (k4 is in bytes).
      f.forUp(offset, k4, 16, () => {
        for (let s = 0; s < tileColumns; s++) f.local.get(columnPointers[s]!).local.get(offset).i32.add().v128.load().local.set(bVectors[s]!);
        for (let r = 0; r < tileRows; r++) {
          f.local.get(rowPointers[r]!).local.get(offset).i32.add().v128.load().local.set(aVectors[r]!);
          for (let s = 0; s < tileColumns; s++) madd(f, relaxed, aVectors[r]!, bVectors[s]!, acc[r]![s]!);
        }
      });
      for (let r = 0; r < tileRows; r++) for (let s = 0; s < tileColumns; s++) {
        const x = acc[r]![s]!;
        f.local.get(x).f32x4.extractLane(0).local.get(x).f32x4.extractLane(1).f32.add();
        f.local.get(x).f32x4.extractLane(2).local.get(x).f32x4.extractLane(3).f32.add().f32.add().local.set(sums[r]![s]!);
      }
      // The last k % 4 terms, scalar.
      f.local.get(k4).local.set(offset);
      f.block((done) => {
        f.loop((top) => {
          f.local.get(offset).local.get(kBytes).i32.geU().brIf(done);
          for (let r = 0; r < tileRows; r++) {
            f.local.get(rowPointers[r]!).local.get(offset).i32.add().f32.load().local.set(aScalar);
            for (let s = 0; s < tileColumns; s++) {
              f.local.get(sums[r]![s]!).local.get(aScalar).local.get(columnPointers[s]!).local.get(offset).i32.add().f32.load();
              f.f32.mul().f32.add().local.set(sums[r]![s]!);
            }
          }
          f.local.get(offset).i32.const(4).i32.add().local.set(offset);
          f.br(top);
        });
      });
      for (let r = 0; r < tileRows; r++) {
        const storeRow = () => {
          f.local.get(c).local.get(row0).i32.const(r).i32.add().local.get(cRow).i32.mul().i32.add();
          f.local.get(column0).i32.const(4).i32.mul().i32.add().local.set(cPointer);
          for (let s = 0; s < tileColumns; s++) {
            const store = () => { f.local.get(cPointer).local.get(sums[r]![s]!).f32.store(s * 4); };
            if (s === 0) store(); else f.local.get(columns).i32.const(s).i32.gtU().if(store);
          }
        };
        if (r === 0) storeRow(); else f.local.get(rows).i32.const(r).i32.gtU().if(storeRow);
      }
    });
  });
}
