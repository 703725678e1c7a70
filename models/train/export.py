"""Exports a RefrainLM to an ONNX decode-step model plus card.json.

Usage:
    /usr/bin/python3 models/train/export.py CKPT.pt models/<id> [--id ID]
    /usr/bin/python3 models/train/export.py --fixtures test/fixtures/onnx
    /usr/bin/python3 models/train/export.py --reexport models/<id> ...   (a shipped folder in the current graph)

The engine keeps the KV cache in Float32Arrays (row t of every cache buffer is token t of the
piece). The decode step takes the step's new token(s) and, per layer, the cache rows the
attention plan allows (plan `kidx_l`) already gathered (graph 'rows-1', the default: the
engine keeps them from step to step and copies only the rows that changed), and returns
logits and the new tokens' K/V rows, which the engine writes into its buffers at rows tpos.

Inputs (S new tokens, K_l keys of layer l, M summaries):
  tokens int32 [S]; bar int32 [S] (65535 = header); pos int32 [S] (255 = none);
  tpos int32 [S] (token index in the piece = the cache row the token's K/V go to);
  rows_k_l, rows_v_l float32 [K_l, H, Dh] (cache rows kidx_l, in order); bias_l float32 [S, K_l + S];
  SING models only: ssm_v float32 [M, Dh] (the template layer's last-head values at the summary
  rows ssm_idx); ssm_row, ssm_mask float32 [S, M + S].
Outputs: logits float32 [S, V]; new_k_l, new_v_l float32 [S, H, Dh].
Graphs 'fused-1' and 'functions-1' (earlier exports, which the engine still runs) take the whole
cache instead (past_k_l, past_v_l float32 [T, H, Dh] for T rows of capacity; kidx_l int32 [K_l];
ssm_idx int32 [M]) and gather inside the graph.
See models/train/README.md for how kidx/bias/ssm_* are built (plan.decode_inputs is the
reference implementation).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import math
import os
import sys
from typing import Dict, List, Optional, Tuple

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

import attnlib
from model import LayerSpec, ModelConfig, RefrainLM
from structure import TEMPLATE_SAME
from plan import HEADER_BAR, NO_POS

FORMAT = 'refrain-decode-1'


class _G:
    """Tiny graph builder."""

    def __init__(self) -> None:
        self.nodes: List[onnx.NodeProto] = []
        self.inits: List[onnx.TensorProto] = []
        self.small: Dict = {}
        self.k = 0

    def name(self, base: str) -> str:
        self.k += 1
        return f'{base}_{self.k}'

    def init(self, base: str, arr: np.ndarray) -> str:
        arr = np.array(arr, order='C')  # (np.ascontiguousarray would turn a scalar into shape [1])
        key = (base, arr.dtype.str, arr.shape, arr.tobytes()) if arr.size <= 16 else None
        if key is not None and key in self.small:
            return self.small[key]
        n = self.name(base)
        self.inits.append(numpy_helper.from_array(arr, n))
        if key is not None:
            self.small[key] = n
        return n

    def op(self, op: str, inputs: List[str], n_out: int = 1, domain: str = '', out: Optional[List[str]] = None, **attrs):
        outs = out or [self.name(op.lower()) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op, inputs, outs, domain=domain or None, **attrs))
        return outs[0] if n_out == 1 else outs


#: The decode graph's layout, recorded in the card (`onnx.graph`): 'rows-1' (the default: fused operators, the
#: attended cache rows as inputs), 'fused-1' (fused operators, gathers from the whole cache), else the earlier
#: graph of standard ops and refrain.attn functions ('functions-1', cards without the field).
GRAPH_ROWS = 'rows-1'
GRAPH_FUSED = 'fused-1'
#: Weight storage recorded in the card (`onnx.weights`): 'float32' (cards without the field), or 'int8': every
#: weight matrix of a layer (qkv, out, fc1, fc2) as int8 with one float32 scale per output column (symmetric,
#: round to nearest), multiplied by com.microsoft DynamicQuantizeMatMul (activations quantized per step); the
#: embedding (shared with the logits), norms and biases stay float32.
WEIGHTS_FLOAT32 = 'float32'
WEIGHTS_INT8 = 'int8'
#: Matrices smaller than this stay float32.
INT8_MIN_ELEMENTS = 1 << 16
GRAPH_FUNCTIONS = 'functions-1'
MS_DOMAIN = 'com.microsoft'


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy().astype(np.float32)


def io_spec(cfg: ModelConfig, graph: str = GRAPH_ROWS) -> Dict[str, List[Dict]]:
    """Names, dtypes and symbolic shapes of the decode model's inputs and outputs in a graph layout."""
    rows = graph == GRAPH_ROWS
    h, dh = cfg.n_heads, cfg.head_dim
    ins = [
        {'name': 'tokens', 'dtype': 'int32', 'shape': ['S'], 'doc': 'token ids of the new tokens'},
        {'name': 'bar', 'dtype': 'int32', 'shape': ['S'], 'doc': 'bar index in the piece; 65535 for header tokens'},
        {'name': 'pos', 'dtype': 'int32', 'shape': ['S'], 'doc': 'onset in the bar in grid steps; 255 for none'},
        {'name': 'tpos', 'dtype': 'int32', 'shape': ['S'], 'doc': 'token index in the piece (= cache row)'},
    ]
    if cfg.pe == 'tsrope':
        ins.append({'name': 'sbar', 'dtype': 'int32', 'shape': ['S'],
                    'doc': 'structural source bar of the token\'s bar (models/train/structure.py); 65535 for none'})
    if cfg.end_embed:
        ins.append({'name': 'toend', 'dtype': 'int32', 'shape': ['S'],
                    'doc': 'bars left to the piece\'s end: 0, 1, 2, 3 (three or more), 4 unknown'})
    for l in range(len(cfg.layers)):
        if rows:
            ins += [
                {'name': f'rows_k_{l}', 'dtype': 'float32', 'shape': [f'K{l}', h, dh],
                 'doc': f'layer {l} keys of the cache rows any new token may see (plan kidx), in bias-column order'},
                {'name': f'rows_v_{l}', 'dtype': 'float32', 'shape': [f'K{l}', h, dh], 'doc': f'layer {l} values of the same rows'},
            ]
        else:
            ins += [
                {'name': f'past_k_{l}', 'dtype': 'float32', 'shape': ['T', h, dh], 'doc': f'layer {l} key cache buffer'},
                {'name': f'past_v_{l}', 'dtype': 'float32', 'shape': ['T', h, dh], 'doc': f'layer {l} value cache buffer'},
                {'name': f'kidx_{l}', 'dtype': 'int32', 'shape': [f'K{l}'], 'doc': 'cache rows any new token may see (plan)'},
            ]
        ins.append({'name': f'bias_{l}', 'dtype': 'float32', 'shape': ['S', f'K{l}+S'],
                    'doc': '0 allowed / -1e9 blocked, per new token over kidx rows then the new tokens'})
    if any(s.sing for s in cfg.layers):
        ins += [
            {'name': 'ssm_v', 'dtype': 'float32', 'shape': ['M', dh],
             'doc': 'last-head values of the template layer at the summary rows (ssm_idx: summary tokens of earlier bars)'}
            if rows else
            {'name': 'ssm_idx', 'dtype': 'int32', 'shape': ['M'], 'doc': 'cache rows of the summary tokens of earlier bars'},
            {'name': 'ssm_row', 'dtype': 'float32', 'shape': ['S', 'M+S'],
             'doc': 'template SSM value (query bar, candidate summary bar), over ssm_idx rows then the new tokens'},
            {'name': 'ssm_mask', 'dtype': 'float32', 'shape': ['S', 'M+S'], 'doc': '1 where the candidate is a summary of an earlier bar'},
        ]
    outs = [{'name': 'logits', 'dtype': 'float32', 'shape': ['S', cfg.vocab_size], 'doc': 'next-token logits'}]
    for l in range(len(cfg.layers)):
        outs += [
            {'name': f'new_k_{l}', 'dtype': 'float32', 'shape': ['S', h, dh], 'doc': f'layer {l} keys of the new tokens (write at rows tpos)'},
            {'name': f'new_v_{l}', 'dtype': 'float32', 'shape': ['S', h, dh], 'doc': f'layer {l} values of the new tokens'},
        ]
    return {'inputs': ins, 'outputs': outs}


