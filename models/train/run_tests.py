"""The training pipeline's tests, run by `npm test` (through scripts/test-python.sh).

1. selftest: every PE variant exported and decoded step by step through onnxruntime-node with a
   caller-held KV cache, against the PyTorch training forward (max abs diff < 1e-4).
2. smoke: the smoke config trains from scratch on synthetic shards, its loss falls, it exports,
   and the exported model.onnx + card.json are complete.
3. fixtures: the parity fixtures committed in test/fixtures/onnx regenerate identically: the ONNX
   files and every non-float value byte for byte, the float tensors (the PyTorch forward's
   expected outputs, whose last bits follow the CPU's kernels) within FIXTURE_FLOAT_TOL (so the
   TypeScript parity test checks what this code exports today).
4. int8: a tiny model exported with int8 weights decodes step by step close to its float32 export
   (and the comparison can fail), its card records the storage, and warm start reads the weights back.

Prints one line per test and `N passed, N failed`; exits non-zero on any failure.
"""

from __future__ import annotations

import filecmp
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..'))
PY = sys.executable


def run(args, **kw):
    return subprocess.run([PY, *args], cwd=HERE, capture_output=True, text=True, **kw)


def test_selftest() -> str:
    r = run(['selftest.py'], timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    last = r.stdout.strip().splitlines()[-1]
    assert last.startswith('ok'), last
    return last


def test_smoke_train_and_export() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, 'model')
        r = run(['train.py', 'configs/smoke.json', '--fresh', '--ckpt-dir', os.path.join(tmp, 'ckpt'), '--export', out],
                timeout=600)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
        recs = [json.loads(l) for l in r.stdout.splitlines() if l.startswith('{')]
        losses = [x['loss'] for x in recs if 'loss' in x]
        assert len(losses) >= 2 and losses[-1] < losses[0] * 0.9, f'loss did not fall: {losses}'
        card = json.load(open(os.path.join(out, 'card.json')))
        onnx_path = os.path.join(out, card['onnx']['file'])
        assert os.path.getsize(onnx_path) == card['onnx']['bytes']
        names = [i['name'] for i in card['io']['inputs']]
        for required in ('tokens', 'bar', 'pos', 'tpos', 'rows_k_0', 'rows_v_0', 'bias_0'):
            assert required in names, f'{required} missing from card inputs {names}'
        return f'loss {losses[0]:.3f} -> {losses[-1]:.3f}, {card["onnx"]["bytes"]} bytes'


#: Float tensors in a regenerated fixture may differ from the committed ones by this much: PyTorch's
#: CPU kernels (AVX2 or AVX-512, thread count) round differently from machine to machine (~3e-6
#: seen), while a change to the export or the model moves them by orders of magnitude more.
FIXTURE_FLOAT_TOL = 1e-4


def _json_same(a, b, path: str = '') -> str:
    """'' when the two parsed fixture JSON values match (float32 tensors within FIXTURE_FLOAT_TOL), else where not."""
    import base64
    import numpy as np
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return f'{path}: keys {sorted(a)} vs {sorted(b)}'
        if a.get('type') == 'float32' and isinstance(a.get('b64'), str) and isinstance(b.get('b64'), str):
            if a.get('dims') != b.get('dims'):
                return f'{path}: dims {a.get("dims")} vs {b.get("dims")}'
            x = np.frombuffer(base64.b64decode(a['b64']), np.float32)
            y = np.frombuffer(base64.b64decode(b['b64']), np.float32)
            d = float(np.abs(x - y).max()) if x.size else 0.0
            return '' if x.shape == y.shape and d <= FIXTURE_FLOAT_TOL else f'{path}: float32 tensor {d:.3g} apart'
        for k in a:
            why = _json_same(a[k], b[k], f'{path}/{k}')
            if why:
                return why
        return ''
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f'{path}: {len(a)} vs {len(b)} entries'
        for i, (x, y) in enumerate(zip(a, b)):
            why = _json_same(x, y, f'{path}[{i}]')
            if why:
                return why
        return ''
    return '' if a == b else f'{path}: {a!r:.60} vs {b!r:.60}'


