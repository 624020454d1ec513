// The WebAssembly module behind matmul.ts: a GotoBLAS-style float32 GEMM over the shared
// memory. `gemm` computes one sub-product C = A·B (m×k · k×n) for one thread: for each
// NC-column and KC-deep block it packs B into NR-wide strips, then for each MC-row block
// packs A into MR-tall strips, and runs the MR×NR register-blocked micro-kernel over the
// tiles. Packing reads A and B through arbitrary byte strides (transposed or broadcast
// operands need no copy); C has unit column stride. Partial tiles go through a small tile
// buffer. Each thread packs into its own scratch (about 1.2 MB), found from the imported
// `env.thread`. The module also exports the unpacked kernels of matmul-direct-wasm.ts,
// all with gemm's arguments.
// Shapes: A [m, k] (row stride aRow, column stride aCol, in bytes), B [k, n], C [m, n].
// Why 4×8: V8's scheduler hoists every load of a k step ahead of the multiply-adds, so the
// tile must fit in 15 xmm registers with its operands (8 accumulators + 2 B + 4 A); larger
// tiles (6×8, 4×16) spill and measured slower (~30 vs ~54 GFLOP/s on one core).
// Left out: k-unrolling (it spills for the same reason) and a multi-threaded shared B panel.
import { emitDots, emitRows } from './matmul-direct-wasm.ts';
import { ModuleBuilder, type FunctionBuilder, type Local } from './wasm-encode.ts';

export const tile = { rows: 4, columns: 8 } as const; // MR × NR
export const blocking = { rows: 128, depth: 256, columns: 1024 } as const; // MC, KC, NC
const vectors = tile.columns / 4;

/** Bytes of scratch one thread needs: packed A block, packed B panel, one tile. */
export const scratchBytesPerThread = 4 * (blocking.rows * blocking.depth + blocking.depth * blocking.columns + tile.rows * tile.columns);

export interface GemmModuleOptions {
  memory: { initial: number; maximum: number };
  /** Byte offset of thread 0's scratch; thread t's starts `scratchBytesPerThread` later per t. */
  scratchBase: number;
  /** Use f32x4.relaxed_madd (fused where the CPU has FMA) instead of mul + add. */
  relaxed: boolean;
}

export function buildGemmModule(options: GemmModuleOptions): Uint8Array<ArrayBuffer> {
  const module = new ModuleBuilder();
  module.importMemory('env', 'memory', { ...options.memory, shared: true });
  const thread = module.importGlobal('env', 'thread', 'i32');
  const kernel = module.addFunction(undefined, ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], (f, ...params) =>
    emitKernel(f, params, options.relaxed));
  const packA = module.addFunction(undefined, ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], (f, ...params) => emitPackA(f, params));
  const packB = module.addFunction(undefined, ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], (f, ...params) => emitPackB(f, params));
  module.addFunction('gemm', Array<'i32'>(11).fill('i32'), [], (f, ...params) =>
    emitGemm(f, params, { thread, kernel, packA, packB, scratchBase: options.scratchBase }));
  const gemmSignature = Array<'i32'>(11).fill('i32');
  module.addFunction('rows4', gemmSignature, [], (f, ...params) => emitRows(f, params, 4, [8, 4], options.relaxed));
  module.addFunction('rows1', gemmSignature, [], (f, ...params) => emitRows(f, params, 1, [32, 8, 4], options.relaxed));
  module.addFunction('dots16', gemmSignature, [], (f, ...params) => emitDots(f, params, 1, 6, options.relaxed));
  module.addFunction('dots24', gemmSignature, [], (f, ...params) => emitDots(f, params, 2, 4, options.relaxed));
  module.addFunction('dots61', gemmSignature, [], (f, ...params) => emitDots(f, params, 6, 1, options.relaxed));
  return module.encode();
}

