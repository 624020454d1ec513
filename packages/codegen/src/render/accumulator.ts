// The accumulator of each reduction in WGSL: its type, its start (the op's identity,
// from the graph's op table), the step that folds in one value, the combination of two
// partial results (workgroup trees), and the result. argmax/argmin carry an index beside
// the value: the extreme wins, ties go to the lower index, NaN counts as the extreme.

import { reductionIdentity, type Variable } from '@theorbo/graph';
import { convert, literal, wgslType } from './wgsl.ts';

export interface Accumulator {
  type: string;
  init: string;
  /** Statement folding value `v` (and its flat reduced index `r`) into `acc` (and `accIndex`). */
  step(acc: string, v: string, r: string): string;
  /** Statement combining a second partial (`other`, `otherIndex`) into `acc`. */
  combine(acc: string, other: string): string;
  result(acc: string): string;
}

export function accumulatorFor(node: Variable): Accumulator {
  const op = node.owner!.op;
  const input = node.owner!.inputs[0]!;
  const t = node.dtype;
  const type = wgslType(op === 'argmax' || op === 'argmin' ? input.dtype : t);
  const float = input.dtype === 'float32';
  switch (op) {
    case 'sum': case 'prod': {
      const symbol = op === 'sum' ? '+' : '*';
      return { type, init: literal(reductionIdentity(op, t), t), step: (a, v) => `${a} = ${a} ${symbol} ${convert(v, input.dtype, t)};`, combine: (a, o) => `${a} = ${a} ${symbol} ${o};`, result: (a) => a };
    }
    case 'max': case 'min': {
      const pick = op === 'max' ? (float ? 'th_max' : 'max') : (float ? 'th_min' : 'min');
      const init = literal(reductionIdentity(op, t), t);
      if (t === 'bool') {
        const symbol = op === 'max' ? '||' : '&&';
        return { type, init, step: (a, v) => `${a} = ${a} ${symbol} ${v};`, combine: (a, o) => `${a} = ${a} ${symbol} ${o};`, result: (a) => a };
      }
      return { type, init, step: (a, v) => `${a} = ${pick}(${a}, ${v});`, combine: (a, o) => `${a} = ${pick}(${a}, ${o});`, result: (a) => a };
    }
    case 'any': case 'all': {
      const symbol = op === 'any' ? '||' : '&&';
      return { type: 'bool', init: literal(reductionIdentity(op, 'bool'), 'bool'), step: (a, v) => `${a} = ${a} ${symbol} ${convert(v, input.dtype, 'bool')};`, combine: (a, o) => `${a} = ${a} ${symbol} ${o};`, result: (a) => a };
    }
    case 'argmax': case 'argmin': {
      // (value, index): the extreme wins, ties go to the lower index, NaN counts as the extreme.
      const better = op === 'argmax' ? '>' : '<';
      const nan = (x: string) => (float ? `th_isnan(${x})` : 'false');
      const wins = (v: string, vi: string, a: string, ai: string) =>
        `(${nan(v)} && !${nan(a)}) || (!${nan(a)} && (${v} ${better} ${a} || (${v} == ${a} && ${vi} < ${ai}))) || (${nan(v)} && ${nan(a)} && ${vi} < ${ai})`;
      const init = literal(reductionIdentity(op, input.dtype), input.dtype);
      return {
        type, init,
        step: (a, v, r) => `if (${a}_i < 0i || ${wins(v, r, a, `${a}_i`)}) { ${a} = ${v}; ${a}_i = ${r}; }`,
        combine: (a, o) => `if (${o}_i >= 0i && (${a}_i < 0i || ${wins(o, `${o}_i`, a, `${a}_i`)})) { ${a} = ${o}; ${a}_i = ${o}_i; }`,
        result: (a) => `${a}_i`,
      };
    }
    default: throw new Error(`codegen: ${op} is not a reduction`);
  }
}

export const isArg = (node: Variable) => node.owner!.op === 'argmax' || node.owner!.op === 'argmin';

/** The subgroup builtin for a reduction, where WGSL has one for its type. */
export function subgroupReduction(op: string, type: string): string | undefined {
  if (type === 'bool') return undefined;
  if (type === 'f32' && (op === 'max' || op === 'min')) return undefined; // NaN propagation is ours, not the builtin's
  return ({ sum: 'subgroupAdd', prod: 'subgroupMul', max: 'subgroupMax', min: 'subgroupMin' } as Record<string, string>)[op];
}
