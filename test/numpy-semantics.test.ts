// Differential test against numpy's semantics: every elementwise op, reduction, indexing
// form and broadcast on edge values (negative, ±0, ±inf, NaN, huge, tiny), by the
// reference evaluator (static shapes) and by compile() on the acquired WebGPU device
// (llvmpipe in CI; shapes known only at run time), each against numpy's answers in
// test/fixtures/numpy-semantics.json (written by scripts/numpy-fixtures.py, committed so
// that CI needs no numpy; where python3 with numpy is present the test checks that the
// file is current). Where Theorbo differs from numpy by a documented rule (int32
// results, float32 promotion, saturating casts …) the fixture holds Theorbo's answer and
// names the rule. Special values compare exactly: NaN with NaN, infinities by sign, and
// zeros by sign; finite values within a tolerance by op (float32's rounding for
// correctly rounded ops, a few ulp for transcendental ones on the reference, more for
// the device's built-ins and for sums, whose order differs from numpy's).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import type { DType, IndexItem, NDArray, Variable } from '@theorbo/graph';
import { acquireDevice, compile } from '@theorbo/codegen';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fixturePath = join(root, 'test', 'fixtures', 'numpy-semantics.json');

type Encoded = { dtype: string; shape: number[]; data: (number | boolean | string)[] };
interface Case {
  name: string;
  op: string;
  kwargs: Record<string, any>;
  inputs: Encoded[];
  expected: Encoded;
  deviation?: string;
  numpy?: Encoded | { raises: string };
}
const fixtures = JSON.parse(readFileSync(fixturePath, 'utf8')) as { deviations: Record<string, string>; cases: Case[] };

const special: Record<string, number> = { nan: NaN, inf: Infinity, '-inf': -Infinity, '-0': -0 };
const dtypeOf = (name: string): DType => (name === 'int64' ? 'int32' : name === 'float64' ? 'float32' : name) as DType;

function decode(encoded: Encoded): NDArray {
  const dtype = dtypeOf(encoded.dtype);
  const data = T.allocate(dtype, encoded.data.length);
  encoded.data.forEach((value, i) => (data[i] = typeof value === 'string' ? special[value]! : Number(value)));
  return new T.NDArray(dtype, encoded.shape, data);
}

// ---- how Theorbo spells each op of the fixtures ----
type Build = (inputs: Variable[], kwargs: Record<string, any>) => Variable;
const unary = (fn: (x: Variable) => Variable): Build => ([x]) => fn(x!);
const binary = (fn: (a: Variable, b: Variable) => Variable): Build => ([a, b]) => fn(a!, b!);
const reduction = (fn: (x: Variable, axis?: number | number[] | null, keepdims?: boolean) => Variable): Build => ([x], { axis, keepdims }) => fn(x!, axis ?? null, keepdims ?? false);

function indexItems(inputs: Variable[], items: any[]): IndexItem[] {
  return items.map((item) => (item !== null && typeof item === 'object' ? ('slice' in item ? T.slice(...(item.slice as [number | null, number | null, number | null])) : inputs[item.input]!) : item));
}

