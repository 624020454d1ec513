// Type inference against the reference evaluator for every op (the cases are in
// shape-cases.ts): over static inputs the inferred type is the computed one; over inputs
// of unknown sizes every inferred size is unknown or the computed one, and the dtype is
// the computed dtype.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as t from '../src/index.ts';
import { shapeCases } from './shape-cases.ts';

for (const [name, build, values, options = {}] of shapeCases) {
  test(`shape of ${name}`, () => {
    for (const unknown of [false, true]) {
      const inputs = values.map((value, i) => t.tensor(value.dtype, value.shape.map((dim) => (unknown && dim !== 1 ? null : dim)), `in${i}`));
      const output = build(...inputs);
      const computed = t.evaluate(output, inputs.map((input, i) => [input, values[i]!] as const));
      const what = `${name} over ${unknown ? 'unknown' : 'static'} sizes: inferred ${output.type}, computed ${t.formatType(computed.dtype, computed.shape)}`;
      assert.is(output.dtype, computed.dtype, what);
      assert.is(output.ndim, computed.shape.length, what);
      output.shape.forEach((dim, axis) => {
        assert.ok(dim === null || dim === computed.shape[axis], what);
        if (!unknown && !options.valueDependent) assert.ok(dim !== null, `${what}: a size is unknown though every input is static`);
      });
    }
  });
}

test.run();
