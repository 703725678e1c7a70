"""Warm start from a shipped model folder (card.json + model.onnx): the exported weights back into a RefrainLM.

Checkpoints live in .cache and do not survive a fresh machine; the shipped ONNX does. The decode graph holds every
trained parameter as an initializer (some transposed, e.g. MatMul weights). The export is deterministic for a given
model config, so the mapping is recovered by exporting a probe model of the same config whose parameters hold
distinct marker values, then reading each initializer's markers back: which parameter it came from and how its
elements were laid out. The same layout is then undone on the shipped initializers.
"""

from __future__ import annotations

import json
import os
from typing import Dict, Tuple

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from model import ModelConfig, RefrainLM


def _probe_layout(cfg: ModelConfig, graph: str) -> Dict[str, Tuple[str, np.ndarray]]:
    """initializer name -> (parameter name, flat index map: init.flat[i] = param.flat[idx[i]]), for the decode graph
    layout `graph` (the card's `onnx.graph`)."""
    from export import build_decode_model

    probe = RefrainLM(cfg)
    names = {}
    base = 0
    with torch.no_grad():
        for name, p in probe.named_parameters():
            n = p.numel()
            # Markers are exact in float32 up to 2**24; offset each parameter into its own range.
            p.copy_(torch.arange(base, base + n, dtype=torch.float64).reshape(p.shape).float())
            names[name] = (base, n, tuple(p.shape))
            base += n
    if base >= 2 ** 24:
        raise ValueError(f'{base} parameters: too many for exact float32 markers')
    exported = build_decode_model(probe, graph).graph
    starts = sorted((b, name) for name, (b, _n, _s) in names.items())
    layout = {}
    for init in exported.initializer:
        arr = numpy_helper.to_array(init)
        if arr.dtype != np.float32 or arr.size == 0:
            continue
        flat = arr.reshape(-1).astype(np.float64)
        lo = flat.min()
        owner = None
        for b, name in starts:
            if b <= lo:
                owner = name
            else:
                break
        if owner is None:
            continue
        b, n, _shape = names[owner]
        idx = flat - b
        # A parameter's own markers, each exactly once: anything else (constants such as 0.5) is not a weight.
        if arr.size != n or not np.array_equal(np.sort(idx), np.arange(n)):
            continue
        layout[init.name] = (owner, idx.astype(np.int64))
    return layout


def load_model_dir(model_dir: str, cfg_dict: Dict) -> Tuple[RefrainLM, Dict]:
    """A RefrainLM with the weights of `model_dir`, whose card must have been trained with `cfg_dict` (the model
    section of the training config, vocab_size and summary_id filled in). Returns (model, card)."""
    with open(os.path.join(model_dir, 'card.json')) as f:
        card = json.load(f)
    cfg = ModelConfig.from_dict(cfg_dict)
    shipped = ModelConfig.from_dict(card['config'])
    if shipped.to_dict() != cfg.to_dict():
        raise ValueError(f'{model_dir} was trained with another model config; warm start needs the same one')
    from export import GRAPH_FUNCTIONS
    layout = _probe_layout(cfg, card['onnx'].get('graph', GRAPH_FUNCTIONS))
    model = RefrainLM(cfg)
    params = dict(model.named_parameters())
    onnx_model = onnx.load(os.path.join(model_dir, card['onnx']['file']))
    arrays = {init.name: numpy_helper.to_array(init) for init in onnx_model.graph.initializer}
    # int8 weights (export.quantize_int8): W = W_q * scale per output column, under W's own name.
    for name in [n[:-2] for n in arrays if n.endswith('_q') and n[:-2] + '_s' in arrays]:
        arrays[name] = arrays[name + '_q'].astype(np.float32) * arrays[name + '_s'][None, :]
    filled = set()
    with torch.no_grad():
        for name, full in arrays.items():
            if name not in layout:
                continue
            owner, idx = layout[name]
            arr = full.reshape(-1)
            flat = np.empty(arr.size, np.float32)
            flat[idx] = arr
            params[owner].copy_(torch.from_numpy(flat).reshape(params[owner].shape))
            filled.add(owner)
    missing = sorted(set(params) - filled)
    if missing:
        raise ValueError(f'{model_dir}: no initializer for {", ".join(missing)}')
    return model, card