const builds: Record<string, Build> = {
  neg: unary(T.neg), abs: unary(T.abs), sign: unary(T.sign), exp: unary(T.exp), log: unary(T.log), log1p: unary(T.log1p),
  expm1: unary(T.expm1), sqrt: unary(T.sqrt), rsqrt: unary(T.rsqrt), square: unary(T.square), reciprocal: unary(T.reciprocal),
  sin: unary(T.sin), cos: unary(T.cos), tan: unary(T.tan), tanh: unary(T.tanh), sigmoid: unary(T.sigmoid), softplus: unary(T.softplus),
  erf: unary(T.erf), floor: unary(T.floor), ceil: unary(T.ceil), round: unary(T.round), logicalNot: unary(T.logicalNot),
  stopGradient: unary(T.stopGradient),
  add: binary(T.add), sub: binary(T.sub), mul: binary(T.mul), div: binary(T.div), intDiv: binary(T.intDiv), mod: binary(T.mod),
  pow: binary(T.pow), maximum: binary(T.maximum), minimum: binary(T.minimum), atan2: binary(T.atan2),
  eq: binary(T.eq), ne: binary(T.ne), lt: binary(T.lt), le: binary(T.le), gt: binary(T.gt), ge: binary(T.ge),
  logicalAnd: binary(T.logicalAnd), logicalOr: binary(T.logicalOr), logicalXor: binary(T.logicalXor),
  cast: ([x], { dtype }) => T.cast(x!, dtype),
  where: ([c, a, b]) => T.where(c!, a!, b!),
  clip: ([x, lo, hi]) => T.clip(x!, lo!, hi!),
  sum: reduction(T.sum), prod: reduction(T.prod), max: reduction(T.max), min: reduction(T.min), any: reduction(T.any), all: reduction(T.all),
  mean: reduction(T.mean),
  argmax: ([x], { axis }) => T.argmax(x!, axis ?? null), argmin: ([x], { axis }) => T.argmin(x!, axis ?? null),
  variance: ([x], { axis, ddof }) => T.variance(x!, axis, { ddof }),
  std: ([x], { axis, ddof }) => T.std(x!, axis, { ddof }),
  logsumexp: ([x], { axis }) => T.logsumexp(x!, axis ?? null),
  softmax: ([x], { axis }) => T.softmax(x!, axis),
  logSoftmax: ([x], { axis }) => T.logSoftmax(x!, axis),
  get: (inputs, { items }) => T.get(inputs[0]!, ...indexItems(inputs, items)),
  setSubtensor: (inputs, { items }) => T.setSubtensor(inputs[0]!, indexItems(inputs, items), inputs[inputs.length - 1]!),
  incSubtensor: (inputs, { items }) => T.incSubtensor(inputs[0]!, indexItems(inputs, items), inputs[inputs.length - 1]!),
  oneHot: ([x], { depth }) => T.oneHot(x!, depth),
  concat: (inputs, { axis }) => T.concat(inputs, axis),
  pad: ([x], { widths, mode }) => T.pad(x!, widths, { mode }),
  flip: ([x], { axis }) => T.flip(x!, axis),
  roll: ([x], { shift, axis }) => T.roll(x!, shift, axis),
  transpose: ([x], { axes }) => T.transpose(x!, axes),
  reshape: ([x], { shape }) => T.reshape(x!, shape),
  broadcastTo: ([x], { shape }) => T.broadcastTo(x!, shape),
  matmul: binary(T.matmul),
};

// ---- tolerances: [relative, absolute], on the reference and on the device ----
type Tolerance = readonly [number, number];
const exactOps = new Set(['neg', 'abs', 'sign', 'square', 'floor', 'ceil', 'round', 'logicalNot', 'stopGradient', 'cast', 'add', 'sub', 'mul',
  'intDiv', 'mod', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr', 'logicalXor', 'where', 'clip',
  'max', 'min', 'any', 'all', 'argmax', 'argmin', 'get', 'setSubtensor', 'incSubtensor', 'oneHot', 'concat', 'pad', 'flip', 'roll',
  'transpose', 'reshape', 'broadcastTo']);
/** Correctly rounded in IEEE arithmetic; WGSL allows 2.5 ulp for division and sqrt's inverse. */
const roundedOps = new Set(['div', 'sqrt', 'rsqrt', 'reciprocal']);
/** Sums in another order than numpy's pairwise one. */
const summingOps = new Set(['sum', 'prod', 'mean', 'variance', 'std', 'logsumexp', 'softmax', 'logSoftmax', 'matmul']);

/**
 * Ops whose zero's sign is not specified: which of +0 and −0 maximum and minimum return
 * follows the CPU's SIMD instructions in numpy, and a sum's zero depends on its order
 * and on the device's compiler dropping `0 + x` (llvmpipe compiles with fast math).
 */