_DT = {'int32': TensorProto.INT32, 'float32': TensorProto.FLOAT}


def _shape(s: List) -> List:
    return [x if isinstance(x, int) else str(x) for x in s]




def _embed_and_coords(g: _G, model: RefrainLM) -> Tuple[str, str, str, str, str]:
    """The graph's input stage, shared by both layouts: the tied embedding initializer, token (+ bars-to-end)
    embeddings, and the rotary coordinates (bar, position in bar, token index and, for tsrope, the source bar;
    -1 where a coordinate does not apply). Returns (embedding, x, bar, pos, coords)."""
    cfg = model.cfg
    e_w = g.init('emb', _np(model.emb.weight))
    x = g.op('Gather', [e_w, 'tokens'], axis=0)

    def coord(inp: str, none_value: int) -> str:
        f = g.op('Cast', [inp], to=TensorProto.FLOAT)
        is_none = g.op('Equal', [inp, g.init('none', np.array(none_value, np.int32))])
        c = g.op('Where', [is_none, g.init('minus1', np.array(-1.0, np.float32)), f])
        return g.op('Unsqueeze', [c, g.init('ax1', np.array([1], np.int64))])

    bar_c = coord('bar', HEADER_BAR)
    pos_c = coord('pos', NO_POS)
    tok_c = g.op('Unsqueeze', [g.op('Cast', ['tpos'], to=TensorProto.FLOAT), g.init('ax1', np.array([1], np.int64))])
    if cfg.pe == 'tsrope':
        coords3 = g.op('Concat', [bar_c, pos_c, tok_c, coord('sbar', HEADER_BAR)], axis=1)
    else:
        coords3 = g.op('Concat', [bar_c, pos_c, tok_c], axis=1)
    if cfg.end_embed:
        x = g.op('Add', [x, g.op('Gather', [g.init('end_emb', _np(model.end_emb.weight)), 'toend'], axis=0)])
    return e_w, x, bar_c, pos_c, coords3


