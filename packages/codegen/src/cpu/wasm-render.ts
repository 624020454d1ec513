// The cpu device's second renderer, second half: a lowered kernel (cpu/wasm-lower.ts's
// nodes, the reductions they feed and the stores they make) as one WebAssembly SIMD
// function. Loop axes whose reads are all contiguous across them merge into one (a plain
// elementwise chain becomes a single loop), the last becomes the vector axis (four float32
// lanes, then a scalar tail that reuses the same code on splatted loads), and the rest
// are flattened into "rows". The function takes (rowStart, rowEnd, colStart, colEnd,
// byte offset of each buffer…) so one compiled module serves every plan with the same
// kernel, and a row or column range per task splits it over the thread pool.
// Reductions accumulate float32 sums and products in float64 (two f64x2 and a scalar for
// the tail), as the reference's double accumulator does, so they round to the same value
// but for the summation order; along rows of 32 or more, sums first add into float32
// partial sums of at most 16 terms a lane (four independent chains), promoted into the
// float64 accumulators: within 16 float32 roundings of Σ|x| of the reference, and twice
// as fast. Max and min stay in float32 lanes.
// Shapes: a program's loop axes are its kernel's (elementwise, rows: the output's;
// reduce: the input's, reduced axes inner).
// Reductions down columns (a leading axis reduced, the last kept) run the other way: the
// vector along the kept last axis, the reduced axis a scalar loop inside, four results at once.
// Left out: reductions whose reduced axes are not one contiguous run after merging, and
// negative strides along the vector axis (both raise Unsupported: the kernel runs as JS).

import type { Variable } from '@theorbo/graph';
import { Unsupported } from './js-render.ts';
import { ModuleBuilder, type FunctionBuilder, type Local } from './wasm-encode.ts';
import { schedule, type Access, type VectorNode } from './wasm-lower.ts';
import { emitExp, emitLog, emitSigmoid, emitTanh } from './wasm-math.ts';
import { philoxKeyBumps, philoxMultipliers, philoxRounds } from '@theorbo/graph';

export interface VectorProgram {
  /** Sizes of the loop axes, and which group each belongs to ('inner': merged into the vector axis). */
  axisSizes: number[];
  inner: number[];
  /** Row reductions in order; node `acc` of index r reads reduction r's result. */
  reductions: { op: 'sum' | 'prod' | 'max' | 'min'; input: VectorNode; identity: number }[];
  /** 'column' stores run in the vector loop; 'row' stores once per row after the reductions. */
  stores: { access: Access; value: VectorNode; phase: 'column' | 'row' }[];
  /** The output is written into a buffer the kernel may also read (an update in place). */
  inPlace?: boolean;
}

export interface RenderedKernel {
  bytes: Uint8Array<ArrayBuffer>;
  /** The buffers whose byte offsets follow the four range arguments. */
  buffers: Variable[];
  rows: number;
  columns: number;
  /** Whether tasks may split the columns (no reductions). */
  splitColumns: boolean;
}

interface Axis { size: number; last: number }

/** Merges adjacent axes of `group` (in order) where every access steps across them contiguously. */
function merge(group: readonly number[], sizes: readonly number[], accesses: readonly Access[]): Axis[] {
  const merged: Axis[] = [];
  for (const axis of group) {
    if (sizes[axis] === 1) continue;
    const previous = merged[merged.length - 1];
    if (previous && accesses.every((a) => a.coefs[previous.last] === a.coefs[axis]! * sizes[axis]!)) {
      previous.size *= sizes[axis]!;
      previous.last = axis;
    } else merged.push({ size: sizes[axis]!, last: axis });
  }
  return merged;
}

