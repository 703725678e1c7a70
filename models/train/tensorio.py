"""Tensors as JSON: {name: {"type": "float32"|"int32"|"int64", "dims": [...], "b64": "..."}}.

The little-endian raw bytes are base64-encoded; the TypeScript parity test and
ort_run.cjs read the same format."""

from __future__ import annotations

import base64
import json
from typing import Dict

import numpy as np

_TYPES = {'float32': np.float32, 'int32': np.int32, 'int64': np.int64}


def encode(arrs: Dict[str, np.ndarray]) -> Dict:
    out = {}
    for k, a in arrs.items():
        a = np.asarray(a)
        t = str(a.dtype)
        if t not in _TYPES:
            raise TypeError(f'{k}: dtype {t} not supported')
        out[k] = {'type': t, 'dims': list(a.shape), 'b64': base64.b64encode(np.ascontiguousarray(a).astype(a.dtype.newbyteorder('<')).tobytes()).decode()}
    return out


def decode(obj: Dict) -> Dict[str, np.ndarray]:
    out = {}
    for k, v in obj.items():
        dt = np.dtype(_TYPES[v['type']]).newbyteorder('<')
        out[k] = np.frombuffer(base64.b64decode(v['b64']), dtype=dt).astype(_TYPES[v['type']]).reshape(v['dims'])
    return out


def save(path: str, arrs: Dict[str, np.ndarray]) -> None:
    with open(path, 'w') as f:
        json.dump(encode(arrs), f)


def load(path: str) -> Dict[str, np.ndarray]:
    with open(path) as f:
        return decode(json.load(f))


def run_ort(model_path: str, feeds, steps: bool = False, kv=None):
    """Runs an ONNX model with onnxruntime-node (through ort_run.cjs) and returns its outputs
    (a dict, or a list of dicts when `steps` is True and feeds is a list of feed dicts).
    kv={layers, capacity, heads, headDim}: the steps are decode steps whose KV cache
    the runner keeps (past_k_l/past_v_l are not in the feeds)."""
    import os
    import shutil
    import subprocess
    import tempfile
    here = os.path.dirname(os.path.abspath(__file__))
    ort_path = os.path.abspath(os.path.join(here, '..', '..', 'node_modules', 'onnxruntime-node'))
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, 'ort_run.cjs')
        shutil.copy(os.path.join(here, 'ort_run.cjs'), script)
        inp, out = os.path.join(tmp, 'in.json'), os.path.join(tmp, 'out.json')
        with open(inp, 'w') as f:
            obj = {'steps': [encode(x) for x in feeds]} if steps else encode(feeds)
            if kv is not None:
                obj['decode'] = kv
            json.dump(obj, f)
        env = dict(os.environ, REFRAIN_ORT_PATH=ort_path, ORT_DISABLE_TELEMETRY='1')
        r = subprocess.run(['node', script, os.path.abspath(model_path), inp, out], capture_output=True, text=True, env=env)
        if r.returncode != 0:
            raise RuntimeError(f'onnxruntime-node failed:\n{r.stderr[-3000:]}')
        with open(out) as f:
            res = json.load(f)
    return [decode(x) for x in res['steps']] if steps else decode(res)
