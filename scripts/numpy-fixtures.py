#!/usr/bin/python3
"""numpy's answers for Theorbo's differential semantics test (test/numpy-semantics.test.ts).

Every elementwise op, reduction, indexing form and broadcast is applied by numpy to edge
values (negative, zero, ±0, ±inf, NaN, huge, tiny) and the results are written to
test/fixtures/numpy-semantics.json, which is committed: CI machines need no numpy. Run
it again after changing a case (`/usr/bin/python3 scripts/numpy-fixtures.py`); with
`--check` it writes nothing and exits 1 if the committed file is out of date (the test
does that when python3 with numpy is present).

Each case holds what Theorbo must return (`expected`). Where that differs from numpy by
a documented rule of Theorbo's, the case also holds numpy's own answer (`numpy`) and the
rule's name (`deviation`), one of DEVIATIONS below; the README lists the same rules.
scipy's rules (logsumexp, log_softmax, softmax, expit, erf) are written out here with
numpy and the math module, so Debian's python3-numpy is all it needs.

Floats are written as JSON numbers, except "nan", "inf", "-inf" and "-0".
"""

import json
import math
import sys
import warnings
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / 'test' / 'fixtures' / 'numpy-semantics.json'

DEVIATIONS = {
    'int32 results': 'integer results are int32 (numpy: int64 for sums and products of int32 or bool); they wrap',
    'float32 promotion': 'int32 or bool mixed with float32, or in float ops, gives float32 (numpy: float64)',
    'bool arithmetic': 'bool operands of arithmetic count as int32 (numpy: add of bools is logical or)',
    'saturating casts': 'float to int casts saturate at the integer range and send NaN to 0 (numpy: undefined, INT_MIN on x86)',
    'integer negative powers': 'an int32 to a negative power gives 0, or ±1 for a base of ±1 (numpy raises)',
    'integer rounding': 'floor and ceil of int32 stay int32 (numpy: float64)',
}

F32 = np.float32
I32 = np.int32
INF = np.inf
NAN = np.nan

# ---- edge values ----
UNARY_EDGE = np.array([-INF, -3e38, -88.8, -10, -2.5, -1.5, -1, -0.5, -1e-30, -0.0, 0.0, 1e-30, 0.5, 1, 1.5, 2.5, 10, 88.8, 3e38, INF, NAN], F32)
BINARY_EDGE = np.array([-INF, -3e38, -2.5, -1, -0.5, -0.0, 0.0, 1e-30, 0.5, 1, 3, 3e38, INF, NAN], F32)
INT_EDGE = np.array([-2147483648, -7, -1, 0, 1, 3, 2147483647], I32)
UINT_EDGE = np.array([0, 1, 3, 7, 2147483648, 4294967295], np.uint32)
# Large float32 operands whose quotient needs more than float32's 24 bits.
MOD_LARGE_A = np.array([1e10, -1e10, 3e38, -3e38, 16777217.0, 123456789.0, 1e-30, 7.5], F32)
MOD_LARGE_B = np.array([3, -3, 0.1, 7, 1e-3, -0.7, 1e30], F32)
POW_BASE = np.array([-INF, -2, -1, -0.5, -0.0, 0.0, 0.5, 1, 2, INF, NAN], F32)
POW_EXPONENT = np.array([-INF, -3, -2, -1, -0.5, -0.0, 0.0, 0.5, 1, 2, 3, 1e10, INF, NAN], F32)


def rows(values):
    """A column and a row of the same values: a binary op on them broadcasts to every pair."""
    return values.reshape(-1, 1), values.reshape(1, -1)


# ---- scipy's rules, in numpy ----
def logsumexp(x, axis=None, keepdims=False):
    x64 = x.astype(np.float64)
    peak = np.max(x64, axis=axis, keepdims=True, initial=-INF)
    shift = np.where(np.isfinite(peak), peak, 0)
    with np.errstate(all='ignore'):
        total = np.log(np.sum(np.exp(x64 - shift), axis=axis, keepdims=True)) + shift
    if not keepdims:
        total = np.squeeze(total, axis=axis) if axis is not None else total.reshape(())
    return total.astype(F32)