const zeroSignFree = (c: Case, onDevice: boolean): boolean =>
  ['maximum', 'minimum', 'clip'].includes(c.op) || (onDevice && summingOps.has(c.op));

function tolerance(c: Case, onDevice: boolean): Tolerance {
  if (c.expected.dtype !== 'float32' || exactOps.has(c.op)) return [0, 0];
  if (roundedOps.has(c.op)) return onDevice ? [4e-7, 0] : [0, 0];
  if (summingOps.has(c.op)) return onDevice ? [1e-5, 1e-6] : [1e-6, 1e-7];
  // Transcendental: numpy's float32 functions are within a few ulp; the device's built-ins less close.
  return onDevice ? [2e-5, 2e-7] : [1.2e-6, 1e-38];
}

/** The mismatches of `got` against `want`, as sentences (at most five). */
function mismatches(got: NDArray, want: NDArray, [rtol, atol]: Tolerance, inputs: NDArray[], signedZeros: boolean, excludes?: (operands: number[]) => boolean): string[] {
  if (got.dtype !== want.dtype) return [`dtype ${got.dtype}, expected ${want.dtype}`];
  if (got.shape.join() !== want.shape.join()) return [`shape [${got.shape}], expected [${want.shape}]`];
  const out: string[] = [];
  for (let i = 0; i < want.size && out.length < 5; i++) {
    const [a, b] = [got.data[i]!, want.data[i]!];
    if (excludes && excludes(operandValues(i, want.shape, inputs))) continue;
    const ok = Number.isNaN(b) ? Number.isNaN(a)
      : !Number.isFinite(b) ? a === b
      : b === 0 ? (a === 0 ? Object.is(a, b) || !signedZeros : Math.abs(a) <= atol)
      : Math.abs(a - b) <= rtol * Math.abs(b) + atol;
    if (!ok) out.push(`element ${i}${operandsAt(i, want.shape, inputs)}: got ${show(a)}, numpy ${show(b)}`);
  }
  return out;
}

const show = (v: number): string => (Object.is(v, -0) ? '-0' : String(v));

/** The operands behind output element i, for elementwise cases (same or broadcast shapes); NaN where it has none. */
function operandValues(i: number, shape: readonly number[], inputs: NDArray[]): number[] {
  if (inputs.some((input) => input.ndim > shape.length)) return inputs.map(() => NaN);
  const index = shape.map((_, axis) => Math.floor(i / shape.slice(axis + 1).reduce((p, d) => p * d, 1)) % shape[axis]!);
  return inputs.map((input) => {
    const own = index.slice(shape.length - input.ndim).map((k, axis) => (input.shape[axis] === 1 ? 0 : k));
    return input.shape.every((d, axis) => d === 1 || d === shape[shape.length - input.ndim + axis]) ? input.at(...own) : NaN;
  });
}

function operandsAt(i: number, shape: readonly number[], inputs: NDArray[]): string {
  const values = operandValues(i, shape, inputs);
  return values.some((v) => Number.isNaN(v)) && !inputs.every((input) => input.ndim <= shape.length) ? '' : ` (of ${values.map(show).join(', ')})`;
}

/**
 * The device's documented deviations: elements it is not held to, by op, with the reason
 * (README, "Numerics"). Each is printed when it applies, never skipped silently.
 */
const deviceDeviations: Record<string, { reason: string; excludes: (operands: number[]) => boolean }> = Object.fromEntries(
  ['sin', 'cos', 'tan'].map((op) => [op, {
    reason: `${op} of |x| ≥ 2²⁴ on llvmpipe is not range-reduced exactly (numpy's is)`,
    excludes: (operands: number[]) => operands.some((x) => Math.abs(x) >= 2 ** 24),
  }]),
);

