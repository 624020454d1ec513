// Files of the training code: .npy headers byte for byte against hand-computed ones,
// .npz round trips for every dtype, the errors for damaged files, atomic writes that
// leave the old file whole when the rename fails, and saveModel/loadModel. Where python3
// with numpy is installed, numpy reads our archive and we read numpy's; numpy is not a
// project requirement, so that cross-check says out loud when it did not run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import * as T from '@theorbo/graph';
import { NDArray } from '@theorbo/graph';
import { writeFileAtomic } from '../src/files/atomic-write.ts';
import { decodeNpy, encodeNpy, loadModel, loadNpz, readNpz, saveModel, saveNpz, assignWeights } from '../src/train/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'theorbo-train-files-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string): string => join(dir, name);

const latin1 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');

test('npy header of float32 [2,3] is numpy 1.0 format, padded to 128 bytes', () => {
  const bytes = encodeNpy(T.array(new Float32Array([1, 2, 3, 4, 5, 6]), { shape: [2, 3] }));
  // Hand count: the dict is 59 characters; numpy adds 21 − len('2') = 20 spaces of growth
  // room; 10 (prefix) + 59 + 20 + 1 (newline) = 90, so 38 more spaces reach 128.
  const dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  assert.is(dict.length, 59);
  const expectedHeader = `${dict}${' '.repeat(20 + 38)}\n`;
  assert.equal([...bytes.subarray(0, 8)], [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  assert.is(bytes[8]! + 256 * bytes[9]!, 118, 'header length field');
  assert.is(latin1(bytes.subarray(10, 128)), expectedHeader);
  assert.is(bytes.length, 128 + 24);
  assert.equal([...new Float32Array(bytes.slice(128).buffer)], [1, 2, 3, 4, 5, 6]);
});

test('npy headers for the other dtypes and ranks: descr, shape tuple, 64-byte alignment', () => {
  const cases: [NDArray, string, string][] = [
    [T.array(new Float64Array([2.5]), { shape: [] }), '<f8', '()'],
    [T.array(new Int32Array([1, -2, 3, 4, 5]), { shape: [5] }), '<i4', '(5,)'],
    [T.array(new Uint32Array(6), { shape: [1, 2, 3] }), '<u4', '(1, 2, 3)'],
    [new NDArray('bool', [2, 2], new Uint8Array([1, 0, 0, 1])), '|b1', '(2, 2)'],
  ];
  for (const [array, descr, shape] of cases) {
    const bytes = encodeNpy(array);
    const length = bytes[8]! + 256 * bytes[9]!;
    const header = latin1(bytes.subarray(10, 10 + length));
    assert.is((10 + length) % 64, 0, `${descr} header is aligned`);
    assert.ok(header.startsWith(`{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`), header);
    assert.ok(header.endsWith('\n') && /^ *$/.test(header.slice(header.indexOf('}') + 1, -1)));
    const back = decodeNpy(bytes, 'test');
    assert.is(back.dtype, array.dtype);
    assert.equal(back.shape, array.shape);
    assert.equal([...back.data], [...array.data]);
  }
});

test('npy in Fortran order (numpy saves a transposed view so) is read into C order', () => {
  // numpy.save(np.arange(24).reshape(4, 3, 2).T) writes shape (2, 3, 4), fortran_order True,
  // and the bytes 0 … 23 as they lie; element [i, j, k] of it is 6k + 2j + i.
  const header = "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3, 4), }";
  const padded = `${header}${' '.repeat(64 - ((10 + header.length + 1) % 64))}\n`;
  const bytes = new Uint8Array(10 + padded.length + 24 * 4);
  bytes.set(encodeNpy(T.array(new Int32Array([0]), { shape: [1] })).subarray(0, 8));
  bytes[8] = padded.length;
  bytes.set(Buffer.from(padded, 'latin1'), 10);
  bytes.set(new Uint8Array(Int32Array.from({ length: 24 }, (_, i) => i).buffer), 10 + padded.length);
  const back = decodeNpy(bytes, 'test');
  assert.equal(back.shape, [2, 3, 4]);
  for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) assert.is(back.at(i, j, k), 6 * k + 2 * j + i, `[${i}, ${j}, ${k}]`);
});

test('npz round trip keeps names, dtypes, shapes and bits (NaN, −0, extremes)', () => {
  const arrays = {
    weights0: T.array(new Float32Array([NaN, -0, 3.4e38, -1.5e-45, 1 / 3, 7]), { shape: [3, 2] }),
    'layer/bias': T.array(new Float64Array([Math.PI, -Infinity]), { shape: [2] }),
    step: NDArray.scalar(-7, 'int32'),
    state: T.array(new Uint32Array([0xffffffff, 1]), { shape: [2] }),
    mask: new NDArray('bool', [3], new Uint8Array([1, 0, 1])),
    empty: NDArray.zeros('float32', [0, 4]),
  };
  saveNpz(file('round.npz'), arrays);
  const back = loadNpz(file('round.npz'));
  assert.equal(Object.keys(back).sort(), Object.keys(arrays).sort());
  for (const [name, array] of Object.entries(arrays)) {
    const got = back[name]!;
    assert.is(got.dtype, array.dtype, name);
    assert.equal(got.shape, array.shape, name);
    assert.equal(new Uint8Array(got.data.buffer, got.data.byteOffset, got.data.byteLength), new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength), name);
  }
  // Equal arrays give equal bytes (fixed member timestamps).
  saveNpz(file('round2.npz'), arrays);
  assert.equal(readFileSync(file('round2.npz')), readFileSync(file('round.npz')));
  // Compressed archives read back the same.
  saveNpz(file('compressed.npz'), arrays, { compress: true });
  assert.equal([...loadNpz(file('compressed.npz')).weights0!.data.slice(1)], [...arrays.weights0.data.slice(1)]);
});