def build_decode_model(model: RefrainLM, graph: str = GRAPH_ROWS, weights: str = WEIGHTS_FLOAT32) -> onnx.ModelProto:
    """The decode-step ONNX model of `model` (weights as initializers), in the given graph layout and weight storage."""
    if weights == WEIGHTS_INT8:
        if graph not in (GRAPH_ROWS, GRAPH_FUSED):
            raise ValueError('int8 weights need a fused graph')
        return quantize_int8(_build_fused(model, rows=graph == GRAPH_ROWS))
    if weights != WEIGHTS_FLOAT32:
        raise ValueError(f'unknown weight storage {weights!r}')
    if graph in (GRAPH_ROWS, GRAPH_FUSED):
        return _build_fused(model, rows=graph == GRAPH_ROWS)
    if graph != GRAPH_FUNCTIONS:
        raise ValueError(f'unknown decode graph {graph!r}')
    cfg = model.cfg
    h, dh, d = cfg.n_heads, cfg.head_dim, cfg.d
    g = _G()
    e_w, x, bar_c, pos_c, coords3 = _embed_and_coords(g, model)
    freq = g.init('rot_freq', _np(model.rot_freq)) if model.rot_freq is not None else None
    if cfg.pe == 'fstripe':
        coords2 = g.op('Concat', [bar_c, pos_c], axis=1)
        z = g.op('MatMul', [coords2, g.init('rff_w', _np(model.rff_w))])
        feats = g.op('Concat', [g.op('Cos', [z]), g.op('Sin', [z])], axis=1)
        x = g.op('Add', [x, g.op('MatMul', [feats, g.init('rff_proj', _np(model.rff_proj.weight).T)])])
    sing_any = any(s.sing for s in cfg.layers)
    if sing_any:
        ssm_row = g.op('Mul', ['ssm_row', g.init('sing_scale', np.array(cfg.sing_scale, np.float32))])
    for l, (blk, spec) in enumerate(zip(model.blocks, cfg.layers)):
        hn = g.op('LayerNormalization', [x, g.init('ln1_w', _np(blk.ln1.weight)), g.init('ln1_b', _np(blk.ln1.bias))],
                  axis=-1, epsilon=blk.ln1.eps)
        qkv = g.op('MatMul', [hn, g.init('wqkv', _np(blk.attn.qkv.weight).T)])
        qkv = g.op('Reshape', [qkv, g.init('shape_qkv', np.array([-1, 3, h, dh], np.int64))])
        parts = g.op('Split', [qkv], n_out=3, axis=1)
        q, k, v = [g.op('Squeeze', [p, g.init('ax1', np.array([1], np.int64))]) for p in parts]
        if freq is not None:
            q = g.op('StructRotary', [q, coords3, freq], domain=attnlib.DOMAIN)
            k = g.op('StructRotary', [k, coords3, freq], domain=attnlib.DOMAIN)
        g.op('Identity', [k], out=[f'new_k_{l}'])
        g.op('Identity', [v], out=[f'new_v_{l}'])
        y = g.op('StructuredAttention', [q, k, v, f'past_k_{l}', f'past_v_{l}', f'kidx_{l}', f'bias_{l}'],
                 domain=attnlib.DOMAIN)
        if spec.sing:
            last = g.init('last_head', np.array(h - 1, np.int64))
            sv = g.op('Gather', [f'past_v_{l}', 'ssm_idx'], axis=0)
            svh = g.op('Gather', [sv, last], axis=1)
            nvh = g.op('Gather', [v, last], axis=1)
            vals = g.op('Concat', [svh, nvh], axis=0)
            ys = g.op('SsmAttention', [ssm_row, 'ssm_mask', vals], domain=attnlib.DOMAIN)
            y_rest = g.op('Slice', [y, g.init('s0', np.array([0], np.int64)), g.init('s1', np.array([h - 1], np.int64)),
                                    g.init('ax1', np.array([1], np.int64))])
            y = g.op('Concat', [y_rest, g.op('Unsqueeze', [ys, g.init('ax1', np.array([1], np.int64))])], axis=1)
        y = g.op('Reshape', [y, g.init('shape_sd', np.array([-1, d], np.int64))])
        x = g.op('Add', [x, g.op('MatMul', [y, g.init('wo', _np(blk.attn.out.weight).T)])])
        hn = g.op('LayerNormalization', [x, g.init('ln2_w', _np(blk.ln2.weight)), g.init('ln2_b', _np(blk.ln2.bias))],
                  axis=-1, epsilon=blk.ln2.eps)
        f1 = g.op('Add', [g.op('MatMul', [hn, g.init('w1', _np(blk.fc1.weight).T)]), g.init('b1', _np(blk.fc1.bias))])
        erf = g.op('Erf', [g.op('Mul', [f1, g.init('inv_sqrt2', np.array(1.0 / math.sqrt(2.0), np.float32))])])
        gelu = g.op('Mul', [g.op('Mul', [f1, g.init('half', np.array(0.5, np.float32))]),
                            g.op('Add', [erf, g.init('one', np.array(1.0, np.float32))])])
        f2 = g.op('Add', [g.op('MatMul', [gelu, g.init('w2', _np(blk.fc2.weight).T)]), g.init('b2', _np(blk.fc2.bias))])
        x = g.op('Add', [x, f2])
    xf = g.op('LayerNormalization', [x, g.init('lnf_w', _np(model.ln_f.weight)), g.init('lnf_b', _np(model.ln_f.bias))],
              axis=-1, epsilon=model.ln_f.eps)
    g.op('Gemm', [xf, e_w], out=['logits'], transB=1)
    spec_io = io_spec(cfg, GRAPH_FUNCTIONS)
    ins = [helper.make_tensor_value_info(i['name'], _DT[i['dtype']], _shape(i['shape'])) for i in spec_io['inputs']]
    outs = [helper.make_tensor_value_info(o['name'], _DT[o['dtype']], _shape(o['shape'])) for o in spec_io['outputs']]
    used = ['StructuredAttention'] + (['StructRotary'] if freq is not None else []) + (['SsmAttention'] if sing_any else [])
    graph = helper.make_graph(g.nodes, 'refrain_decode_step', ins, outs, g.inits)
    m = helper.make_model(graph, opset_imports=attnlib.opset_imports(), functions=attnlib.functions(used),
                          producer_name='refrain models/train/export.py', ir_version=attnlib.IR_VERSION)
    onnx.checker.check_model(m)
    return m


