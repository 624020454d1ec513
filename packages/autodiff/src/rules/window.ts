// VJP rules of the window ops. conv's gradients are its two adjoints, and each adjoint's
// gradients are conv and the other adjoint (the three are bilinear forms of one tensor
// contraction, <conv(x, w), y>), so gradients of any order stay within the family:
//   conv(x, w)               → conv_transpose(g, w), conv_weight_grad(x, g)
//   conv_transpose(y, w)     → conv(g, w), conv_weight_grad(g, y)
//   conv_weight_grad(x, y)   → conv_transpose(y, g), conv(x, g)
// pool's gradient is pool_grad; average pooling's pool_grad is linear in the gradient
// and its own adjoint is the average pool again. Max pooling's pool_grad routes each
// window's gradient to its first maximum, a selection whose gradient with respect to x
// is zero almost everywhere; with respect to the routed gradient it is a gather at those
// maxima, which no op expresses yet: asking for it is an error, not a silent zero.

import * as T from '@theorbo/graph';
import { GraphError, type ConvAttrs, type Variable } from '@theorbo/graph';
import type { VjpTable } from './rule.ts';

const convAttrsOf = ({ stride, padding, dilation, groups }: ConvAttrs): ConvAttrs => ({ stride, padding, dilation, groups });

/** conv_transpose of `g` through `w` back to the spatial sizes of `like`. */
const transposeTo = (g: Variable, w: Variable, attrs: ConvAttrs, like: Variable): Variable =>
  T.convAdjoint('conv_transpose', g, w, attrs, T.spatialSizes(like));

/** conv_weight_grad of input `x` and output gradient `g`, to the kernel sizes of `filters`. */
const weightGradient = (x: Variable, g: Variable, attrs: ConvAttrs, filters: Variable): Variable =>
  T.convAdjoint('conv_weight_grad', x, g, attrs, T.spatialSizes(filters));

const conv = (x: Variable, w: Variable, attrs: ConvAttrs): Variable => T.applyOp('conv', [x, w], attrs);

export const windowVjps = {
  conv: ({ node, inputs, g }) => {
    const [x, w] = inputs as [Variable, Variable];
    const attrs = convAttrsOf(node.attrs);
    return [transposeTo(g, w, attrs, x), weightGradient(x, g, attrs, w)];
  },
  conv_transpose: ({ node, inputs, g }) => {
    const [y, w] = inputs as [Variable, Variable];
    const attrs = convAttrsOf(node.attrs);
    return [conv(g, w, attrs), weightGradient(g, y, attrs, w), ...inputs.slice(2).map(() => null)];
  },
  conv_weight_grad: ({ node, inputs, g }) => {
    const [x, y] = inputs as [Variable, Variable];
    const attrs = convAttrsOf(node.attrs);
    return [transposeTo(y, g, attrs, x), conv(x, g, attrs), ...inputs.slice(2).map(() => null)];
  },
  pool: ({ node, inputs, g }) => [T.applyOp('pool_grad', [inputs[0]!, g], node.attrs)],
  pool_grad: ({ node, g }) => {
    if (node.attrs.mode === 'max') {
      throw new GraphError('grad', 'the gradient of max pooling\'s gradient (a second-order gradient through maxPool) is not supported yet; average pooling and convolutions support any order', node.location);
    }
    // x only gives the windows' shape: no gradient flows to it.
    return [null, T.applyOp('pool', [g], node.attrs)];
  },
} satisfies VjpTable<T.OpsOf<'window'>>;