/** min(a, b) of two i32 values on the stack (unsigned). */
function minU(f: FunctionBuilder, scratchA: Local, scratchB: Local): void {
  f.local.set(scratchB).local.set(scratchA);
  f.local.get(scratchA).local.get(scratchB).local.get(scratchA).local.get(scratchB).i32.ltU().select();
}

/**
 * kernel(kc, ap, bp, c, cRow, accumulate, rows, columns, tileBuffer): the MR×NR tile
 * C[0:rows, 0:columns] = (accumulate ? C : 0) + Σ_k Ap[k, 0:MR] ⊗ Bp[k, 0:NR].
 */
function emitKernel(f: FunctionBuilder, [kc, ap, bp, c, cRow, accumulate, rows, columns, tileBuffer]: Local[], relaxed: boolean): void {
  const acc = Array.from({ length: tile.rows }, () => Array.from({ length: vectors }, () => f.addLocal('v128')));
  const b = Array.from({ length: vectors }, () => f.addLocal('v128'));
  const a = f.addLocal('v128');
  const row = f.addLocal('i32'), column = f.addLocal('i32'), address = f.addLocal('i32'), source = f.addLocal('i32');
  for (const line of acc) for (const x of line) f.v128.zero().local.set(x);
  f.loop((top) => {
    for (let j = 0; j < vectors; j++) f.local.get(bp!).v128.load(j * 16).local.set(b[j]!);
    for (let i = 0; i < tile.rows; i++) {
      f.local.get(ap!).v128.load32Splat(i * 4).local.set(a);
      for (let j = 0; j < vectors; j++) {
        const x = acc[i]![j]!;
        if (relaxed) f.local.get(a).local.get(b[j]!).local.get(x).f32x4.relaxedMadd().local.set(x);
        else f.local.get(x).local.get(a).local.get(b[j]!).f32x4.mul().f32x4.add().local.set(x);
      }
    }
    f.local.get(ap!).i32.const(tile.rows * 4).i32.add().local.set(ap!);
    f.local.get(bp!).i32.const(tile.columns * 4).i32.add().local.set(bp!);
    f.local.get(kc!).i32.const(1).i32.sub().local.tee(kc!).brIf(top);
  });
  const full = () => f.local.get(rows!).i32.const(tile.rows).i32.eq().local.get(columns!).i32.const(tile.columns).i32.eq().i32.and();
  const storeTile = (target: Local, rowBytes: Local | number, add: boolean) => {
    f.local.get(target).local.set(address);
    for (let i = 0; i < tile.rows; i++) {
      for (let j = 0; j < vectors; j++) {
        f.local.get(address);
        if (add) f.local.get(address).v128.load(j * 16).local.get(acc[i]![j]!).f32x4.add();
        else f.local.get(acc[i]![j]!);
        f.v128.store(j * 16);
      }
      if (i + 1 < tile.rows) {
        f.local.get(address);
        if (typeof rowBytes === 'number') f.i32.const(rowBytes); else f.local.get(rowBytes);
        f.i32.add().local.set(address);
      }
    }
  };
  full().if(() => {
    f.local.get(accumulate!).if(() => storeTile(c!, cRow!, true), () => storeTile(c!, cRow!, false));
  }, () => {
    // Edge tile: spill the accumulators, then copy the valid corner element by element.
    storeTile(tileBuffer!, tile.columns * 4, false);
    f.forUp(row, rows!, 1, () => {
      f.local.get(c!).local.get(row).local.get(cRow!).i32.mul().i32.add().local.set(address);
      f.local.get(tileBuffer!).local.get(row).i32.const(tile.columns * 4).i32.mul().i32.add().local.set(source);
      f.forUp(column, columns!, 1, () => {
        f.local.get(address);
        f.local.get(source).f32.load();
        f.local.get(address).f32.load().f32.const(0).local.get(accumulate!).select().f32.add();
        f.f32.store();
        f.local.get(address).i32.const(4).i32.add().local.set(address);
        f.local.get(source).i32.const(4).i32.add().local.set(source);
      });
    });
  });
}

