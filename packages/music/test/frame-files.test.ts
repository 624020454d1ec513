// Per-frame files as other tools read them: numpy's genfromtxt/loadtxt on the CSV
// (a plain header row, no '#'), numpy.load on the NPY; and the chroma normalizations.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normalizeRows, pitchClassColumns, writeFrameFile } from '../src/cli/frame-files.ts';

const dir = mkdtempSync(join(tmpdir(), 'theorbo-frames-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const python = '/usr/bin/python3';

const times = [0, 0.0232, 0.0464];
const values = Array.from({ length: 36 }, (_, k) => ((k * 7) % 12) / 11 - 0.25);

test('numpy reads the CSV (genfromtxt with names, loadtxt) and the NPY back', () => {
  if (!existsSync(python)) throw new Error(`${python} is missing: apt-get install python3 python3-numpy (scripts/setup.sh does).`);
  const csv = writeFrameFile(join(dir, 'chroma'), 'csv', times, values, pitchClassColumns, 'test');
  const npy = writeFrameFile(join(dir, 'chroma'), 'npy', times, values, pitchClassColumns, 'test');
  const script = [
    'import json, sys, numpy',
    'named = numpy.genfromtxt(sys.argv[1], delimiter=",", names=True)',
    'plain = numpy.loadtxt(sys.argv[1], delimiter=",", skiprows=1)',
    'loaded = numpy.load(sys.argv[2])',
    'print(json.dumps({"names": list(named.dtype.names), "csv": plain.tolist(), "npy": loaded.tolist(), "dtype": str(loaded.dtype)}))',
  ].join('\n');
  const read = JSON.parse(execFileSync(python, ['-c', script, csv, npy], { encoding: 'utf8' })) as { names: string[]; csv: number[][]; npy: number[][]; dtype: string };
  assert.equal(read.names, ['time', ...pitchClassColumns]);
  assert.is(read.dtype, 'float64');
  const expected = times.map((time, f) => [time, ...values.slice(f * 12, f * 12 + 12)]);
  assert.equal(read.npy, expected, 'NPY: exact');
  read.csv.forEach((row, f) => row.forEach((value, k) => assert.ok(Math.abs(value - expected[f]![k]!) < 1e-5, `CSV frame ${f} column ${k}: ${value} vs ${expected[f]![k]}`)));
});

test('normalizeRows: max, l1, l2 and none per frame; a silent frame stays zero', () => {
  const rows = [3, -4, 0, 0, 0, 0];
  assert.equal(Array.from(normalizeRows(rows, 3, 'max')), [0.75, -1, 0, 0, 0, 0]);
  assert.equal(Array.from(normalizeRows(rows, 3, 'l1')), [3 / 7, -4 / 7, 0, 0, 0, 0]);
  assert.equal(Array.from(normalizeRows(rows, 3, 'l2')), [0.6, -0.8, 0, 0, 0, 0]);
  assert.equal(Array.from(normalizeRows(rows, 3, 'none')), rows);
  assert.throws(() => normalizeRows(rows, 3, 'l3' as 'l1'), /normalizeRows: norm 'l3'/);
});

test.run();