def log_softmax(x, axis=-1):
    """scipy.special.log_softmax: shifted by the maximum where it is finite, else by 0."""
    x64 = x.astype(np.float64)
    peak = np.max(x64, axis=axis, keepdims=True)
    shifted = x64 - np.where(np.isfinite(peak), peak, 0)
    with np.errstate(all='ignore'):
        return (shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))).astype(F32)


def softmax(x, axis=-1):
    """scipy.special.softmax: shifted by the maximum even where it is infinite (a row holding +inf is all NaN)."""
    x64 = x.astype(np.float64)
    with np.errstate(all='ignore'):
        e = np.exp(x64 - np.max(x64, axis=axis, keepdims=True))
        return (e / np.sum(e, axis=axis, keepdims=True)).astype(F32)


def expit(x):
    x64 = x.astype(np.float64)
    with np.errstate(all='ignore'):
        return np.where(x64 >= 0, 1 / (1 + np.exp(-x64)), np.exp(x64) / (1 + np.exp(x64))).astype(F32)


def erf(x):
    return np.vectorize(lambda v: math.erf(v) if not math.isnan(v) else NAN, otypes=[np.float64])(x.astype(np.float64)).astype(F32)


def softplus(x):
    return np.logaddexp(F32(0), x)


def rsqrt(x):
    with np.errstate(all='ignore'):
        return (1 / np.sqrt(x.astype(np.float64))).astype(F32)


# ---- the ops: name -> numpy function of (inputs, kwargs) ----
def index_items(kwargs, inputs):
    items = []
    for item in kwargs['items']:
        if isinstance(item, dict) and 'slice' in item:
            items.append(slice(*item['slice']))
        elif isinstance(item, dict) and 'input' in item:
            items.append(inputs[item['input']])
        elif item == '...':
            items.append(Ellipsis)
        elif item == ':':
            items.append(slice(None))
        else:
            items.append(item)
    return tuple(items)


def set_or_inc(inputs, kwargs, inc):
    x = inputs[0].copy()
    items = index_items(kwargs, inputs)
    if inc and any(isinstance(item, np.ndarray) for item in items):
        np.add.at(x, items, inputs[-1])
    elif inc:
        x[items] += inputs[-1]
    else:
        x[items] = inputs[-1]
    return x


def axis_of(kwargs):
    axis = kwargs.get('axis')
    return tuple(axis) if isinstance(axis, list) else axis