test('npz errors name the file and the reason', () => {
  writeFileSync(file('text.npz'), 'hello, not a zip at all');
  assert.throws(() => loadNpz(file('text.npz')), (error: Error) => error.message.includes(file('text.npz')) && /not a zip archive/.test(error.message));
  assert.throws(() => loadNpz(file('missing.npz')), (error: Error) => error.message.includes(file('missing.npz')) && /no such file/.test(error.message));
  const good = encodeNpy(T.array(new Float32Array([1, 2]), { shape: [2] }));
  const withHeader = (text: string): Uint8Array => {
    const header = `${text}\n`;
    const out = new Uint8Array(10 + header.length + 8);
    out.set(good.subarray(0, 8));
    out[8] = header.length;
    out.set(Buffer.from(header, 'latin1'), 10);
    return out;
  };
  const badMagic = good.slice();
  badMagic[1] = 0x58;
  const cases: [string, Uint8Array, RegExp][] = [
    ['magic', badMagic, /bad magic/],
    ['dtype', withHeader("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }"), /unsupported dtype '<i8'/],
    ['bigendian', withHeader("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }"), /unsupported dtype '>f4'/],
    ['truncated', good.subarray(0, good.length - 3), /needs 8 data bytes, but holds 5/],
  ];
  for (const [name, member, reason] of cases) {
    const path = file(`${name}.npz`);
    // Zipped by hand: encodeNpz only writes well-formed members.
    writeFileSync(path, zipSync({ 'x.npy': [member, { level: 0 }] }));
    assert.throws(() => loadNpz(path), (error: Error) => error.message.includes(path) && error.message.includes('x.npy') && reason.test(error.message), name);
  }
});

test('atomic write: a failed rename leaves the old file whole and no temporary file', () => {
  const path = file('atomic/target.bin');
  writeFileAtomic(path, new Uint8Array([1, 2, 3]), { createDirectory: true });
  assert.equal([...readFileSync(path)], [1, 2, 3]);
  const crash = (): void => {
    throw new Error('simulated crash before the rename');
  };
  assert.throws(() => writeFileAtomic(path, new Uint8Array(1000).fill(9), { hooks: { rename: crash } }), /simulated crash.*previous file.*unchanged/);
  assert.equal([...readFileSync(path)], [1, 2, 3]);
  assert.equal(readdirSync(file('atomic')), ['target.bin']);
  // The same through saveNpz: the previous archive still loads.
  saveNpz(file('atomic/w.npz'), { w: T.array(new Float32Array([1]), { shape: [1] }) });
  assert.throws(() => saveNpz(file('atomic/w.npz'), { w: T.array(new Float32Array([2]), { shape: [1] }) }, { hooks: { rename: crash } }));
  assert.is(loadNpz(file('atomic/w.npz')).w!.data[0], 1);
  assert.equal(readdirSync(file('atomic')).sort(), ['target.bin', 'w.npz']);
  // Writing into a directory that cannot be created is an error naming the path; without
  // createDirectory a missing directory is refused, naming the operation and the directory.
  writeFileSync(file('plainfile'), 'x');
  assert.throws(() => writeFileAtomic(file('plainfile/inside.bin'), 'x', { createDirectory: true }), /^cannot write .*plainfile\/inside\.bin: EEXIST/);
  assert.throws(() => writeFileAtomic(file('absent/inside.bin'), 'x', { operation: 'demo' }), /^demo: cannot write .*absent\/inside\.bin: its directory .*absent does not exist/);
});