export function renderProgram(program: VectorProgram): RenderedKernel {
  const { axisSizes, reductions, stores } = program;
  const roots = [...reductions.map((r) => r.input), ...stores.map((s) => s.value)];
  const loads = schedule(roots).flatMap((node) => (node.kind === 'load' ? [node.access] : []));
  const counters = schedule(roots).flatMap((node) => (node.kind === 'random' || node.kind === 'iota' ? [node.offset] : []));
  const accesses = [...new Set([...loads, ...counters, ...stores.map((s) => s.access)])];
  const innerSet = new Set(program.inner);
  const outer = merge(axisSizes.map((_, axis) => axis).filter((axis) => !innerSet.has(axis)), axisSizes, accesses);
  const innerAxes = merge(program.inner, axisSizes, accesses);
  if (innerAxes.length > 1) throw new Unsupported('reduced axes that are not contiguous in memory');
  // A reduction down columns (over a leading axis: a bias gradient's sum over the batch)
  // vectorizes along the kept last axis instead, the reduced axis a scalar loop inside.
  const lastOuter = outer[outer.length - 1];
  const down = reductions.length === 1 && stores.every((store) => store.phase === 'row') && innerAxes.length === 1 && lastOuter !== undefined
    && loads.some((a) => a.coefs[lastOuter.last] === 1) && loads.every((a) => a.coefs[innerAxes[0]!.last] !== 1);
  const reduced = down ? innerAxes[0] : undefined;
  // Elementwise kernels (no inner group): the last merged axis is the vector axis.
  const vector = down ? outer.pop() : innerAxes[0] ?? (program.inner.length === 0 ? outer.pop() : undefined);
  const reducedCoef = (access: Access) => (reduced ? access.coefs[reduced.last]! : 0);
  const columns = vector?.size ?? 1;
  const rows = outer.reduce((product, axis) => product * axis.size, 1);
  const innerCoef = (access: Access) => (vector ? access.coefs[vector.last]! : 0);
  if (accesses.some((a) => innerCoef(a) < 0)) throw new Unsupported('a negative stride along the vector axis');
  if (stores.some((store) => (store.access.bytes === 1) !== (store.value.type === 'mask'))) throw new Unsupported('a store of another dtype than its value');
  const buffers = [...new Set(accesses.filter((a) => !a.element).map((a) => a.buffer))];
  const accNodes = reductions.map((_, r) => schedule(roots).find((node) => node.kind === 'acc' && node.reduction === r));
  const reuse = reusedInOutput(program, innerCoef);
  if (buffers.length > 12) throw new Unsupported('more than 12 buffers in one kernel');

  const module = new ModuleBuilder();
  module.importMemory('env', 'memory', { initial: 0, maximum: 65536, shared: true });
  const params = ['i32', 'i32', 'i32', 'i32', ...buffers.map(() => 'i32' as const)] as const;
  module.addFunction('kernel', params, [], (f, rowStart, rowEnd, colStart, colEnd, ...bases) => {
    const row = f.addLocal('i32'), col = f.addLocal('i32'), colBytes = f.addLocal('i32'), rest = f.addLocal('i32');
    const step = f.addLocal('i32'), stepBytes = f.addLocal('i32'), steps = f.addLocal('i32'), narrow = f.addLocal('v128');
    const indices = outer.map(() => f.addLocal('i32'));
    const addresses = new Map(accesses.map((access) => [access, f.addLocal('i32')]));
    const values = new Map<number, Local>();
    const valueLocal = (node: VectorNode): Local => {
      let local = values.get(node.id);
      if (!local) values.set(node.id, (local = f.addLocal('v128')));
      return local;
    };
    const temps: Local[] = [];
    let tempsUsed = 0;
    const temp = (): Local => {
      if (tempsUsed === temps.length) temps.push(f.addLocal('v128'));
      return temps[tempsUsed++]!;
    };
    const computed = new Set<number>();

    /** Columns past `col` that the unrolled copy being emitted reads (reductions along rows). */
    let unrolledColumns = 0;
    /** The byte address of `access` at the current column (and reduction step). */
    const emitAddress = (access: Access): void => {
      const coef = innerCoef(access);
      f.local.get(addresses.get(access)!);
      if (coef !== 0) {
        f.local.get(access.bytes === 4 ? colBytes : col);
        if (coef !== 1) f.i32.const(coef).i32.mul();
        f.i32.add();
        if (unrolledColumns !== 0) f.i32.const(unrolledColumns * coef * access.bytes).i32.add();
      }
      const down = reducedCoef(access);
      if (down !== 0) f.local.get(access.bytes === 4 ? stepBytes : step).i32.const(down).i32.mul().i32.add();
    };

    const emitLoad = (access: Access, vectorMode: boolean): void => {
      const coef = innerCoef(access);
      emitAddress(access);
      if (access.bytes === 1) {
        // A bool buffer: bytes widened to i32 lanes, then all ones where non-zero.
        if (!vectorMode || coef === 0) f.i32.load8U().i32x4.splat();
        else if (coef === 1) f.v128.load32Zero(0, 0).i16x8.extendLowI8x16U().i32x4.extendLowI16x8U();
        else {
          const at = f.addLocal('i32');
          f.local.set(at).local.get(at).i32.load8U().i32x4.splat();
          for (let lane = 1; lane < 4; lane++) f.local.get(at).i32.load8U(lane * coef).i32x4.replaceLane(lane);
        }
        f.v128.zero().i32x4.eq().v128.not();
        return;
      }
      if (!vectorMode || coef === 0) { f.v128.load32Splat(); return; }
      if (coef === 1) { f.v128.load(0, 2); return; }
      const at = f.addLocal('i32');
      f.local.set(at).local.get(at).v128.load32Splat();
      for (let lane = 1; lane < 4; lane++) f.local.get(at).f32.load(lane * 4 * coef).f32x4.replaceLane(lane);
    };

    /** Stores a value's lanes (lane 0 in the tail); masks as 0/1 bytes. */
    const emitStore = (store: VectorProgram['stores'][number], vectorMode: boolean, lanes: number): void => {
      const coef = innerCoef(store.access);
      const value = valueLocal(store.value);
      const bytes = store.access.bytes;
      const stored = (): void => {
        f.local.get(value);
        if (bytes === 4) return;
        // All-ones lanes to 1, then narrowed twice: byte k of the vector is lane k's flag.
        f.i32.const(1).i32x4.splat().v128.and().local.set(narrow);
        f.local.get(narrow).local.get(narrow).i16x8.narrowI32x4U().local.set(narrow);
        f.local.get(narrow).local.get(narrow).i8x16.narrowI16x8U();
      };
      if (vectorMode && coef === 1 && lanes === 4) {
        emitAddress(store.access); stored();
        if (bytes === 4) f.v128.store(0, 2); else f.v128.store32Lane(0, 0, 0);
        return;
      }
      for (let lane = 0; lane < (vectorMode ? lanes : 1); lane++) {
        emitAddress(store.access); stored();
        if (bytes === 4) f.v128.store32Lane(lane, lane * 4 * coef); else f.v128.store8Lane(lane, lane * coef);
      }
    };

    const emitNode = (node: VectorNode, vectorMode: boolean): void => {
      switch (node.kind) {
        case 'acc': return; // set after its reduction
        case 'const':
          if (node.type === 'mask') f.v128.constI32(node.value !== 0 ? [-1, -1, -1, -1] : [0, 0, 0, 0]);
          else if (node.type === 'i32') f.v128.constI32([node.value, node.value, node.value, node.value]);
          else f.v128.const([node.value, node.value, node.value, node.value]);
          break;
        case 'load': emitLoad(node.access, vectorMode); break;
        case 'iota': {
          emitAddress(node.offset);
          f.i32x4.splat();
          const coef = innerCoef(node.offset);
          if (vectorMode && coef !== 0) f.v128.constI32([0, coef, 2 * coef, 3 * coef]).i32x4.add();
          break;
        }
        case 'random': {
          tempsUsed = 0;
          emitAddress(node.offset);
          f.i32x4.splat();
          const coef = innerCoef(node.offset);
          if (vectorMode && coef !== 0) f.v128.constI32([0, coef, 2 * coef, 3 * coef]).i32x4.add();
          emitUniform(f, node.draw, valueLocal(node.key), valueLocal(node.counter), temp);
          break;
        }
        case 'op': {
          const [a, b, c] = node.args.map(valueLocal);
          tempsUsed = 0;
          switch (node.op) {
            case 'exp': emitExp(f, a!, temp); break;
            case 'log': emitLog(f, a!, temp); break;
            case 'tanh': emitTanh(f, a!, temp); break;
            case 'sigmoid': emitSigmoid(f, a!, temp); break;
            case 'square': f.local.get(a!).local.get(a!).f32x4.mul(); break;
            case 'reciprocal': f.v128.const([1, 1, 1, 1]).local.get(a!).f32x4.div(); break;
            case 'mask_to_float': f.local.get(a!).v128.const([1, 1, 1, 1]).v128.and(); break;
            case 'i32_to_float': f.local.get(a!).f32x4.convertI32x4S(); break;
            case 'eq_i32': f.local.get(a!).local.get(b!).i32x4.eq(); break;
            case 'ne_i32': f.local.get(a!).local.get(b!).i32x4.ne(); break;
            case 'lt_i32': f.local.get(a!).local.get(b!).i32x4.ltS(); break;
            case 'le_i32': f.local.get(a!).local.get(b!).i32x4.leS(); break;
            case 'gt_i32': f.local.get(a!).local.get(b!).i32x4.gtS(); break;
            case 'ge_i32': f.local.get(a!).local.get(b!).i32x4.geS(); break;
            case 'where': f.local.get(b!).local.get(c!).local.get(a!).v128.bitselect(); break;
            case 'neg': case 'abs': case 'sqrt': case 'floor': case 'ceil': f.local.get(a!).f32x4[node.op](); break;
            case 'maximum': f.local.get(a!).local.get(b!).f32x4.max(); break;
            case 'minimum': f.local.get(a!).local.get(b!).f32x4.min(); break;
            default: f.local.get(a!).local.get(b!).f32x4[node.op](); break;
          }
          break;
        }
      }
      f.local.set(valueLocal(node));
    };

    /** Computes what `targets` need (each node once per loop body) into their locals. */
    const compute = (targets: readonly VectorNode[], vectorMode: boolean, known: readonly VectorNode[] = []): void => {
      computed.clear();
      for (const node of known) computed.add(node.id);
      for (const node of schedule(targets)) {
        if (computed.has(node.id)) continue;
        computed.add(node.id);
        emitNode(node, vectorMode);
      }
    };

    /**
     * for col in [from, to): body four lanes at a time, then one at a time; with `unroll`,
     * sixteen at a time first (the body emitted four times, `unrolledColumns` 0, 4, 8, 12).
     */
    const columnLoop = (from: () => void, to: () => void, body: (vectorMode: boolean) => void, unroll = false): void => {
      from(); f.local.set(col);
      if (unroll) {
        f.block((done) => {
          f.loop((top) => {
            f.local.get(col).i32.const(16).i32.add(); to(); f.i32.gtU().brIf(done);
            f.local.get(col).i32.const(4).i32.mul().local.set(colBytes);
            for (let u = 0; u < 4; u++) {
              unrolledColumns = 4 * u;
              body(true);
            }
            unrolledColumns = 0;
            f.local.get(col).i32.const(16).i32.add().local.set(col).br(top);
          });
        });
      }
      f.block((done) => {
        f.block((tail) => {
          f.loop((top) => {
            f.local.get(col).i32.const(4).i32.add(); to(); f.i32.gtU().brIf(tail);
            f.local.get(col).i32.const(4).i32.mul().local.set(colBytes);
            body(true);
            f.local.get(col).i32.const(4).i32.add().local.set(col).br(top);
          });
        });
        f.loop((top) => {
          f.local.get(col); to(); f.i32.geU().brIf(done);
          f.local.get(col).i32.const(4).i32.mul().local.set(colBytes);
          body(false);
          f.local.get(col).i32.const(1).i32.add().local.set(col).br(top);
        });
      });
    };

    /** A reduction down columns: per column block, the reduced axis in a loop, then the row stores. */
    const emitDown = (): void => {
      const { op, input, identity } = reductions[0]!;
      const acc = accumulators[0]!;
      const arithmetic = op === 'sum' || op === 'prod';
      const rowStores = stores;
      columnLoop(() => f.local.get(colStart), () => f.local.get(colEnd), (vectorMode) => {
        if (arithmetic) f.f64.const(identity).f64x2.splat().local.tee(acc.low!).local.set(acc.high!);
        else f.v128.const([identity, identity, identity, identity]).local.set(acc.lanes!);
        f.i32.const(reduced!.size).local.set(steps);
        f.forUp(step, steps, 1, () => {
          f.local.get(step).i32.const(4).i32.mul().local.set(stepBytes);
          compute([input], vectorMode);
          accumulateLanes(f, acc, valueLocal(input), op);
        });
        // Each lane's own result (in the tail every lane holds the same one).
        if (arithmetic) {
          f.local.get(acc.low!).f32x4.demoteF64x2Zero().local.get(acc.high!).f32x4.demoteF64x2Zero();
          f.i8x16.shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]);
        } else f.local.get(acc.lanes!);
        const accNode = accNodes[0];
        if (accNode) f.local.set(valueLocal(accNode)); else f.drop();
        f.i32.const(0).local.set(stepBytes);
        compute(rowStores.map((store) => store.value), vectorMode);
        for (const store of rowStores) emitStore(store, vectorMode, 4);
      });
    };

    const accumulators = reductions.map(({ op }) => (op === 'sum' || op === 'prod'
      ? { low: f.addLocal('v128'), high: f.addLocal('v128'), tail: f.addLocal('f64') }
      : { lanes: f.addLocal('v128') }));
    // Rows of at least 32 columns reduce four vectors per step into four accumulators
    // (independent chains: no add's latency paces the loop). Sums add into four float32
    // partial sums, each promoted into the float64 accumulators every `flushEvery` steps
    // (so a lane sums 16 values in float32 at most); max and min into four sets of lanes,
    // folded into the first before the rest of the row.
    const unroll = columns >= 32 && !reduced;
    const flushEvery = 16;
    const extra = reductions.map(({ op }) => (!unroll || op === 'prod' ? [] : Array.from({ length: op === 'sum' ? 4 : 3 }, () => ({ lanes: f.addLocal('v128') }))));
    const flushIn = f.addLocal('i32');

    f.local.get(rowStart).local.set(row);
    f.block((exit) => {
      f.local.get(row).local.get(rowEnd).i32.geU().brIf(exit);
      f.loop((nextRow) => {
        // The row's index on each merged outer axis, then each access's address at column 0.
        f.local.get(row).local.set(rest);
        for (let j = outer.length - 1; j >= 0; j--) {
          if (j === 0) { f.local.get(rest).local.set(indices[0]!); break; }
          f.local.get(rest).i32.const(outer[j]!.size).i32.remU().local.set(indices[j]!);
          f.local.get(rest).i32.const(outer[j]!.size).i32.divU().local.set(rest);
        }
        for (const access of accesses) {
          if (access.element) f.i32.const(access.constant);
          else f.local.get(bases[buffers.indexOf(access.buffer)]!).i32.const(access.bytes * access.constant).i32.add();
          outer.forEach((axis, j) => {
            const coef = access.coefs[axis.last]!;
            if (coef !== 0) f.local.get(indices[j]!).i32.const(access.bytes * coef).i32.mul().i32.add();
          });
          f.local.set(addresses.get(access)!);
        }
        if (reduced) {
          emitDown();
          f.local.get(row).i32.const(1).i32.add().local.tee(row).local.get(rowEnd).i32.ltU().brIf(nextRow);
          return;
        }
        reductions.forEach(({ op, input, identity }, r) => {
          const acc = accumulators[r]!;
          const arithmetic = op === 'sum' || op === 'prod';
          if (arithmetic) {
            f.f64.const(identity).f64x2.splat().local.tee(acc.low!).local.set(acc.high!);
            f.f64.const(identity).local.set(acc.tail!);
          } else f.v128.const([identity, identity, identity, identity]).local.set(acc.lanes!);
          const sets = extra[r]!;
          const storeReused = (vectorMode: boolean, offset: number): void => {
            if (!reuse || r !== reductions.length - 1) return;
            f.local.get(addresses.get(reuse.store.access)!).local.get(colBytes).i32.add().local.get(valueLocal(reuse.node));
            if (vectorMode) f.v128.store(offset, 2); else f.v128.store32Lane(0);
          };
          f.i32.const(0).local.set(col);
          if (sets.length > 0) {
            const partial = op === 'sum';
            // The float32 partial sums into the float64 accumulators, and back to zero.
            const flush = (): void => {
              for (const set of sets) {
                accumulateLanes(f, acc, set.lanes, 'sum');
                f.v128.zero().local.set(set.lanes);
              }
            };
            for (const set of sets) f.v128.const([identity, identity, identity, identity]).local.set(set.lanes);
            f.i32.const(flushEvery).local.set(flushIn);
            f.block((done) => {
              f.loop((top) => {
                f.local.get(col).i32.const(16).i32.add().i32.const(columns).i32.gtU().brIf(done);
                f.local.get(col).i32.const(4).i32.mul().local.set(colBytes);
                (partial ? sets : [acc, ...sets]).forEach((set, u) => {
                  unrolledColumns = 4 * u;
                  compute([input], true);
                  storeReused(true, 16 * u);
                  if (partial) f.local.get(set.lanes!).local.get(valueLocal(input)).f32x4.add().local.set(set.lanes!);
                  else accumulateLanes(f, set, valueLocal(input), op);
                });
                unrolledColumns = 0;
                if (partial) {
                  f.local.get(flushIn).i32.const(1).i32.sub().local.tee(flushIn).i32.eqz();
                  f.if(() => { flush(); f.i32.const(flushEvery).local.set(flushIn); });
                }
                f.local.get(col).i32.const(16).i32.add().local.set(col).br(top);
              });
            });
            if (partial) flush();
            // (a + b) + (c + d), lane by lane.
            const fold = (into: { low?: Local; high?: Local; lanes?: Local }, from: { low?: Local; high?: Local; lanes?: Local }): void => {
              for (const part of ['low', 'high', 'lanes'] as const) {
                if (!into[part]) continue;
                f.local.get(into[part]!).local.get(from[part]!);
                if (op === 'sum') f.f64x2.add(); else if (op === 'max') f.f32x4.max(); else f.f32x4.min();
                f.local.set(into[part]!);
              }
            };
            if (!partial) {
              fold(acc, sets[0]!);
              fold(sets[1]!, sets[2]!);
              fold(acc, sets[1]!);
            }
          }
          columnLoop(() => f.local.get(col), () => f.i32.const(columns), (vectorMode) => {
            compute([input], vectorMode);
            storeReused(vectorMode, 0);
            const v = valueLocal(input);
            if (!arithmetic || vectorMode) {
              accumulateLanes(f, acc, v, op);
            } else {
              f.local.get(acc.tail!).local.get(v).f32x4.extractLane(0).f64.promoteF32();
              if (op === 'sum') f.f64.add(); else f.f64.mul();
              f.local.set(acc.tail!);
            }
          });
          if (arithmetic) {
            const scalar = (g: FunctionBuilder) => (op === 'sum' ? g.f64.add() : g.f64.mul());
            f.local.get(acc.low!).local.get(acc.high!); combine2(f, op);
            f.local.tee(acc.low!).f64x2.extractLane(0).local.get(acc.low!).f64x2.extractLane(1);
            scalar(f).local.get(acc.tail!);
            scalar(f).f32.demoteF64().f32x4.splat();
          } else {
            const pick = (g: FunctionBuilder) => (op === 'max' ? g.f32.max() : g.f32.min());
            f.local.get(acc.lanes!).f32x4.extractLane(0).local.get(acc.lanes!).f32x4.extractLane(1);
            pick(f).local.get(acc.lanes!).f32x4.extractLane(2);
            pick(f).local.get(acc.lanes!).f32x4.extractLane(3);
            pick(f).f32x4.splat();
          }
          const accNode = accNodes[r];
          if (accNode) f.local.set(valueLocal(accNode)); else f.drop();
        });
        const rowStores = stores.filter((s) => s.phase === 'row');
        if (rowStores.length > 0) {
          compute(rowStores.map((s) => s.value), false);
          for (const store of rowStores) emitStore(store, false, 1);
        }
        const columnStores = stores.filter((s) => s.phase === 'column');
        if (columnStores.length > 0) {
          columnLoop(() => f.local.get(colStart), () => f.local.get(colEnd), (vectorMode) => {
            const known: VectorNode[] = [];
            if (reuse) {
              f.local.get(addresses.get(reuse.store.access)!).local.get(colBytes).i32.add();
              if (vectorMode) f.v128.load(4 * unrolledColumns, 2); else f.v128.load32Splat();
              f.local.set(valueLocal(reuse.node));
              known.push(reuse.node);
            }
            compute(columnStores.map((s) => s.value), vectorMode, known);
            for (const store of columnStores) emitStore(store, vectorMode, 4);
          }, columns >= 32);
        }
        f.local.get(row).i32.const(1).i32.add().local.tee(row).local.get(rowEnd).i32.ltU().brIf(nextRow);
      });
    });
  });
  return { bytes: module.encode(), buffers, rows, columns, splitColumns: reductions.length === 0 || down };
}