/** packA(src, rowBytes, columnBytes, mc, kc, dst): A[0:mc, 0:kc] into MR-tall strips, k-major, zero-padded. */
function emitPackA(f: FunctionBuilder, [src, rowBytes, columnBytes, mc, kc, dst]: Local[]): void {
  const strip = f.addLocal('i32'), height = f.addLocal('i32'), k = f.addLocal('i32'), pointer = f.addLocal('i32');
  const i = f.addLocal('i32');
  f.forUp(strip, mc!, tile.rows, () => {
    f.local.get(mc!).local.get(strip).i32.sub().local.set(height);
    // pointer walks A[strip, k] along k.
    f.local.get(src!).local.get(strip).local.get(rowBytes!).i32.mul().i32.add().local.set(pointer);
    f.local.get(height).i32.const(tile.rows).i32.geU().if(() => {
      f.forUp(k, kc!, 1, () => {
        for (let r = 0; r < tile.rows; r++) {
          f.local.get(dst!).local.get(pointer);
          if (r > 0) f.local.get(rowBytes!).i32.const(r).i32.mul().i32.add();
          f.f32.load().f32.store(r * 4);
        }
        f.local.get(pointer).local.get(columnBytes!).i32.add().local.set(pointer);
        f.local.get(dst!).i32.const(tile.rows * 4).i32.add().local.set(dst!);
      });
    }, () => {
      f.forUp(k, kc!, 1, () => {
        for (let v = 0; v < tile.rows / 4; v++) f.local.get(dst!).v128.zero().v128.store(v * 16);
        f.forUp(i, height, 1, () => {
          f.local.get(dst!).local.get(i).i32.const(4).i32.mul().i32.add();
          f.local.get(pointer).local.get(i).local.get(rowBytes!).i32.mul().i32.add().f32.load();
          f.f32.store();
        });
        f.local.get(pointer).local.get(columnBytes!).i32.add().local.set(pointer);
        f.local.get(dst!).i32.const(tile.rows * 4).i32.add().local.set(dst!);
      });
    });
  });
}

/** packB(src, rowBytes, columnBytes, kc, nc, dst): B[0:kc, 0:nc] into NR-wide strips, k-major, zero-padded. */
function emitPackB(f: FunctionBuilder, [src, rowBytes, columnBytes, kc, nc, dst]: Local[]): void {
  const strip = f.addLocal('i32'), width = f.addLocal('i32'), k = f.addLocal('i32'), pointer = f.addLocal('i32');
  const j = f.addLocal('i32');
  f.forUp(strip, nc!, tile.columns, () => {
    f.local.get(nc!).local.get(strip).i32.sub().local.set(width);
    f.local.get(src!).local.get(strip).local.get(columnBytes!).i32.mul().i32.add().local.set(pointer);
    f.local.get(width).i32.const(tile.columns).i32.geU().local.get(columnBytes!).i32.const(4).i32.eq().i32.and().if(() => {
      // Contiguous rows: copy NR floats per k with vector loads.
      f.forUp(k, kc!, 1, () => {
        for (let v = 0; v < vectors; v++) f.local.get(dst!).local.get(pointer).v128.load(v * 16).v128.store(v * 16);
        f.local.get(pointer).local.get(rowBytes!).i32.add().local.set(pointer);
        f.local.get(dst!).i32.const(tile.columns * 4).i32.add().local.set(dst!);
      });
    }, () => {
      f.local.get(width).i32.const(tile.columns).i32.gtU().if(() => { f.i32.const(tile.columns).local.set(width); });
      f.forUp(k, kc!, 1, () => {
        for (let v = 0; v < vectors; v++) f.local.get(dst!).v128.zero().v128.store(v * 16);
        f.forUp(j, width, 1, () => {
          f.local.get(dst!).local.get(j).i32.const(4).i32.mul().i32.add();
          f.local.get(pointer).local.get(j).local.get(columnBytes!).i32.mul().i32.add().f32.load();
          f.f32.store();
        });
        f.local.get(pointer).local.get(rowBytes!).i32.add().local.set(pointer);
        f.local.get(dst!).i32.const(tile.columns * 4).i32.add().local.set(dst!);
      });
    });
  });
}