UNARY = {
    'neg': np.negative, 'abs': np.abs, 'sign': np.sign, 'exp': np.exp, 'log': np.log, 'log1p': np.log1p,
    'expm1': np.expm1, 'sqrt': np.sqrt, 'rsqrt': rsqrt, 'square': np.square, 'reciprocal': lambda x: np.reciprocal(x.astype(F32) if x.dtype.kind != 'f' else x),
    'sin': np.sin, 'cos': np.cos, 'tan': np.tan, 'tanh': np.tanh, 'sigmoid': expit, 'softplus': softplus, 'erf': erf,
    'floor': np.floor, 'ceil': np.ceil, 'round': np.round, 'logicalNot': np.logical_not, 'stopGradient': lambda x: x,
}
BINARY = {
    'add': np.add, 'sub': np.subtract, 'mul': np.multiply, 'div': np.true_divide, 'intDiv': np.floor_divide,
    'mod': np.mod, 'pow': np.power, 'maximum': np.maximum, 'minimum': np.minimum, 'atan2': np.arctan2,
    'eq': np.equal, 'ne': np.not_equal, 'lt': np.less, 'le': np.less_equal, 'gt': np.greater, 'ge': np.greater_equal,
    'logicalAnd': np.logical_and, 'logicalOr': np.logical_or, 'logicalXor': np.logical_xor,
}
OPS = {
    **{name: (lambda fn: lambda inputs, kwargs: fn(inputs[0]))(fn) for name, fn in UNARY.items()},
    **{name: (lambda fn: lambda inputs, kwargs: fn(inputs[0], inputs[1]))(fn) for name, fn in BINARY.items()},
    'cast': lambda inputs, kwargs: inputs[0].astype(kwargs['dtype']),
    'where': lambda inputs, kwargs: np.where(inputs[0], inputs[1], inputs[2]),
    'clip': lambda inputs, kwargs: np.clip(inputs[0], inputs[1], inputs[2]),
    'sum': lambda inputs, kwargs: np.sum(inputs[0], axis=axis_of(kwargs), keepdims=kwargs.get('keepdims', False)),
    'prod': lambda inputs, kwargs: np.prod(inputs[0], axis=axis_of(kwargs), keepdims=kwargs.get('keepdims', False)),
    'max': lambda inputs, kwargs: np.max(inputs[0], axis=axis_of(kwargs), keepdims=kwargs.get('keepdims', False)),
    'min': lambda inputs, kwargs: np.min(inputs[0], axis=axis_of(kwargs), keepdims=kwargs.get('keepdims', False)),
    'any': lambda inputs, kwargs: np.any(inputs[0], axis=axis_of(kwargs), keepdims=kwargs.get('keepdims', False)),
    'all': lambda inputs, kwargs: np.all(inputs[0], axis=axis_of(kwargs), keepdims=kwargs.get('keepdims', False)),
    'argmax': lambda inputs, kwargs: np.argmax(inputs[0], axis=kwargs.get('axis')),
    'argmin': lambda inputs, kwargs: np.argmin(inputs[0], axis=kwargs.get('axis')),
    'mean': lambda inputs, kwargs: np.mean(inputs[0], axis=axis_of(kwargs), keepdims=kwargs.get('keepdims', False)),
    'variance': lambda inputs, kwargs: np.var(inputs[0], axis=axis_of(kwargs), ddof=kwargs.get('ddof', 0)),
    'std': lambda inputs, kwargs: np.std(inputs[0], axis=axis_of(kwargs), ddof=kwargs.get('ddof', 0)),
    'logsumexp': lambda inputs, kwargs: logsumexp(inputs[0], axis=axis_of(kwargs)),
    'softmax': lambda inputs, kwargs: softmax(inputs[0], axis=kwargs.get('axis', -1)),
    'logSoftmax': lambda inputs, kwargs: log_softmax(inputs[0], axis=kwargs.get('axis', -1)),
    'get': lambda inputs, kwargs: inputs[0][index_items(kwargs, inputs)],
    'setSubtensor': lambda inputs, kwargs: set_or_inc(inputs, kwargs, inc=False),
    'incSubtensor': lambda inputs, kwargs: set_or_inc(inputs, kwargs, inc=True),
    'oneHot': lambda inputs, kwargs: np.eye(kwargs['depth'], dtype=F32)[inputs[0]],
    'concat': lambda inputs, kwargs: np.concatenate(inputs, axis=kwargs['axis']),
    'pad': lambda inputs, kwargs: np.pad(inputs[0], kwargs['widths'], mode=kwargs['mode']),
    'flip': lambda inputs, kwargs: np.flip(inputs[0], axis=kwargs['axis']),
    'roll': lambda inputs, kwargs: np.roll(inputs[0], kwargs['shift'], axis=kwargs['axis']),
    'transpose': lambda inputs, kwargs: np.transpose(inputs[0], kwargs['axes']),
    'reshape': lambda inputs, kwargs: np.reshape(inputs[0], kwargs['shape']),
    'broadcastTo': lambda inputs, kwargs: np.broadcast_to(inputs[0], kwargs['shape']),
    'matmul': lambda inputs, kwargs: np.matmul(inputs[0], inputs[1]),
}

# ---- Theorbo's documented rules where they differ from numpy ----
THEORBO_DTYPE = {'float64': 'float32', 'int64': 'int32', 'uint64': 'uint32', 'int32': 'int32', 'uint32': 'uint32', 'float32': 'float32', 'bool': 'bool'}