function combine2(f: FunctionBuilder, op: string): void {
  if (op === 'sum') f.f64x2.add(); else f.f64x2.mul();
}

/**
 * Folds the four f32 lanes in local `v` into a reduction's accumulators: max and min lane
 * by lane in f32; sums and products promoted to f64 (as the reference accumulates), the
 * low two lanes into `low` and the high two into `high`.
 */
function accumulateLanes(f: FunctionBuilder, acc: { lanes?: Local; low?: Local; high?: Local }, v: Local, op: string): void {
  if (op === 'max' || op === 'min') {
    f.local.get(acc.lanes!).local.get(v);
    if (op === 'max') f.f32x4.max(); else f.f32x4.min();
    f.local.set(acc.lanes!);
    return;
  }
  f.local.get(acc.low!).local.get(v).f64x2.promoteLowF32x4(); combine2(f, op); f.local.set(acc.low!);
  f.local.get(acc.high!).local.get(v).local.get(v).i8x16.shuffle([8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7]).f64x2.promoteLowF32x4();
  combine2(f, op); f.local.set(acc.high!);
}

/**
 * In a rows kernel (softmax: max, then Σ exp(x − max), then exp(x − max) / Σ), the costliest
 * value the last reduction and the output both compute: the reduction pass stores it in the
 * output row, and the output pass reads it back instead of computing it again. Only where
 * there is one output, stored contiguously in a buffer the kernel does not read.
 */