test('saveModel/loadModel: weights.npz by parameter name plus config.json; assignWeights restores them', async () => {
  const w = T.shared(T.array(new Float32Array([1, 2, 3, 4, 5, 6]), { shape: [3, 2] }), 'weights0');
  const b = T.shared(new Float32Array([0.5, -0.5]), 'bias0');
  await saveModel(file('model'), [w, b], { kind: 'logistic', inputs: 3 });
  const loaded = loadModel<{ kind: string; inputs: number }>(file('model'));
  assert.equal(loaded.config, { kind: 'logistic', inputs: 3 });
  assert.equal(loaded.params.map((p) => p.name), ['weights0', 'bias0']);
  assert.equal([...loaded.weights.weights0!.data], [1, 2, 3, 4, 5, 6]);
  const w2 = T.shared(NDArray.zeros('float32', [3, 2]), 'weights0');
  const b2 = T.shared(new Float32Array(2), 'bias0');
  assignWeights([w2, b2], loaded.weights);
  assert.equal([...b2.get().data], [0.5, -0.5]);
  const unnamed = T.shared(new Float32Array(2));
  await saveModel(file('bad'), [unnamed], {}).then(() => assert.unreachable(), (error: Error) => assert.match(error.message, /has no name/));
  assert.throws(() => loadModel(file('nowhere')), /config\.json cannot be read: no such file/);
});

const numpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
test('numpy reads our .npz and we read numpy\'s (runs only where python3 has numpy)', () => {
  if (numpy.status !== 0) {
    console.log('\n  NOT RUN: the numpy cross-check needs python3 with numpy, which is not installed here; the byte-level header tests above still ran');
    return;
  }
  const path = file('for-numpy.npz');
  saveNpz(path, {
    a: T.array(new Float32Array([1.5, -2, 3, 4.25, 5, 6]), { shape: [2, 3] }),
    b: T.array(new Int32Array([7, -8]), { shape: [2] }),
    c: new NDArray('bool', [3], new Uint8Array([1, 0, 1])),
    d: NDArray.scalar(0.1, 'float64'),
  }, { otherFiles: { 'note.json': new TextEncoder().encode('{"x":1}') } });
  const script = `
import numpy as np, io, sys, json
z = np.load(sys.argv[1])
out = {k: [str(z[k].dtype), list(z[k].shape), float(np.sum(z[k]))] for k in ['a', 'b', 'c', 'd']}
out['note'] = z['note.json'].decode()
np.savez(sys.argv[2], m=np.arange(6, dtype=np.float32).reshape(3, 2) / 4, n=np.array([True, False]), u=np.array([4000000000], dtype=np.uint32))
b = io.BytesIO(); np.save(b, np.zeros((2, 3), np.float32)); out['header'] = b.getvalue()[:128].decode('latin1')
print(json.dumps(out))`;
  const result = spawnSync('python3', ['-c', script, path, file('from-numpy.npz')], { encoding: 'utf8' });
  assert.is(result.status, 0, result.stderr);
  const out = JSON.parse(result.stdout) as Record<string, unknown>;
  assert.equal(out.a, ['float32', [2, 3], 17.75]);
  assert.equal(out.b, ['int32', [2], -1]);
  assert.equal(out.c, ['bool', [3], 2]);
  assert.equal(out.d, ['float64', [], 0.1]);
  assert.is(out.note, '{"x":1}');
  assert.is(out.header, latin1(encodeNpy(NDArray.zeros('float32', [2, 3])).subarray(0, 128)), 'our header is numpy\'s, byte for byte');
  const theirs = readNpz(file('from-numpy.npz')).arrays;
  assert.equal(theirs.m!.shape, [3, 2]);
  assert.equal([...theirs.m!.data], [0, 0.25, 0.5, 0.75, 1, 1.25]);
  assert.equal([...theirs.n!.data], [1, 0]);
  assert.equal([...theirs.u!.data], [4000000000]);
});

test.run();
