"""`refrain.attn`: the attention operator library, as ONNX model-local functions.

onnxruntime-node cannot load native custom ops, so each operator is an ONNX FunctionProto
in the custom domain `refrain.attn` (version 1), built only from standard opset-17 ops;
stock onnxruntime inlines them. Shapes below use S = new tokens of the step, T = rows of
the KV cache buffer (its capacity: rows past the filled part are never read), H heads of
size Dh (P = Dh/2), K = keys the plan allows, M = template-head candidates.

StructRotary(x [S,H,Dh], coords [S,C], freq [C,P]) -> y [S,H,Dh]
    angle = coords @ freq; rotate-half: y = [x1*cos - x2*sin, x2*cos + x1*sin] with
    x1 = x[..., :P], x2 = x[..., P:]. RoPE is C=1 (token index); structure-informed
    rotary uses C=3 coordinates (bar, position in bar, token index) and a freq matrix that
    routes slices of the pairs to coordinates (srope) or pools all of them (ropepool).

StructuredAttention(q [S,H,Dh], k [S,H,Dh], v [S,H,Dh], past_k [T,H,Dh], past_v [T,H,Dh],
                    kidx [K] int32, bias [S,K+S]) -> y [S,H,Dh]
    Gathers the K allowed cache rows (a decode step costs O(K), not O(T)), appends the new
    tokens' own keys/values, and attends with softmax(q.k / sqrt(Dh) + bias); bias holds 0
    for allowed and a large negative value for blocked (query, key) pairs.

StructuredAttentionRows(q [S,H,Dh], k [S,H,Dh], v [S,H,Dh], rows_k [K,H,Dh], rows_v [K,H,Dh],
                        bias [S,K+S]) -> y [S,H,Dh]
    StructuredAttention over rows the caller has already gathered: rows_k/rows_v are the K
    cache rows the plan allows, in bias-column order. The engine keeps them from step to step
    (a step copies only the rows that changed), so the graph neither gathers nor reads the
    whole cache; the arithmetic is StructuredAttention's.

SsmAttention(row [S,M], mask [S,M], values [M,Dv]) -> y [S,Dv]
    SING template head: weights = sparsemax over the valid (mask 1) entries of row, 0 for a
    row with no valid entry; y = weights @ values.
"""

from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

DOMAIN = 'refrain.attn'
DOMAIN_VERSION = 1
OPSET = 17
IR_VERSION = 8
SPARSEMAX_BIG = 1.0e4


def _const(name: str, value: np.ndarray) -> onnx.NodeProto:
    return helper.make_node('Constant', [], [name], value=numpy_helper.from_array(np.asarray(value), name + '_v'))


def struct_rotary() -> onnx.FunctionProto:
    """FunctionProto of refrain.attn::StructRotary."""
    n = helper.make_node
    nodes = [
        n('MatMul', ['coords', 'freq'], ['ang']),
        n('Cos', ['ang'], ['c2']),
        n('Sin', ['ang'], ['s2']),
        _const('ax1', np.array([1], np.int64)),
        n('Unsqueeze', ['c2', 'ax1'], ['c']),
        n('Unsqueeze', ['s2', 'ax1'], ['s']),
        n('Split', ['x'], ['x1', 'x2'], axis=-1),
        n('Mul', ['x1', 'c'], ['a1']),
        n('Mul', ['x2', 's'], ['a2']),
        n('Sub', ['a1', 'a2'], ['y1']),
        n('Mul', ['x2', 'c'], ['b1']),
        n('Mul', ['x1', 's'], ['b2']),
        n('Add', ['b1', 'b2'], ['y2']),
        n('Concat', ['y1', 'y2'], ['y'], axis=-1),
    ]
    return helper.make_function(DOMAIN, 'StructRotary', ['x', 'coords', 'freq'], ['y'], nodes,
                                [helper.make_opsetid('', OPSET)])