function reusedInOutput(program: VectorProgram, innerCoef: (access: Access) => number): { node: VectorNode; store: VectorProgram['stores'][number] } | undefined {
  const { reductions, stores } = program;
  const last = reductions[reductions.length - 1];
  if (!last || program.inPlace || stores.length !== 1 || stores[0]!.phase !== 'column') return undefined;
  const store = stores[0]!;
  if (innerCoef(store.access) !== 1 || store.access.bytes !== 4) return undefined;
  const everything = schedule([...reductions.map((r) => r.input), store.value]);
  if (everything.some((node) => node.kind === 'load' && node.access.buffer === store.access.buffer)) return undefined;
  const inOutput = new Set(schedule([store.value]).map((node) => node.id));
  // The shared op computed last in the reduction's order: the one with the most work below it.
  const shared = schedule([last.input]).filter((node) => node.kind === 'op' && inOutput.has(node.id) && node.type === 'f32');
  const node = shared[shared.length - 1];
  return node ? { node, store } : undefined;
}

const [philoxM0, philoxM1] = philoxMultipliers;
const [philoxW0, philoxW1] = philoxKeyBumps;

/**
 * The uniform float32 draw of each lane: on the stack, the lanes' element offsets (i32x4);
 * leaves (word0 >>> 8) · 2⁻²⁴ of Philox4x32-10 with counter (offset, counter, 0, 0) and key
 * (key, draw), as graph's random.ts specifies and cpu/random.ts computes per element in JS
 * (bit for bit: the shift leaves 24 bits, which float32 holds exactly). The high words of
 * the 32×32-bit products come from i64x2's extended multiplies, two lanes at a time.
 */