def quantize_int8(m: onnx.ModelProto) -> onnx.ModelProto:
    """The model with each MatMul by a large float32 weight matrix W [K, N] replaced by DynamicQuantizeMatMul over
    int8 W_q = round(W / s) (s = max |W[:, n]| / 127 per output column n, zero point 0): `<W>_q`, `<W>_s`, `<W>_z`."""
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    uses: Dict[str, int] = {}
    for n in g.node:
        for name in n.input:
            uses[name] = uses.get(name, 0) + 1
    nodes, drop, add = [], set(), []
    for n in g.node:
        w = inits.get(n.input[1]) if n.op_type == 'MatMul' and len(n.input) == 2 else None
        arr = numpy_helper.to_array(w) if w is not None else None
        if arr is None or arr.ndim != 2 or arr.dtype != np.float32 or arr.size < INT8_MIN_ELEMENTS or uses[w.name] != 1:
            nodes.append(n)
            continue
        scale = (np.abs(arr).max(axis=0) / 127.0).astype(np.float32)
        scale[scale == 0] = 1.0
        q = np.clip(np.rint(arr / scale), -127, 127).astype(np.int8)
        add += [numpy_helper.from_array(q, w.name + '_q'), numpy_helper.from_array(scale, w.name + '_s'),
                numpy_helper.from_array(np.zeros(arr.shape[1], np.int8), w.name + '_z')]
        drop.add(w.name)
        nodes.append(helper.make_node('DynamicQuantizeMatMul', [n.input[0], w.name + '_q', w.name + '_s', w.name + '_z'],
                                      list(n.output), domain=MS_DOMAIN))
    del g.node[:]
    g.node.extend(nodes)
    keep = [i for i in g.initializer if i.name not in drop]
    del g.initializer[:]
    g.initializer.extend(keep + add)
    if not any(o.domain == MS_DOMAIN for o in m.opset_import):
        m.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
    onnx.checker.check_model(m)
    return m


def _rotate_half_matrix(dh: int) -> np.ndarray:
    """P with x @ P = [-x2, x1] for x = [x1, x2] (halves of Dh): rotate-half as one MatMul. Every column has one
    entry of +-1, so the product is exact."""
    p = dh // 2
    m = np.zeros((dh, dh), np.float32)
    for j in range(p):
        m[j + p, j] = -1.0
        m[j, j + p] = 1.0
    return m


def _build_fused(model: RefrainLM, rows: bool = True) -> onnx.ModelProto:
    """The decode step with fewer nodes (the 'functions-1' graph's arithmetic up to float rounding; 101 nodes
    before onnxruntime inlines the functions, ~210 after, was 272):

    - with `rows` ('rows-1'), attention reads the plan's cache rows as inputs (refrain.attn
      StructuredAttentionRows) and the template head its summary values (ssm_v): no Gather of cache rows in
      the graph (the engine keeps the gathered rows from step to step; a one-token step at 1k context ran
      ~15% faster, a four-token step over 323 keys ~17%); without it ('fused-1') the graph gathers from the
      whole cache (past_k_l, kidx_l, ssm_idx);
    - rotary: cos/sin of the step's angles once per step, widened to Dh; q and k of a layer rotated together as
      x * cos + (x @ P) * sin (P: rotate-half with its signs, so the product is exact and the sums are the
      functions graph's);
    - residual adds folded into com.microsoft SkipLayerNormalization (the fc2 bias as its bias input; the sum
      comes out as the next residual), GELU (exact erf) with the fc1 bias as one com.microsoft BiasGelu;
    - the new K/V rows are the split's own outputs (no Identity copies);
    - attention stays refrain.attn StructuredAttention: com.microsoft MultiHeadAttention (the plan's bias as its
      attention bias) ran ~3% slower per one-token step than the functions graph, this graph ~8% faster.
    """
    cfg = model.cfg
    h, dh, d = cfg.n_heads, cfg.head_dim, cfg.d
    g = _G()
    e_w, x, bar_c, pos_c, coords3 = _embed_and_coords(g, model)
    rot = None
    if model.rot_freq is not None:
        ang = g.op('MatMul', [coords3, g.init('rot_freq', _np(model.rot_freq))])
        cos = g.op('Cos', [ang])
        sin = g.op('Sin', [ang])
        ax1 = g.init('ax1', np.array([1], np.int64))
        cos_w = g.op('Unsqueeze', [g.op('Concat', [cos, cos], axis=1), ax1])  # [S, 1, Dh]
        sin_w = g.op('Unsqueeze', [g.op('Concat', [sin, sin], axis=1), ax1])
        rot = (cos_w, sin_w, g.init('rot_half', _rotate_half_matrix(dh)))
    if cfg.pe == 'fstripe':
        coords2 = g.op('Concat', [bar_c, pos_c], axis=1)
        z = g.op('MatMul', [coords2, g.init('rff_w', _np(model.rff_w))])
        feats = g.op('Concat', [g.op('Cos', [z]), g.op('Sin', [z])], axis=1)
        x = g.op('Add', [x, g.op('MatMul', [feats, g.init('rff_proj', _np(model.rff_proj.weight).T)])])
    sing_any = any(s.sing for s in cfg.layers)
    if sing_any:
        ssm_row = g.op('Mul', ['ssm_row', g.init('sing_scale', np.array(cfg.sing_scale, np.float32))])
    shape_sd = g.init('shape_sd', np.array([-1, d], np.int64))
    blocks = list(zip(model.blocks, cfg.layers))
    b0 = blocks[0][0]
    hn = g.op('LayerNormalization', [x, g.init('ln1_w', _np(b0.ln1.weight)), g.init('ln1_b', _np(b0.ln1.bias))],
              axis=-1, epsilon=b0.ln1.eps)
    for l, (blk, spec) in enumerate(blocks):
        qkv = g.op('MatMul', [hn, g.init('wqkv', _np(blk.attn.qkv.weight).T)])
        qkv = g.op('Reshape', [qkv, g.init('shape_qkv', np.array([-1, 3 * h, dh], np.int64))])
        if rot is not None:
            qk = g.name('qk')
            g.op('Split', [qkv, g.init('split_qk_v', np.array([2 * h, h], np.int64))], n_out=2, axis=1,
                 out=[qk, f'new_v_{l}'])
            cos_w, sin_w, rh = rot
            qk = g.op('Add', [g.op('Mul', [qk, cos_w]), g.op('Mul', [g.op('MatMul', [qk, rh]), sin_w])])
            q = g.name('q')
            g.op('Split', [qk, g.init('split_q_k', np.array([h, h], np.int64))], n_out=2, axis=1, out=[q, f'new_k_{l}'])
        else:
            q = g.name('q')
            g.op('Split', [qkv], n_out=3, axis=1, out=[q, f'new_k_{l}', f'new_v_{l}'])
        k, v = f'new_k_{l}', f'new_v_{l}'
        if rows:
            y = g.op('StructuredAttentionRows', [q, k, v, f'rows_k_{l}', f'rows_v_{l}', f'bias_{l}'], domain=attnlib.DOMAIN)
        else:
            y = g.op('StructuredAttention', [q, k, v, f'past_k_{l}', f'past_v_{l}', f'kidx_{l}', f'bias_{l}'],
                     domain=attnlib.DOMAIN)
        if spec.sing:
            last = g.init('last_head', np.array(h - 1, np.int64))
            if rows:
                svh = 'ssm_v'
            else:
                svh = g.op('Gather', [g.op('Gather', [f'past_v_{l}', 'ssm_idx'], axis=0), last], axis=1)
            nvh = g.op('Gather', [v, last], axis=1)
            vals = g.op('Concat', [svh, nvh], axis=0)
            ys = g.op('SsmAttention', [ssm_row, 'ssm_mask', vals], domain=attnlib.DOMAIN)
            y_rest = g.op('Slice', [y, g.init('s0', np.array([0], np.int64)), g.init('s1', np.array([h - 1], np.int64)),
                                    g.init('ax1', np.array([1], np.int64))])
            y = g.op('Concat', [y_rest, g.op('Unsqueeze', [ys, g.init('ax1', np.array([1], np.int64))])], axis=1)
        y = g.op('Reshape', [y, shape_sd])
        ao = g.op('MatMul', [y, g.init('wo', _np(blk.attn.out.weight).T)])
        # x: the residual stream; each SkipLayerNormalization returns the normalized sum and the sum itself.
        hn2, mid = g.name('ln2'), g.name('res')
        g.op('SkipLayerNormalization', [ao, x, g.init('ln2_w', _np(blk.ln2.weight)), g.init('ln2_b', _np(blk.ln2.bias))],
             n_out=4, domain=MS_DOMAIN, out=[hn2, '', '', mid], epsilon=blk.ln2.eps)
        f1 = g.op('MatMul', [hn2, g.init('w1', _np(blk.fc1.weight).T)])
        gelu = g.op('BiasGelu', [f1, g.init('b1', _np(blk.fc1.bias))], domain=MS_DOMAIN)
        f2 = g.op('MatMul', [gelu, g.init('w2', _np(blk.fc2.weight).T)])
        nxt = model.ln_f if l == len(blocks) - 1 else blocks[l + 1][0].ln1
        names = ('lnf_w', 'lnf_b') if l == len(blocks) - 1 else ('ln1_w', 'ln1_b')
        hn, x = g.name('ln'), g.name('res')
        g.op('SkipLayerNormalization', [f2, mid, g.init(names[0], _np(nxt.weight)), g.init(names[1], _np(nxt.bias)),
                                        g.init('b2', _np(blk.fc2.bias))],
             n_out=4, domain=MS_DOMAIN, out=[hn, '', '', x], epsilon=nxt.eps)
    g.op('Gemm', [hn, e_w], out=['logits'], transB=1)
    spec_io = io_spec(cfg, GRAPH_ROWS if rows else GRAPH_FUSED)
    ins = [helper.make_tensor_value_info(i['name'], _DT[i['dtype']], _shape(i['shape'])) for i in spec_io['inputs']]
    outs = [helper.make_tensor_value_info(o['name'], _DT[o['dtype']], _shape(o['shape'])) for o in spec_io['outputs']]
    used = ['StructuredAttentionRows' if rows else 'StructuredAttention'] + (['SsmAttention'] if sing_any else [])
    graph = helper.make_graph(g.nodes, 'refrain_decode_step', ins, outs, g.inits)
    opsets = attnlib.opset_imports() + [helper.make_opsetid(MS_DOMAIN, 1)]
    m = helper.make_model(graph, opset_imports=opsets, functions=attnlib.functions(used),
                          producer_name='refrain models/train/export.py', ir_version=attnlib.IR_VERSION)
    onnx.checker.check_model(m)
    return m


