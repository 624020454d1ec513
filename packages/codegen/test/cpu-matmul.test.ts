// The cpu device's WebAssembly pieces: the binary encoder, the thread pool over shared
// memory (tasks on every thread, a trap thrown on the main thread, not a hang), and the
// GEMM checked against a float64 product at odd sizes, through transposed, broadcast and
// reversed strides, batched, with every kernel form, on 1 and 2 threads, with and without
// relaxed SIMD.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createMatmul, matmulForms, referenceMatmul, type Matmul, type MatmulCall, type MatmulForm } from '../src/cpu/matmul.ts';
import { ThreadPool } from '../src/cpu/threads.ts';
import { ModuleBuilder } from '../src/cpu/wasm-encode.ts';
import { relaxedSimdSupported } from '../src/cpu/wasm-features.ts';

const pages = 1024; // 64 MiB
const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
const floats = new Float32Array(memory.buffer);
let top = 0;
const alloc = (bytes: number) => { const offset = top; top += Math.ceil(bytes / 64) * 64; return offset; };

let seed = 1;
const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;

test('the encoder builds modules that validate and compute: loops, branches, SIMD, an imported global', () => {
  const module = new ModuleBuilder();
  module.importMemory('env', 'memory', { initial: 0, maximum: pages });
  const thread = module.importGlobal('env', 'thread', 'i32');
  // sum4(p, n): Σ of n floats at byte p (n a multiple of 4), with f32x4 lanes.
  module.addFunction('sum4', ['i32', 'i32'], ['f32'], (f, p, n) => {
    const acc = f.addLocal('v128'), end = f.addLocal('i32');
    f.local.get(p!).local.get(n!).i32.const(4).i32.mul().i32.add().local.set(end);
    f.block((exit) => {
      f.local.get(n!).i32.eqz().brIf(exit);
      f.loop((top) => {
        f.local.get(acc).local.get(p!).v128.load().f32x4.add().local.set(acc);
        f.local.get(p!).i32.const(16).i32.add().local.tee(p!).local.get(end).i32.ltU().brIf(top);
      });
    });
    for (let lane = 0; lane < 4; lane++) { f.local.get(acc).f32x4.extractLane(lane); if (lane > 0) f.f32.add(); }
  });
  module.addFunction('pick', ['i32'], ['i32'], (f, x) => {
    f.local.get(x!).i32.const(-5).i32.gtS().if(() => { f.global.get(thread).return(); }, () => { f.i64.const(-1234567890123n).i32.wrapI64().return(); });
    f.i32.const(0);
  });
  const bytes = module.encode();
  assert.ok(WebAssembly.validate(bytes));
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory, thread: 7 } });
  const { sum4, pick } = instance.exports as { sum4: (p: number, n: number) => number; pick: (x: number) => number };
  const start = alloc(32);
  floats.set([1, 2, 3, 4, 5, 6, 7, 8], start / 4);
  assert.is(sum4(start, 8), 36);
  assert.is(pick(0), 7);
  assert.is(pick(-9), Number(BigInt.asIntN(32, -1234567890123n)));
});

function poolModule(): Uint8Array<ArrayBuffer> {
  const module = new ModuleBuilder();
  module.importMemory('env', 'memory', { initial: 0, maximum: pages });
  const thread = module.importGlobal('env', 'thread', 'i32');
  // put(slot, value): traps on a negative value, else stores value + 100000 · thread.
  module.addFunction('put', ['i32', 'i32'], [], (f, slot, value) => {
    f.local.get(value!).i32.const(0).i32.ltS().if(() => { f.unreachable(); });
    f.local.get(slot!).local.get(value!).global.get(thread).i32.const(100000).i32.mul().i32.add().i32.store();
  });
  return module.encode();
}

for (const threads of [1, 2]) {
  test(`the pool runs every task once with ${threads} thread(s), and a trap is thrown on the main thread`, async () => {
    const pool = await ThreadPool.create(memory, threads);
    try {
      const id = await pool.register(poolModule());
      const slots = alloc(4 * 3000);
      const ints = new Int32Array(memory.buffer, slots, 3000).fill(-1);
      pool.run(id, 'put', Array.from({ length: 3000 }, (_, i) => [slots + 4 * i, i]));
      assert.ok(ints.every((value, i) => value % 100000 === i && Math.floor(value / 100000) < threads));
      assert.throws(() => pool.run(id, 'put', [[slots, 1], [slots + 4, -1], [slots + 8, 3]]), /unreachable/);
      ints.fill(0);
      pool.run(id, 'put', [[slots, 5], [slots + 4, 6]]); // still usable after the trap
      assert.equal([ints[0]! % 100000, ints[1]! % 100000], [5, 6]);
      assert.throws(() => pool.run(id, 'missing', [[]]), /no exported function 'missing'/);
    } finally {
      await pool.close();
    }
    assert.throws(() => pool.run(0, 'put', [[0, 0]]), /closed/);
  });
}

/** Fills A and B with random values in views of the given strides; returns the call. */
function makeCall(m: number, n: number, k: number, batch: number, layout: { aT?: boolean; bT?: boolean; aBroadcast?: boolean; bReversed?: boolean }): MatmulCall {
  const aSize = m * k, bSize = k * n;
  const aOffset = alloc(4 * aSize * (layout.aBroadcast ? 1 : batch)) / 4;
  const bOffset = alloc(4 * bSize * batch) / 4;
  const cOffset = alloc(4 * (m * (n + 3)) * batch) / 4;
  for (let i = 0; i < aSize * (layout.aBroadcast ? 1 : batch); i++) floats[aOffset + i] = random();
  for (let i = 0; i < bSize * batch; i++) floats[bOffset + i] = random();
  const bRow = layout.bT ? 1 : n, bColumn = layout.bT ? k : 1;
  return {
    a: { offset: aOffset, strides: [layout.aBroadcast ? 0 : aSize, layout.aT ? 1 : k, layout.aT ? m : 1] },
    // Reversed: row p of B is stored row k-1-p.
    b: layout.bReversed
      ? { offset: bOffset + (k - 1) * bRow, strides: [bSize, -bRow, bColumn] }
      : { offset: bOffset, strides: [bSize, bRow, bColumn] },
    c: { offset: cOffset, strides: [m * (n + 3), n + 3] }, // padded rows: C's row stride ≠ n
    m, n, k, batch,
  };
}