function emitUniform(f: FunctionBuilder, draw: number, key: Local, counter: Local, temp: () => Local): void {
  let c = [temp(), temp(), temp(), temp()];
  let next = [temp(), temp(), temp(), temp()];
  const k0 = temp();
  f.local.set(c[0]!);
  f.local.get(counter).local.set(c[1]!);
  f.local.get(key).local.set(k0);
  const mulHigh = (x: Local, m: number): void => {
    f.local.get(x).v128.constI32([m, m, m, m]).i64x2.extmulLowI32x4U();
    f.local.get(x).v128.constI32([m, m, m, m]).i64x2.extmulHighI32x4U();
    f.i8x16.shuffle([4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31]);
  };
  for (let round = 0; round < philoxRounds; round++) {
    // Words 2 and 3 start at zero: round 0 skips their products.
    const zeroHigh = round === 0;
    if (round > 0) f.local.get(k0).v128.constI32([philoxW0, philoxW0, philoxW0, philoxW0]).i32x4.add().local.set(k0);
    const k1 = (draw + round * philoxW1) >>> 0;
    // c0' = hi(M1·c2) ^ c1 ^ k0
    if (zeroHigh) f.local.get(c[1]!); else { mulHigh(c[2]!, philoxM1); f.local.get(c[1]!).v128.xor(); }
    f.local.get(k0).v128.xor().local.set(next[0]!);
    // c1' = lo(M1·c2)
    if (zeroHigh) f.v128.zero(); else f.local.get(c[2]!).v128.constI32([philoxM1, philoxM1, philoxM1, philoxM1]).i32x4.mul();
    f.local.set(next[1]!);
    // c2' = hi(M0·c0) ^ c3 ^ k1
    mulHigh(c[0]!, philoxM0);
    if (!zeroHigh) f.local.get(c[3]!).v128.xor();
    f.v128.constI32([k1, k1, k1, k1]).v128.xor().local.set(next[2]!);
    // c3' = lo(M0·c0)
    f.local.get(c[0]!).v128.constI32([philoxM0, philoxM0, philoxM0, philoxM0]).i32x4.mul().local.set(next[3]!);
    [c, next] = [next, c];
  }
  f.local.get(c[0]!).i32.const(8).i32x4.shrU().f32x4.convertI32x4S();
  f.v128.const([2 ** -24, 2 ** -24, 2 ** -24, 2 ** -24]).f32x4.mul();
}