def _sha256(path: str) -> str:
    hh = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            hh.update(chunk)
    return hh.hexdigest()


def onnx_record(onnx_path: str, graph: str = GRAPH_ROWS, weights: str = WEIGHTS_FLOAT32) -> Dict:
    """The card's `onnx` section for a decode model file written by {@link build_decode_model}."""
    rec = {'file': os.path.basename(onnx_path), 'sha256': _sha256(onnx_path), 'bytes': os.path.getsize(onnx_path),
           'opset': attnlib.OPSET, 'irVersion': attnlib.IR_VERSION,
           'functionDomains': {attnlib.DOMAIN: attnlib.DOMAIN_VERSION}}
    if graph != GRAPH_FUNCTIONS:
        rec['graph'] = graph
        rec['domains'] = {MS_DOMAIN: 1}
    if weights != WEIGHTS_FLOAT32:
        rec['weights'] = weights
    return rec


def make_card(model: RefrainLM, model_id: str, onnx_path: str, meta: Optional[Dict], training: Optional[Dict],
              created: Optional[str] = None, graph: str = GRAPH_ROWS, weights: str = WEIGHTS_FLOAT32) -> Dict:
    """card.json content (I/O, vocab, PE, trained plan settings, parameters, data)."""
    cfg = model.cfg
    vocab = meta['vocab'] if meta else None
    card = {
        'id': model_id,
        'format': FORMAT,
        'created': created or datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'),
        'onnx': onnx_record(onnx_path, graph, weights),
        'io': io_spec(cfg, graph),
        'vocab': None if vocab is None else {
            'size': len(vocab), 'sha256': hashlib.sha256(json.dumps(vocab).encode()).hexdigest(),
            'specials': meta['specials'], 'grid': meta.get('grid'), 'tokens': vocab,
            'shardCreatedBy': meta.get('createdBy'), 'shardFormat': meta.get('format'),
        },
        'model': {'d': cfg.d, 'heads': cfg.n_heads, 'headDim': cfg.head_dim, 'ffn': cfg.ffn, 'layers': len(cfg.layers),
                  'parameters': model.n_params(), 'pe': cfg.pe, 'singScale': cfg.sing_scale,
                  'tiedEmbedding': True, 'structRelated': cfg.struct_related, 'endEmbed': cfg.end_embed,
                  'templateSame': TEMPLATE_SAME},
        'plan': {
            'headerBar': HEADER_BAR, 'noPos': NO_POS, 'blockedBias': -1.0e9,
            'relatedOffsets': list(cfg.offsets), 'offsetKeepProbability': cfg.offset_keep,
            'layers': [{'plan': s.plan, 'windows': list(s.windows), 'sing': s.sing} for s in cfg.layers],
            'summaryId': cfg.summary_id,
            'rules': 'models/train/README.md#attention-plan (reference: models/train/plan.py decode_inputs)',
        },
        'config': cfg.to_dict(),
    }
    if training:
        card['training'] = training
    return card