/** Cases that need what another part of issue 15 brings (zero-size tensors on the device): a throw is reported, a result must be right. */
const pendingOnDevice: Record<string, string> = {
  'logsumexp over an empty axis': 'zero-size tensors on the device',
};

function failure(c: Case, where: string, problems: string[]): string {
  return `${c.name} on ${where}: ${problems.join('; ')}`;
}

// ---- the cases ----
const onHost = (c: Case): string[] => {
  const values = c.inputs.map(decode);
  const inputs = values.map((value, k) => T.tensor(value.dtype, value.shape, `in${k}`));
  const got = T.evaluate(builds[c.op]!(inputs, c.kwargs), inputs.map((input, k) => [input, values[k]!] as const));
  return mismatches(got, decode(c.expected), tolerance(c, false), values, !zeroSignFree(c, false));
};

const onDevice = async (c: Case): Promise<string[]> => {
  const device = await acquireDevice();
  assert.ok(device.kind !== 'reference', `no WebGPU device: ${device.skipped.map((s) => s.reason).join('; ')}`);
  const values = c.inputs.map(decode);
  // Sizes known only at run time, except size-1 axes, which broadcast and must say so.
  const inputs = values.map((value, k) => T.tensor(value.dtype, value.shape.map((d) => (d === 1 ? 1 : null)), `in${k}`));
  const fn = compile({ inputs, outputs: [builds[c.op]!(inputs, c.kwargs)], device });
  const [got] = await fn(...values);
  return mismatches(got as NDArray, decode(c.expected), tolerance(c, true), values, !zeroSignFree(c, true), deviceDeviations[c.op]?.excludes);
};

test('every op of the fixtures has a builder, and every deviation is a documented rule', () => {
  assert.equal(fixtures.cases.filter((c) => !(c.op in builds)).map((c) => c.op), []);
  assert.equal(fixtures.cases.filter((c) => c.deviation !== undefined && !(c.deviation in fixtures.deviations)).map((c) => c.name), []);
  assert.ok(fixtures.cases.length > 150, `only ${fixtures.cases.length} cases`);
});

test('the fixtures are what numpy answers today (where python3 with numpy is present)', () => {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    console.log('  numpy-semantics: /usr/bin/python3 with numpy not found; the committed fixtures are used as they are');
    return;
  }
  const result = spawnSync('/usr/bin/python3', [join(root, 'scripts', 'numpy-fixtures.py'), '--check'], { encoding: 'utf8' });
  assert.is(result.status, 0, result.stderr);
});

test('the reference evaluator agrees with numpy', () => {
  const failures = fixtures.cases.flatMap((c) => {
    try {
      const problems = onHost(c);
      return problems.length === 0 ? [] : [failure(c, 'reference', problems)];
    } catch (error) {
      return [failure(c, 'reference', [`threw ${(error as Error).message.split('\n')[0]}`])];
    }
  });
  assert.ok(failures.length === 0, `${failures.length} of ${fixtures.cases.length} cases disagree:\n${failures.join('\n')}`);
});

test('the device agrees with numpy', async () => {
  const failures: string[] = [];
  for (const c of fixtures.cases) {
    try {
      const problems = await onDevice(c);
      if (problems.length > 0) failures.push(failure(c, 'device', problems));
    } catch (error) {
      const message = `threw ${(error as Error).message.split('\n')[0]}`;
      if (c.name in pendingOnDevice) console.log(`  numpy-semantics: '${c.name}' waits for ${pendingOnDevice[c.name]} (${message})`);
      else failures.push(failure(c, 'device', [message]));
    }
  }
  const deviating = fixtures.cases.filter((c) => c.op in deviceDeviations).map((c) => c.name);
  console.log(`  numpy-semantics: device deviations applied (README): ${Object.values(deviceDeviations).map((d) => d.reason).join('; ')} — in ${deviating.length} cases`);
  assert.ok(failures.length === 0, `${failures.length} of ${fixtures.cases.length} cases disagree:\n${failures.join('\n')}`);
});

test.run();