def structured_attention() -> onnx.FunctionProto:
    """FunctionProto of refrain.attn::StructuredAttention."""
    n = helper.make_node
    nodes = [
        n('Gather', ['past_k', 'kidx'], ['gk'], axis=0),
        n('Gather', ['past_v', 'kidx'], ['gv'], axis=0),
        n('Concat', ['gk', 'k'], ['kk'], axis=0),
        n('Concat', ['gv', 'v'], ['vv'], axis=0),
        n('Transpose', ['kk'], ['kt'], perm=[1, 2, 0]),
        n('Transpose', ['vv'], ['vt'], perm=[1, 0, 2]),
        n('Transpose', ['q'], ['qt'], perm=[1, 0, 2]),
        n('Shape', ['q'], ['qshape']),
        _const('i2', np.array(2, np.int64)),
        n('Gather', ['qshape', 'i2'], ['dh_i']),
        n('Cast', ['dh_i'], ['dh_f'], to=TensorProto.FLOAT),
        n('Sqrt', ['dh_f'], ['sq']),
        n('Reciprocal', ['sq'], ['scale']),
        n('Mul', ['qt', 'scale'], ['qs']),
        n('MatMul', ['qs', 'kt'], ['sc']),
        n('Add', ['sc', 'bias'], ['sb']),
        n('Softmax', ['sb'], ['p'], axis=-1),
        n('MatMul', ['p', 'vt'], ['o']),
        n('Transpose', ['o'], ['y'], perm=[1, 0, 2]),
    ]
    return helper.make_function(DOMAIN, 'StructuredAttention', ['q', 'k', 'v', 'past_k', 'past_v', 'kidx', 'bias'],
                                ['y'], nodes, [helper.make_opsetid('', OPSET)])


def structured_attention_rows() -> onnx.FunctionProto:
    """FunctionProto of refrain.attn::StructuredAttentionRows (StructuredAttention without the gather)."""
    body = [nd for nd in structured_attention().node if nd.op_type != 'Gather' or nd.input[0] == 'qshape']
    for nd in body:
        for i, name in enumerate(nd.input):
            if name in ('gk', 'gv'):
                nd.input[i] = 'rows_k' if name == 'gk' else 'rows_v'
    return helper.make_function(DOMAIN, 'StructuredAttentionRows', ['q', 'k', 'v', 'rows_k', 'rows_v', 'bias'],
                                ['y'], body, [helper.make_opsetid('', OPSET)])


def ssm_attention() -> onnx.FunctionProto:
    """FunctionProto of refrain.attn::SsmAttention (sparsemax template head)."""
    n = helper.make_node
    nodes = [
        _const('one', np.array(1.0, np.float32)),
        _const('big', np.array(SPARSEMAX_BIG, np.float32)),
        _const('i1', np.array(1, np.int64)),
        _const('last', np.array([-1], np.int64)),
        _const('lastax', np.array(-1, np.int64)),
        n('Mul', ['row', 'mask'], ['rm']),
        n('Sub', ['mask', 'one'], ['m1']),
        n('Mul', ['m1', 'big'], ['pen']),
        n('Add', ['rm', 'pen'], ['z']),
        n('Shape', ['z'], ['zshape']),
        n('Gather', ['zshape', 'last'], ['m']),  # [1] int64
        n('TopK', ['z', 'm'], ['zs', 'zi'], axis=-1, largest=1, sorted=1),
        n('CumSum', ['zs', 'lastax'], ['cs']),
        n('Squeeze', ['m'], ['m0']),
        n('Add', ['m0', 'i1'], ['m1p']),
        n('Range', ['i1', 'm1p', 'i1'], ['kr']),
        n('Cast', ['kr'], ['kf'], to=TensorProto.FLOAT),
        n('Mul', ['kf', 'zs'], ['kz_']),
        n('Add', ['kz_', 'one'], ['lhs']),
        n('Greater', ['lhs', 'cs'], ['cond']),
        n('Cast', ['cond'], ['condf'], to=TensorProto.FLOAT),
        n('ReduceSum', ['condf', 'last'], ['kcount'], keepdims=1),
        n('Max', ['kcount', 'one'], ['ksup']),
        n('Sub', ['ksup', 'one'], ['kidx_f']),
        n('Cast', ['kidx_f'], ['kidx'], to=TensorProto.INT64),
        n('GatherElements', ['cs', 'kidx'], ['csk'], axis=-1),
        n('Sub', ['csk', 'one'], ['num']),
        n('Div', ['num', 'ksup'], ['tau']),
        n('Sub', ['z', 'tau'], ['zt']),
        n('Relu', ['zt'], ['pr']),
        n('Mul', ['pr', 'mask'], ['w']),
        n('MatMul', ['w', 'values'], ['y']),
    ]
    return helper.make_function(DOMAIN, 'SsmAttention', ['row', 'mask', 'values'], ['y'], nodes,
                                [helper.make_opsetid('', OPSET)])


FUNCTIONS = {
    'StructRotary': struct_rotary,
    'StructuredAttention': structured_attention,
    'StructuredAttentionRows': structured_attention_rows,
    'SsmAttention': ssm_attention,
}