def export_model(model: RefrainLM, out_dir: str, model_id: str, meta: Optional[Dict] = None,
                 training: Optional[Dict] = None, created: Optional[str] = None, weights: str = WEIGHTS_FLOAT32) -> Dict:
    """Writes out_dir/model.onnx and out_dir/card.json; returns the card."""
    os.makedirs(out_dir, exist_ok=True)
    model.eval()
    m = build_decode_model(model, GRAPH_ROWS, weights)
    path = os.path.join(out_dir, 'model.onnx')
    onnx.save(m, path)
    card = make_card(model, model_id, path, meta, training, created, weights=weights)
    with open(os.path.join(out_dir, 'card.json'), 'w') as f:
        json.dump(card, f, indent=1)
    return card


def load_checkpoint(path: str) -> (RefrainLM, Dict):
    ck = torch.load(path, map_location='cpu')
    model = RefrainLM(ModelConfig.from_dict(ck['model_config']))
    model.load_state_dict(ck['model'])
    model.eval()
    return model, ck


# ---------------------------------------------------------------- fixtures for parity tests

def fixture_tune() -> Dict[str, np.ndarray]:
    """A short hand-made tune in the synthetic vocabulary (our own material): 4/4, G major,
    6 bars where bar 4 repeats bar 0 and bar 5 varies bar 1."""
    from synth import build_vocab, encode, bar_ssm
    vocab, _ = build_vocab()
    tok = {t: i for i, t in enumerate(vocab)}
    a = [(0, 67, 12), (12, 71, 12), (24, 74, 24)]
    b = [(0, 72, 6), (6, 71, 6), (12, 69, 12), (24, 67, 24)]
    c = [(0, 66, 12), (12, 69, 12), (24, 72, 12), (36, 71, 12)]
    d = [(0, 67, 48)]
    b2 = [(0, 72, 6), (6, 71, 6), (12, 69, 12), (24, 66, 24)]
    bars = [a, b, c, d, a, b2]
    ids, bar, pos = encode(['M:4/4', 'K:G'], bars, tok)
    return {'ids': np.array(ids), 'bar': np.array(bar), 'pos': np.array(pos), 'ssm': bar_ssm(bars), 'vocab': vocab}


def tiny_model(variant: str, vocab_size: int, summary_id: int) -> RefrainLM:
    torch.manual_seed(11 if variant == 'a' else 12)
    if variant == 'a':
        layers = [LayerSpec('fc', [None, 12]), LayerSpec('fc', [None], sing=True)]
        pe = 'srope'
    else:
        layers = [LayerSpec('dense', [None]), LayerSpec('dense', [9])]
        pe = 'fstripe'
    cfg = ModelConfig(vocab_size=vocab_size, d=32, n_heads=2, ffn=64, layers=layers, pe=pe, offsets=[1, 2, 4],
                      sing_scale=2.0, fstripe_features=8, summary_id=summary_id)
    m = RefrainLM(cfg)
    with torch.no_grad():  # larger weights than the training init, so outputs are far from uniform
        for p in m.parameters():
            if p.dim() >= 2:
                p.normal_(0.0, 0.25)
    m.eval()
    return m