interface GemmParts { thread: number; kernel: number; packA: number; packB: number; scratchBase: number }

/** gemm(a, aRow, aCol, b, bRow, bCol, c, cRow, m, n, k): C = A·B, all offsets and strides in bytes. */
function emitGemm(f: FunctionBuilder, [a, aRow, aCol, b, bRow, bCol, c, cRow, m, n, k]: Local[], parts: GemmParts): void {
  const packedA = f.addLocal('i32'), packedB = f.addLocal('i32'), tileBuffer = f.addLocal('i32');
  const jc = f.addLocal('i32'), pc = f.addLocal('i32'), ic = f.addLocal('i32'), jr = f.addLocal('i32'), ir = f.addLocal('i32');
  const nc = f.addLocal('i32'), kc = f.addLocal('i32'), mc = f.addLocal('i32'), x = f.addLocal('i32'), y = f.addLocal('i32');
  f.global.get(parts.thread).i32.const(scratchBytesPerThread).i32.mul().i32.const(parts.scratchBase).i32.add().local.tee(packedA);
  f.i32.const(4 * blocking.rows * blocking.depth).i32.add().local.tee(packedB);
  f.i32.const(4 * blocking.depth * blocking.columns).i32.add().local.set(tileBuffer);
  const clamp = (limit: Local, position: Local, cap: number, into: Local) => {
    f.local.get(limit).local.get(position).i32.sub().i32.const(cap);
    minU(f, x, y);
    f.local.set(into);
  };
  f.forUp(jc, n!, blocking.columns, () => {
    clamp(n!, jc, blocking.columns, nc);
    f.forUp(pc, k!, blocking.depth, () => {
      clamp(k!, pc, blocking.depth, kc);
      f.local.get(b!).local.get(pc).local.get(bRow!).i32.mul().i32.add().local.get(jc).local.get(bCol!).i32.mul().i32.add();
      f.local.get(bRow!).local.get(bCol!).local.get(kc).local.get(nc).local.get(packedB).call(parts.packB);
      f.forUp(ic, m!, blocking.rows, () => {
        clamp(m!, ic, blocking.rows, mc);
        f.local.get(a!).local.get(ic).local.get(aRow!).i32.mul().i32.add().local.get(pc).local.get(aCol!).i32.mul().i32.add();
        f.local.get(aRow!).local.get(aCol!).local.get(mc).local.get(kc).local.get(packedA).call(parts.packA);
        f.forUp(jr, nc, tile.columns, () => {
          f.forUp(ir, mc, tile.rows, () => {
            f.local.get(kc);
            f.local.get(packedA).local.get(ir).local.get(kc).i32.mul().i32.const(4).i32.mul().i32.add();
            f.local.get(packedB).local.get(jr).local.get(kc).i32.mul().i32.const(4).i32.mul().i32.add();
            f.local.get(c!).local.get(ic).local.get(ir).i32.add().local.get(cRow!).i32.mul().i32.add();
            f.local.get(jc).local.get(jr).i32.add().i32.const(4).i32.mul().i32.add();
            f.local.get(cRow!);
            f.local.get(pc).i32.const(0).i32.ne();
            f.local.get(mc).local.get(ir).i32.sub().i32.const(tile.rows);
            minU(f, x, y);
            f.local.get(nc).local.get(jr).i32.sub().i32.const(tile.columns);
            minU(f, x, y);
            f.local.get(tileBuffer).call(parts.kernel);
          });
        });
      });
    });
  });
}