def saturating_cast(x, dtype):
    info = np.iinfo(dtype)
    x64 = np.nan_to_num(x.astype(np.float64), nan=0.0, posinf=info.max, neginf=info.min)
    return np.trunc(np.clip(x64, info.min, info.max)).astype(dtype)


def integer_pow(a, b):
    out = np.ones(np.broadcast(a, b).shape, np.int64)
    a, b = np.broadcast_arrays(a.astype(np.int64), b.astype(np.int64))
    for index in np.ndindex(out.shape):
        base, exponent = int(a[index]), int(b[index])
        if exponent < 0:
            out[index] = 0 if abs(base) != 1 else (1 if base == 1 or exponent % 2 == 0 else -1)
        else:
            out[index] = pow(base, exponent, 2 ** 32)
    return out.astype(np.uint32).view(np.int32)


INDEX_OPS = {'get', 'setSubtensor', 'incSubtensor', 'oneHot'}


def case(name, op, inputs, kwargs=None, deviation=None, theorbo=None, tolerance=None):
    kwargs = kwargs or {}
    with warnings.catch_warnings(), np.errstate(all='ignore'):
        warnings.simplefilter('ignore')
        try:
            out = np.asarray(OPS[op](inputs, kwargs))
        except ValueError as error:
            out = error
        want = np.asarray(theorbo(inputs, kwargs)) if theorbo else out
        if theorbo is None and isinstance(out, np.ndarray) and out.dtype == np.float64:
            # Theorbo's float32 promotion: integer and bool operands become float32 first.
            want = np.asarray(OPS[op]([x.astype(F32) if x.dtype.kind in 'biu' and op not in INDEX_OPS else x for x in inputs], kwargs))
        dtype = THEORBO_DTYPE[str(want.dtype)]
        expected = encode(want.astype(dtype))
    if isinstance(out, np.ndarray) and dtype != str(out.dtype) and deviation is None:
        deviation = 'int32 results' if dtype == 'int32' else 'float32 promotion'
    entry = {'name': name, 'op': op, 'kwargs': kwargs, 'inputs': [encode(x) for x in inputs], 'expected': expected}
    if deviation is not None:
        assert deviation in DEVIATIONS, deviation
        entry['deviation'] = deviation
        entry['numpy'] = encode(out) if isinstance(out, np.ndarray) else {'raises': f'{type(out).__name__}: {out}'}
    if tolerance is not None:
        entry['tolerance'] = tolerance
    return entry


def encode(x):
    x = np.asarray(x)
    def value(v):
        if x.dtype.kind == 'b':
            return bool(v)
        if x.dtype.kind in 'iu':
            return int(v)
        v = float(v)
        if math.isnan(v):
            return 'nan'
        if math.isinf(v):
            return 'inf' if v > 0 else '-inf'
        if v == 0 and math.copysign(1, v) < 0:
            return '-0'
        return v
    return {'dtype': str(x.dtype), 'shape': list(x.shape), 'data': [value(v) for v in x.reshape(-1)]}