def decode_fixture(model: RefrainLM, tune: Dict, windows: List[Optional[int]], chunks: List[int]) -> Dict:
    """Runs the full-sequence PyTorch forward (training path) and records the decode feeds
    for the given chunking of the tune into steps; expected logits come from the full forward."""
    from plan import decode_inputs
    cfg = model.cfg
    n = len(tune['ids'])
    ids = torch.tensor(tune['ids'])[None]
    bar = torch.tensor(tune['bar'])[None]
    pos = torch.tensor(tune['pos'])[None]
    tpos = torch.arange(n)[None]
    is_sum = ids == cfg.summary_id
    batch = {'ids': ids, 'bar': bar, 'pos': pos, 'tpos': tpos, 'seg': torch.ones_like(ids), 'is_sum': is_sum}
    structural = cfg.pe == 'tsrope' or cfg.struct_related or cfg.end_embed
    sbar_np = toend_np = None
    if structural:
        from structure import NO_SOURCE, source_bars, to_end
        src = source_bars(tune['ssm'])
        hdr = tune['bar'] == HEADER_BAR
        sbar_np = np.where(hdr, NO_SOURCE, src[np.minimum(np.where(hdr, 0, tune['bar']), len(src) - 1)]).astype(np.int64)
        toend_np = to_end(tune['bar'], int(tune['ssm'].shape[0])).astype(np.int64)
        batch['sbar'] = torch.from_numpy(sbar_np)[None]
        batch['toend'] = torch.from_numpy(toend_np)[None]
    sing = any(s.sing for s in cfg.layers)
    if sing:
        from plan import sing_weights_piece
        w = np.zeros((n, n), np.float32)
        sing_weights_piece(tune['bar'], tune['ids'] == cfg.summary_id, tune['ssm'], cfg.sing_scale, w)
        batch['sing_w'] = torch.from_numpy(w)[None]
    plan = model.sample_plan(1, None, False, windows=windows)
    with torch.no_grad():
        logits = model(batch, plan)[0].numpy()
    layers = [{'plan': s.plan, 'window': wdw} for s, wdw in zip(cfg.layers, windows)]
    steps = []
    t = 0
    for s in chunks:
        feeds = decode_inputs(tune['bar'], np.arange(n), tune['ids'] == cfg.summary_id, t, s, layers, cfg.offsets,
                              tune['ssm'] if sing else None, sbar_np if cfg.struct_related else None)
        if cfg.pe == 'tsrope':
            feeds['sbar'] = sbar_np[t: t + s].astype(np.int32)
        if cfg.end_embed:
            feeds['toend'] = toend_np[t: t + s].astype(np.int32)
        feeds.update({'tokens': tune['ids'][t: t + s].astype(np.int32), 'bar': tune['bar'][t: t + s].astype(np.int32),
                      'pos': tune['pos'][t: t + s].astype(np.int32), 'tpos': np.arange(t, t + s, dtype=np.int32)})
        steps.append({'feeds': feeds, 'expected_logits': logits[t: t + s]})
        t += s
    assert t == n
    return {'steps': steps, 'n': n}