function check(matmul: Matmul, call: MatmulCall, label: string, form?: MatmulForm): void {
  const { c, m, n, k, batch = 1 } = call;
  for (let index = 0; index < batch; index++) floats.fill(Number.NaN, c.offset + index * c.strides[0], c.offset + index * c.strides[0] + m * c.strides[1]);
  matmul.run(call, form);
  const expected = referenceMatmul(floats, call);
  const tolerance = 1e-6 + 4e-6 * k; // operands in [-1, 1]: Σ|a·b| ≤ k
  for (let index = 0; index < batch; index++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        const got = floats[c.offset + index * c.strides[0] + i * c.strides[1] + j]!;
        const want = expected[(index * m + i) * n + j]!;
        if (!(Math.abs(got - want) <= tolerance)) {
          assert.unreachable(`${label}${form ? ` [${form}]` : ''}: C[${index}, ${i}, ${j}] = ${got}, expected ${want}`);
        }
      }
      // The padding columns beyond n stay untouched.
      if (i < m - 1) assert.ok(Number.isNaN(floats[c.offset + index * c.strides[0] + i * c.strides[1] + n]!), `${label}: wrote past column ${n}`);
    }
  }
}

const sizes: [number, number, number][] = [
  [1, 1, 1], [1, 1, 9], [2, 3, 1], [3, 5, 7], [4, 8, 8], [5, 9, 13], [7, 33, 17], [13, 1, 11], [1, 37, 70],
  [17, 40, 3], [64, 12, 84], [33, 100, 65], [130, 20, 9], [9, 130, 260], [100, 1, 300],
];
const layouts = [{}, { bT: true }, { aT: true }, { aT: true, bT: true }, { bReversed: true }] as const;

for (const threads of [1, 2]) {
  test(`matmul with ${threads} thread(s): odd sizes, every layout, chosen kernels`, async () => {
    const pool = await ThreadPool.create(memory, threads);
    try {
      const matmul = await createMatmul(pool, alloc);
      const mark = top;
      for (const [m, n, k] of sizes) {
        for (const layout of layouts) {
          top = mark;
          check(matmul, makeCall(m, n, k, 1, layout), `${m}×${k}·${k}×${n} ${JSON.stringify(layout)}`);
        }
      }
      // Large enough to be split into tasks over rows, over columns, and over the batch.
      for (const [m, n, k, batch] of [[300, 260, 270, 1], [3, 2000, 150, 1], [1000, 3, 150, 1], [37, 45, 53, 7]] as const) {
        top = mark;
        check(matmul, makeCall(m, n, k, batch, {}), `${m}×${k}·${k}×${n} batch ${batch}`);
        top = mark;
        check(matmul, makeCall(m, n, k, batch, { bT: true, aBroadcast: true }), `${m}×${k}·${k}×${n} batch ${batch}, A broadcast, B transposed`);
      }
      top = mark;
    } finally {
      await pool.close();
    }
  });
}

test('every kernel form is exact wherever it can read the strides, with and without relaxed SIMD', async () => {
  const pool = await ThreadPool.create(memory, 2);
  try {
    const variants = [await createMatmul(pool, alloc, { relaxed: false })];
    if (relaxedSimdSupported()) variants.push(await createMatmul(pool, alloc, { relaxed: true }));
    assert.is(variants[0]!.relaxed, false);
    const mark = top;
    for (const matmul of variants) {
      for (const [m, n, k] of [[1, 1, 1], [5, 9, 13], [1, 70, 37], [13, 2, 35], [6, 6, 4], [33, 65, 100], [9, 260, 130]] as const) {
        for (const layout of [{}, { bT: true }] as const) {
          top = mark;
          const call = makeCall(m, n, k, 2, layout);
          for (const form of matmulForms) {
            const rowsFit = call.b.strides[2] === 1 || n === 1;
            const dotsFit = (call.a.strides[2] === 1 && call.b.strides[1] === 1) || k === 1;
            const fits = form === 'gemm' || (form.startsWith('rows') ? rowsFit : dotsFit);
            if (fits) check(matmul, call, `${m}×${k}·${k}×${n} ${JSON.stringify(layout)} relaxed ${matmul.relaxed}`, form);
            else assert.throws(() => matmul.run(call, form), /cannot read these strides/);
          }
        }
      }
    }
    top = mark;
  } finally {
    await pool.close();
  }
});

test('matmul refuses calls it cannot do, with the reason', async () => {
  const pool = await ThreadPool.create(memory, 1);
  const matmul = await createMatmul(pool, alloc);
  const call = makeCall(3, 4, 5, 2, {});
  assert.throws(() => matmul.run({ ...call, k: 0 }), /k must be a whole number ≥ 1/);
  assert.throws(() => matmul.run({ ...call, c: { offset: call.c.offset, strides: [0, 7] } }), /batch stride 0/);
  assert.throws(() => matmul.run({ ...call, c: { offset: call.c.offset, strides: [40, 2] } }), /overlaps its rows/);
  await pool.close();
});

test.run();