# One-op model signatures: (name, elem type, symbolic dims)
OP_SIGNATURES: Dict[str, Tuple[List[Tuple[str, int, List]], List[Tuple[str, int, List]]]] = {
    'StructRotary': ([('x', TensorProto.FLOAT, ['S', 'H', 'Dh']), ('coords', TensorProto.FLOAT, ['S', 'C']),
                      ('freq', TensorProto.FLOAT, ['C', 'P'])],
                     [('y', TensorProto.FLOAT, ['S', 'H', 'Dh'])]),
    'StructuredAttention': ([('q', TensorProto.FLOAT, ['S', 'H', 'Dh']), ('k', TensorProto.FLOAT, ['S', 'H', 'Dh']),
                             ('v', TensorProto.FLOAT, ['S', 'H', 'Dh']), ('past_k', TensorProto.FLOAT, ['T', 'H', 'Dh']),
                             ('past_v', TensorProto.FLOAT, ['T', 'H', 'Dh']), ('kidx', TensorProto.INT32, ['K']),
                             ('bias', TensorProto.FLOAT, ['S', 'KS'])],
                            [('y', TensorProto.FLOAT, ['S', 'H', 'Dh'])]),
    'StructuredAttentionRows': ([('q', TensorProto.FLOAT, ['S', 'H', 'Dh']), ('k', TensorProto.FLOAT, ['S', 'H', 'Dh']),
                                 ('v', TensorProto.FLOAT, ['S', 'H', 'Dh']), ('rows_k', TensorProto.FLOAT, ['K', 'H', 'Dh']),
                                 ('rows_v', TensorProto.FLOAT, ['K', 'H', 'Dh']), ('bias', TensorProto.FLOAT, ['S', 'KS'])],
                                [('y', TensorProto.FLOAT, ['S', 'H', 'Dh'])]),
    'SsmAttention': ([('row', TensorProto.FLOAT, ['S', 'M']), ('mask', TensorProto.FLOAT, ['S', 'M']),
                      ('values', TensorProto.FLOAT, ['M', 'Dv'])],
                     [('y', TensorProto.FLOAT, ['S', 'Dv'])]),
}


def functions(names: Sequence[str] = tuple(FUNCTIONS)) -> List[onnx.FunctionProto]:
    """The FunctionProtos to put in a model's `functions` list."""
    return [FUNCTIONS[k]() for k in names]


def opset_imports() -> List[onnx.OperatorSetIdProto]:
    return [helper.make_opsetid('', OPSET), helper.make_opsetid(DOMAIN, DOMAIN_VERSION)]


def one_op_model(op: str) -> onnx.ModelProto:
    """A model whose graph is the single refrain.attn op `op` (for parity tests)."""
    ins, outs = OP_SIGNATURES[op]
    node = helper.make_node(op, [i[0] for i in ins], [o[0] for o in outs], domain=DOMAIN)
    graph = helper.make_graph([node], f'refrain_attn_{op}',
                              [helper.make_tensor_value_info(*i) for i in ins],
                              [helper.make_tensor_value_info(*o) for o in outs])
    model = helper.make_model(graph, opset_imports=opset_imports(), functions=functions([op]),
                              producer_name='refrain models/train/attnlib.py', ir_version=IR_VERSION)
    onnx.checker.check_model(model)
    return model


# ---- numpy references (the same arithmetic; the torch model is the training twin) ----

def ref_struct_rotary(x: np.ndarray, coords: np.ndarray, freq: np.ndarray) -> np.ndarray:
    ang = coords @ freq
    c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    p = x.shape[-1] // 2
    x1, x2 = x[..., :p], x[..., p:]
    return np.concatenate([x1 * c - x2 * s, x2 * c + x1 * s], axis=-1).astype(np.float32)


def ref_structured_attention(q, k, v, past_k, past_v, kidx, bias) -> np.ndarray:
    return ref_structured_attention_rows(q, k, v, past_k[kidx], past_v[kidx], bias)


def ref_structured_attention_rows(q, k, v, rows_k, rows_v, bias) -> np.ndarray:
    kk = np.concatenate([rows_k, k], axis=0).transpose(1, 0, 2)  # [H, K+S, Dh]
    vv = np.concatenate([rows_v, v], axis=0).transpose(1, 0, 2)
    qt = q.transpose(1, 0, 2) / np.sqrt(q.shape[-1])
    sc = qt @ kk.transpose(0, 2, 1) + bias[None]
    sc = sc - sc.max(axis=-1, keepdims=True)
    p = np.exp(sc)
    p /= p.sum(axis=-1, keepdims=True)
    return (p @ vv).transpose(1, 0, 2).astype(np.float32)


def ref_ssm_attention(row, mask, values) -> np.ndarray:
    from plan import sparsemax_np
    return (sparsemax_np(row, mask) @ values).astype(np.float32)