def write_fixtures(out_dir: str, check: bool = True) -> Dict:
    """Writes the one-op models + tensors and two tiny decode models + step tensors used
    by test/unit/onnx/parity.test.ts. With check, runs them through onnxruntime-node."""
    import tensorio
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(5)
    report: Dict[str, float] = {}
    # one-op models
    s, h, dh, t, k = 3, 2, 8, 12, 5
    kidx = np.array([0, 2, 3, 7, 10], np.int32)
    bias = np.zeros((s, k + s), np.float32)
    bias[0, k + 1:] = -1e9
    bias[1, k + 2:] = -1e9
    bias[:, 1] = -1e9
    row = (rng.random((4, 6)) * 2).astype(np.float32)
    mask = (rng.random((4, 6)) < 0.6).astype(np.float32)
    mask[0, 0] = 1.0
    mask[3] = 0.0
    cases = {
        'StructRotary': {'x': rng.standard_normal((s, h, dh)).astype(np.float32),
                         'coords': np.array([[-1, -1, 0], [0, 12, 5], [3, 30, 41]], np.float32),
                         'freq': rng.standard_normal((3, dh // 2)).astype(np.float32)},
        'StructuredAttention': {'q': rng.standard_normal((s, h, dh)).astype(np.float32),
                                'k': rng.standard_normal((s, h, dh)).astype(np.float32),
                                'v': rng.standard_normal((s, h, dh)).astype(np.float32),
                                'past_k': rng.standard_normal((t, h, dh)).astype(np.float32),
                                'past_v': rng.standard_normal((t, h, dh)).astype(np.float32),
                                'kidx': kidx, 'bias': bias},
        'SsmAttention': {'row': row, 'mask': mask, 'values': rng.standard_normal((6, 5)).astype(np.float32)},
    }
    sa = cases['StructuredAttention']
    cases['StructuredAttentionRows'] = {'q': sa['q'], 'k': sa['k'], 'v': sa['v'], 'rows_k': sa['past_k'][kidx],
                                        'rows_v': sa['past_v'][kidx], 'bias': bias}
    torch_refs = _torch_op_refs()
    numpy_refs = {'StructRotary': attnlib.ref_struct_rotary, 'StructuredAttention': attnlib.ref_structured_attention,
                  'StructuredAttentionRows': attnlib.ref_structured_attention_rows, 'SsmAttention': attnlib.ref_ssm_attention}
    for op, feeds in cases.items():
        path = os.path.join(out_dir, f'op{op}.onnx')
        onnx.save(attnlib.one_op_model(op), path)
        y = torch_refs[op](**feeds)
        report[f'{op}-numpy-vs-torch'] = float(np.abs(numpy_refs[op](**feeds) - y).max())
        tensorio.save(os.path.join(out_dir, f'op{op}.json'), {**{f'in.{a}': b for a, b in feeds.items()}, 'out.y': y})
        if check:
            got = tensorio.run_ort(path, feeds)['y']
            report[op] = float(np.abs(got - y).max())
    # tiny decode models
    tune = fixture_tune()
    vocab = tune['vocab']
    summary = vocab.index('<sum>')
    for variant, windows in (('a', [12, None]), ('b', [None, 9])):
        model = tiny_model(variant, len(vocab), summary)
        n = len(tune['ids'])
        chunks = [10] + [1] * (n - 10 - 6) + [6]
        fx = decode_fixture(model, tune, windows, chunks)
        mdir = os.path.join(out_dir, f'tiny-{variant}')
        card = export_model(model, mdir, f'fixture-tiny-{variant}', meta={'vocab': vocab, 'specials': {
            'pad': 0, 'bos': 1, 'eos': 2, 'bar': 3, 'summary': summary}, 'grid': 12, 'format': 1,
            'createdBy': 'models/train/synth.py'}, created='fixture')
        flat = {}
        for i, st in enumerate(fx['steps']):
            for a, b in st['feeds'].items():
                flat[f'step{i}.{a}'] = b
            flat[f'step{i}.expected_logits'] = st['expected_logits'].astype(np.float32)
        tensorio.save(os.path.join(mdir, 'steps.json'), flat)
        with open(os.path.join(mdir, 'meta.json'), 'w') as f:
            json.dump({'steps': len(fx['steps']), 'tokens': n, 'windows': windows, 'offsets': model.cfg.offsets,
                       'layers': len(model.cfg.layers), 'heads': model.cfg.n_heads, 'headDim': model.cfg.head_dim}, f)
        if check:
            report[f'decode-{variant}'] = _check_decode(os.path.join(mdir, 'model.onnx'), fx, card)
    return report


def _torch_op_refs():
    """PyTorch twins of the refrain.attn functions (the same formulas the model trains with)."""
    from model import apply_rotary
    from plan import sparsemax_torch

    def rot(x, coords, freq):
        ang = torch.from_numpy(coords) @ torch.from_numpy(freq)
        xt = torch.from_numpy(x).permute(1, 0, 2)[None]  # [1, H, S, Dh]
        return apply_rotary(xt, ang[None])[0].permute(1, 0, 2).numpy()

    def att(q, k, v, past_k, past_v, kidx, bias):
        kk = torch.cat([torch.from_numpy(past_k)[torch.from_numpy(kidx.astype(np.int64))], torch.from_numpy(k)]).transpose(0, 1)
        vv = torch.cat([torch.from_numpy(past_v)[torch.from_numpy(kidx.astype(np.int64))], torch.from_numpy(v)]).transpose(0, 1)
        qt = torch.from_numpy(q).transpose(0, 1) * (1.0 / math.sqrt(q.shape[-1]))
        p = torch.softmax(qt @ kk.transpose(1, 2) + torch.from_numpy(bias), dim=-1)
        return (p @ vv).transpose(0, 1).numpy()

    def ssm(row, mask, values):
        return (sparsemax_torch(torch.from_numpy(row), torch.from_numpy(mask)) @ torch.from_numpy(values)).numpy()

    def att_rows(q, k, v, rows_k, rows_v, bias):
        return att(q, k, v, rows_k, rows_v, np.arange(rows_k.shape[0], dtype=np.int32), bias)

    return {'StructRotary': rot, 'StructuredAttention': att, 'StructuredAttentionRows': att_rows, 'SsmAttention': ssm}


def _check_decode(onnx_path: str, fx: Dict, card: Dict) -> float:
    """Runs the decode steps through onnxruntime-node with a runner-held KV cache (new rows written at tpos; fed
    whole each step, or the plan's rows gathered for a 'rows-1' graph: the way the engine does it) and returns the
    max |logits - expected|."""
    import tensorio
    sing = [i for i, lay in enumerate(card['plan']['layers']) if lay.get('sing')]
    dec = {'layers': card['model']['layers'], 'capacity': fx['n'] + 3, 'heads': card['model']['heads'],
           'headDim': card['model']['headDim'], 'singLayer': sing[0] if sing else -1}
    outs = tensorio.run_ort(onnx_path, [st['feeds'] for st in fx['steps']], steps=True, kv=dec)
    return max(float(np.abs(o['logits'] - st['expected_logits']).max()) for o, st in zip(outs, fx['steps']))


def reexport_model_dir(model_dir: str, graph: str = GRAPH_ROWS, weights: Optional[str] = None) -> Dict:
    """Rewrites a shipped model folder's model.onnx in the given graph layout from its own weights (read back by
    warmstart.load_model_dir; no checkpoint needed). The card keeps every field (training record, title, evaluation,
    ...) but its `onnx` section, which describes the new file. Returns the card."""
    import warmstart
    with open(os.path.join(model_dir, 'card.json')) as f:
        card = json.load(f)
    model, _ = warmstart.load_model_dir(model_dir, card['config'])
    model.eval()
    weights = weights or card['onnx'].get('weights', WEIGHTS_FLOAT32)
    path = os.path.join(model_dir, card['onnx']['file'])
    onnx.save(build_decode_model(model, graph, weights), path)
    card['onnx'] = onnx_record(path, graph, weights)
    card['io'] = io_spec(model.cfg, graph)
    with open(os.path.join(model_dir, 'card.json'), 'w') as f:
        f.write(json.dumps(card, indent=1) + '\n')
    return card


def main() -> None:
    torch.set_num_threads(2)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('ckpt', nargs='?')
    ap.add_argument('out_dir', nargs='?')
    ap.add_argument('--id', default=None)
    ap.add_argument('--fixtures', default=None, help='write parity fixtures to this folder instead')
    ap.add_argument('--no-check', action='store_true', help='with --fixtures: skip the onnxruntime-node check')
    ap.add_argument('--reexport', nargs='+', metavar='MODEL_DIR',
                    help='rewrite these shipped model folders\' model.onnx in the current graph layout (weights from the file)')
    ap.add_argument('--weights', choices=[WEIGHTS_FLOAT32, WEIGHTS_INT8], default=None,
                    help='weight storage of the written model (default: float32 for a new export, the card\'s for --reexport)')
    args = ap.parse_args()
    if args.reexport:
        for d in args.reexport:
            card = reexport_model_dir(d, weights=args.weights)
            print(json.dumps({'dir': d, 'onnx': card['onnx']}, indent=1))
        return
    if args.fixtures:
        rep = write_fixtures(args.fixtures, check=not args.no_check)
        print(json.dumps({'maxAbsDiff': rep}, indent=1))
        bad = {k: v for k, v in rep.items() if not v < 1e-4}
        if bad:
            sys.exit(f'parity above 1e-4: {bad}')
        return
    if not (args.ckpt and args.out_dir):
        ap.error('give CKPT and OUT_DIR, or --fixtures DIR')
    model, ck = load_checkpoint(args.ckpt)
    meta = ck.get('shard_meta')
    card = export_model(model, args.out_dir, args.id or os.path.basename(os.path.normpath(args.out_dir)), meta,
                        ck.get('training'))
    print(json.dumps({'onnx': card['onnx'], 'parameters': card['model']['parameters']}, indent=1))


if __name__ == '__main__':
    main()
