"""The training pipeline's tests, run by `npm test` (through scripts/test-python.sh).

1. selftest: every PE variant exported and decoded step by step through onnxruntime-node with a
   caller-held KV cache, against the PyTorch training forward (max abs diff < 1e-4).
2. smoke: the smoke config trains from scratch on synthetic shards, its loss falls, it exports,
   and the exported model.onnx + card.json are complete.
3. fixtures: the parity fixtures committed in test/fixtures/onnx regenerate byte-identically
   (so the TypeScript parity test checks what this code exports today).

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


def test_fixtures_are_current() -> str:
    committed = os.path.join(REPO, 'test', 'fixtures', 'onnx')
    with tempfile.TemporaryDirectory() as tmp:
        r = run(['export.py', '--fixtures', tmp], timeout=600)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
        diffs = []
        for root, _dirs, files in os.walk(tmp):
            for f in files:
                rel = os.path.relpath(os.path.join(root, f), tmp)
                if rel.endswith('card.json'):
                    continue  # holds the export date
                theirs = os.path.join(committed, rel)
                if not os.path.exists(theirs) or not filecmp.cmp(os.path.join(root, f), theirs, shallow=False):
                    diffs.append(rel)
        assert not diffs, f'regenerate with `python3 models/train/export.py --fixtures test/fixtures/onnx`: {diffs}'
        return 'identical'


def main() -> int:
    tests = [test_selftest, test_smoke_train_and_export, test_fixtures_are_current]
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