def cases():
    out = []
    # -- elementwise, one input --
    for op in UNARY:
        out.append(case(f'{op} float32', op, [UNARY_EDGE]))
    for op in ['neg', 'abs', 'sign', 'square', 'round', 'logicalNot']:
        out.append(case(f'{op} int32', op, [INT_EDGE]))
    for op in ['floor', 'ceil']:
        out.append(case(f'{op} int32', op, [INT_EDGE], deviation='integer rounding', theorbo=lambda inputs, kwargs: inputs[0]))
    for op in ['exp', 'sqrt', 'reciprocal', 'sin']:
        out.append(case(f'{op} int32 → float32', op, [INT_EDGE]))
    out.append(case('neg uint32', 'neg', [UINT_EDGE]))
    out.append(case('logicalNot bool', 'logicalNot', [np.array([True, False])]))
    for dtype in ['int32', 'uint32']:
        out.append(case(f'cast float32 → {dtype} (in range)', 'cast', [np.array([-0.0, 0.0, 0.5, 1.5, 2.5, 7.9, 1e6, 123456.7], F32)], {'dtype': dtype}))
        out.append(case(f'cast float32 → {dtype} (out of range)', 'cast', [np.array([-INF, -3e38, -1.5, 3e9, 5e9, 3e38, INF, NAN], F32)], {'dtype': dtype},
                        deviation='saturating casts', theorbo=lambda inputs, kwargs: saturating_cast(inputs[0], kwargs['dtype'])))
    out.append(case('cast float32 → bool', 'cast', [UNARY_EDGE], {'dtype': 'bool'}))
    out.append(case('cast int32 → float32', 'cast', [INT_EDGE], {'dtype': 'float32'}))
    out.append(case('cast int32 → uint32', 'cast', [INT_EDGE], {'dtype': 'uint32'}))
    out.append(case('cast uint32 → int32', 'cast', [UINT_EDGE], {'dtype': 'int32'}))
    # -- elementwise, two inputs: every pair of edge values, by broadcasting a column against a row --
    for op in BINARY:
        out.append(case(f'{op} float32', op, list(rows(BINARY_EDGE))))
    for op in ['add', 'sub', 'mul', 'intDiv', 'mod', 'maximum', 'minimum', 'eq', 'lt', 'ge', 'logicalAnd', 'logicalXor']:
        out.append(case(f'{op} int32', op, list(rows(INT_EDGE))))
    nonnegative = np.array([0, 1, 2, 3, 31], I32)
    out.append(case('pow int32', 'pow', [INT_EDGE.reshape(-1, 1), nonnegative.reshape(1, -1)]))
    out.append(case('pow int32 negative exponents', 'pow', [np.array([-3, -1, 0, 1, 2], I32).reshape(-1, 1), np.array([-1, -2, -3], I32)],
                    deviation='integer negative powers', theorbo=lambda inputs, kwargs: integer_pow(inputs[0], inputs[1])))
    for op in ['add', 'sub', 'mul', 'intDiv', 'mod', 'maximum']:
        out.append(case(f'{op} uint32', op, list(rows(UINT_EDGE))))
    for op in ['add', 'div', 'mod', 'pow', 'lt']:
        out.append(case(f'{op} int32 with float32', op, [INT_EDGE.reshape(-1, 1), BINARY_EDGE.reshape(1, -1)]))
    bools = (np.array([[False], [True]]), np.array([[False, True]]))
    out.append(case('add bool', 'add', list(bools), deviation='bool arithmetic',
                    theorbo=lambda inputs, kwargs: inputs[0].astype(I32) + inputs[1].astype(I32)))
    out.append(case('mul bool with float32', 'mul', [bools[0], BINARY_EDGE.reshape(1, -1)]))
    for op in ['mod', 'intDiv']:
        out.append(case(f'{op} float32, large operands', op, list(rows(MOD_LARGE_A))[:1] + [MOD_LARGE_B.reshape(1, -1)]))
    out.append(case('pow float32, special bases and exponents', 'pow', [POW_BASE.reshape(-1, 1), POW_EXPONENT.reshape(1, -1)]))
    # -- where, clip and broadcasting of three operands --
    condition = np.array([[True], [False], [True]])
    out.append(case('where broadcast', 'where', [condition, BINARY_EDGE[:5].reshape(1, 5), np.array(2.5, F32)]))
    out.append(case('where int32 with float32', 'where', [np.array([True, False, True]), np.array([1, 2, 3], I32), np.array([NAN, -0.0, INF], F32)]))
    out.append(case('clip', 'clip', [UNARY_EDGE, np.array(-1, F32), np.array(2, F32)]))
    out.append(case('add broadcast [2,1,3] + [4,1]', 'add', [np.arange(6, dtype=F32).reshape(2, 1, 3), np.array([[-INF], [-0.0], [1e30], [NAN]], F32)]))
    out.append(case('mul broadcast scalar', 'mul', [np.array(-0.0, F32), BINARY_EDGE]))
    # -- reductions --
    matrix = np.array([
        [1.5, -2.0, 3.0, 0.25, -0.5],
        [1.0, NAN, 2.0, -1.0, 0.0],
        [INF, 1.0, -INF, 2.0, 3.0],
        [-0.0, -0.0, -0.0, -0.0, -0.0],
        [3e38, 3e38, -1.0, 1e-30, 2.0],
        [-INF, -INF, -INF, -INF, -INF],
    ], F32)
    tame = np.array([[1.5, -2.0, 3.0, 0.25], [0.5, 0.5, 0.5, 0.5], [-3.0, 1e-30, 4.0, 2.0]], F32)
    for op in ['sum', 'prod', 'max', 'min', 'any', 'all', 'mean']:
        out.append(case(f'{op} axis 1', op, [matrix], {'axis': 1}))
        out.append(case(f'{op} axis 0 keepdims', op, [matrix], {'axis': 0, 'keepdims': True}))
    for op in ['sum', 'prod', 'max', 'min', 'mean']:
        out.append(case(f'{op} all axes', op, [tame]))
    for op in ['argmax', 'argmin']:
        out.append(case(f'{op} axis 1', op, [matrix], {'axis': 1}))
        out.append(case(f'{op} axis 0', op, [matrix], {'axis': 0}))
        out.append(case(f'{op} flattened', op, [tame]))
    ints = np.array([[2147483647, 1, 5], [-2147483648, -1, 0], [65536, 65536, 3]], I32)
    for op in ['sum', 'prod', 'max', 'min', 'argmax', 'mean']:
        out.append(case(f'{op} int32 axis 1', op, [ints], {'axis': 1}))
    out.append(case('sum bool', 'sum', [np.array([[True, False, True], [True, True, True]])], {'axis': 1}))
    out.append(case('sum uint32 axis 0', 'sum', [np.array([[4294967295, 1], [1, 2]], np.uint32)], {'axis': 0}))
    for ddof in [0, 1]:
        out.append(case(f'variance ddof {ddof}', 'variance', [tame], {'axis': 1, 'ddof': ddof}))
        out.append(case(f'std ddof {ddof}', 'std', [tame], {'axis': 0, 'ddof': ddof}))
    out.append(case('variance ddof 1 of a single element', 'variance', [np.array([[1.0], [-2.0]], F32)], {'axis': 1, 'ddof': 1}))
    out.append(case('variance ddof 2 of two elements', 'variance', [np.array([[1.0, 3.0]], F32)], {'axis': 1, 'ddof': 2}))
    out.append(case('variance with inf and nan', 'variance', [matrix], {'axis': 1}))
    for op in ['logsumexp', 'logSoftmax', 'softmax']:
        out.append(case(f'{op} rows with ±inf, nan, huge', op, [matrix], {'axis': 1}))
        out.append(case(f'{op} axis 0', op, [tame], {'axis': 0}))
    out.append(case('logsumexp over an empty axis', 'logsumexp', [np.zeros((3, 0), F32)], {'axis': 1}))
    out.append(case('logsumexp of all axes', 'logsumexp', [np.array([[88.0, 88.0], [87.5, -INF]], F32)]))
    # -- indexing --
    x = np.arange(24, dtype=F32).reshape(2, 3, 4)
    x[0, 0, 0], x[1, 2, 3], x[0, 1, 2] = -0.0, NAN, -INF
    forms = [
        ('integer', [1]),
        ('negative integer', [-1, -2]),
        ('reversed slice', [{'slice': [None, None, -1]}]),
        ('strided slices', [{'slice': [None, None, 2]}, {'slice': [1, None]}, {'slice': [None, None, -2]}]),
        ('slice past the end, negative bounds', [':', {'slice': [-2, 10]}, {'slice': [-3, -1]}]),
        ('ellipsis and new axis', ['...', None, 1]),
    ]
    for name, items in forms:
        out.append(case(f'get {name}', 'get', [x], {'items': items}))
    index = np.array([1, 0, -1, 1], I32)
    index2 = np.array([[2, 0], [-3, 1]], I32)
    out.append(case('get advanced, first axis, negative index', 'get', [x, index], {'items': [{'input': 1}]}))
    out.append(case('get advanced, 2-D index on axis 1', 'get', [x, index2], {'items': [':', {'input': 1}]}))
    out.append(case('get advanced, adjacent pair', 'get', [x, np.array([0, 2, 1], I32), np.array([3, -4, 0], I32)], {'items': [':', {'input': 1}, {'input': 2}]}))
    out.append(case('get advanced, non-adjacent pair (index dims first)', 'get', [x, np.array([[1], [0]], I32), np.array([0, 3, 2], I32)], {'items': [{'input': 1}, ':', {'input': 2}]}))
    out.append(case('get advanced with integer and slice', 'get', [x, np.array([2, 0], I32)], {'items': [1, {'input': 1}, {'slice': [None, None, -1]}]}))
    out.append(case('get advanced, uint32 index', 'get', [x, np.array([3, 0], np.uint32)], {'items': ['...', {'input': 1}]}))
    out.append(case('setSubtensor slice', 'setSubtensor', [x, np.array([-0.0, INF, 5], F32)], {'items': [':', 1, {'slice': [None, 3]}]}))
    out.append(case('incSubtensor reversed slice, broadcast value', 'incSubtensor', [x, np.array([[10], [NAN]], F32)], {'items': [':', {'slice': [None, None, -2]}, 2]}))
    out.append(case('incSubtensor advanced with repeated indices', 'incSubtensor', [x, np.array([1, 1, -1, 0], I32), np.array(1.0, F32)], {'items': [':', ':', {'input': 1}]}))
    out.append(case('setSubtensor advanced', 'setSubtensor', [x, np.array([2, 0], I32), np.array([[-1], [-2]], F32)], {'items': [':', {'input': 1}]}))
    out.append(case('oneHot', 'oneHot', [np.array([[0, 3], [2, 1]], I32)], {'depth': 4}))
    # -- movement --
    y = x[:, :2, :3]
    out.append(case('concat axis 1', 'concat', [x, np.full((2, 1, 4), -INF, F32)], {'axis': 1}))
    for mode in ['constant', 'edge', 'reflect']:
        out.append(case(f'pad {mode}', 'pad', [y], {'widths': [[0, 1], [1, 1], [2, 1]], 'mode': mode}))
    out.append(case('flip axis 2', 'flip', [x], {'axis': 2}))
    out.append(case('roll axis 1 by -4', 'roll', [x], {'shift': -4, 'axis': 1}))
    out.append(case('transpose', 'transpose', [x], {'axes': [2, 0, 1]}))
    out.append(case('reshape', 'reshape', [x], {'shape': [4, 6]}))
    out.append(case('broadcastTo', 'broadcastTo', [np.array([[-0.0], [NAN], [INF]], F32)], {'shape': [2, 3, 4]}))
    out.append(case('matmul with inf and nan', 'matmul', [np.array([[1, 2], [INF, 0], [NAN, 1]], F32), np.array([[1, -1, 0], [2, 0.5, 1]], F32)]))
    return out


def main():
    text = json.dumps({'generator': 'scripts/numpy-fixtures.py', 'numpy': np.__version__, 'deviations': DEVIATIONS, 'cases': cases()}, indent=None, separators=(',', ':'))
    text = text.replace('},{"name"', '},\n{"name"') + '\n'
    if '--check' in sys.argv:
        current = OUT.read_text() if OUT.exists() else ''
        strip = lambda t: json.loads(t)['cases']
        if strip(current) != strip(text):
            print(f'{OUT} is out of date: run /usr/bin/python3 scripts/numpy-fixtures.py', file=sys.stderr)
            sys.exit(1)
        print('fixtures up to date')
        return
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text)
    print(f'wrote {OUT}: {text.count(chr(10))} cases')


if __name__ == '__main__':
    main()