def test_fixtures_are_current() -> str:
    committed = os.path.join(REPO, 'test', 'fixtures', 'onnx')
    with tempfile.TemporaryDirectory() as tmp:
        r = run(['export.py', '--fixtures', tmp], timeout=600)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
        diffs, rounded = [], []
        for root, _dirs, files in os.walk(tmp):
            for f in files:
                rel = os.path.relpath(os.path.join(root, f), tmp)
                if rel.endswith('card.json'):
                    continue  # holds the export date
                theirs = os.path.join(committed, rel)
                mine = os.path.join(root, f)
                if not os.path.exists(theirs):
                    diffs.append(f'{rel}: not committed')
                elif filecmp.cmp(mine, theirs, shallow=False):
                    continue
                elif rel.endswith('.json'):
                    why = _json_same(json.load(open(mine)), json.load(open(theirs)))
                    if why:
                        diffs.append(f'{rel}{why}')
                    else:
                        rounded.append(rel)
                else:
                    diffs.append(rel)
        assert not diffs, f'regenerate with `python3 models/train/export.py --fixtures test/fixtures/onnx`: {diffs}'
        return 'identical' + (f' (float tensors within {FIXTURE_FLOAT_TOL:g} in {", ".join(sorted(rounded))})' if rounded else '')


def test_int8_weights() -> str:
    sys.path.insert(0, HERE)
    import numpy as np
    import torch
    import warmstart
    from export import WEIGHTS_INT8, _check_decode, decode_fixture, export_model, fixture_tune, tiny_model
    tune = fixture_tune()
    vocab = tune['vocab']
    # A tiny model with layers wide enough to be quantized (d=128: 128 x 384 qkv, 128 x 256 ffn).
    from model import ModelConfig, RefrainLM
    base = tiny_model('a', len(vocab), vocab.index('<sum>')).cfg
    cfg = ModelConfig.from_dict({**base.to_dict(), 'd': 128, 'n_heads': 2, 'ffn': 512})
    torch.manual_seed(3)
    model = RefrainLM(cfg)
    model.eval()
    n = len(tune['ids'])
    fx = decode_fixture(model, tune, [12, None], [10] + [1] * (n - 10))
    with tempfile.TemporaryDirectory() as tmp:
        meta = {'vocab': vocab, 'specials': {'pad': 0, 'bos': 1, 'eos': 2, 'bar': 3, 'summary': vocab.index('<sum>')}}
        card = export_model(model, os.path.join(tmp, 'q'), 'q', meta=meta, weights=WEIGHTS_INT8, created='test')
        assert card['onnx']['weights'] == 'int8', card['onnx']
        diff = _check_decode(os.path.join(tmp, 'q', 'model.onnx'), fx, card)
        assert diff < 0.05, f'int8 logits {diff} from the float32 forward'
        with open(os.path.join(tmp, 'q', 'card.json')) as f:
            card['config'] = json.load(f)['config']
        back, _ = warmstart.load_model_dir(os.path.join(tmp, 'q'), card['config'])
        worst = max(float((a - b).abs().max() / (b.abs().max() + 1e-9)) for a, b in zip(back.parameters(), model.parameters()))
        assert worst < 0.01, f'warm start read the int8 weights back {worst:.4f} (relative) away'
        # The comparison can fail: the same int8 graph against the forward of other weights.
        with torch.no_grad():
            for p in model.parameters():
                p.mul_(1.1)
        bad = decode_fixture(model, tune, [12, None], [10] + [1] * (n - 10))
        off = _check_decode(os.path.join(tmp, 'q', 'model.onnx'), bad, card)
        assert off > 10 * diff, f'other weights should change the logits: {off} vs {diff}'
    return f'max abs logit diff {diff:.2e} (float32 forward), weights back within {worst:.2e}'


def main() -> int:
    tests = [test_selftest, test_smoke_train_and_export, test_fixtures_are_current, test_int8_weights]
    passed = failed = 0
    for t in tests:
        t0 = time.time()
        try:
            detail = t()
            passed += 1
            print(f'ok {t.__name__} ({time.time() - t0:.1f} s): {detail}', flush=True)
        except Exception as e:  # noqa: BLE001 - report every failure, keep going
            failed += 1
            print(f'FAIL {t.__name__} ({time.time() - t0:.1f} s): {e}', flush=True)
    print(f'{passed} passed, {failed} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
