"""Self-checks of the training/export code (needs node + onnxruntime-node for the ONNX parts).

Usage:
    /usr/bin/python3 models/train/selftest.py                      # tiny models, all PEs
    /usr/bin/python3 models/train/selftest.py --config models/train/configs/folk-rope.json
    /usr/bin/python3 models/train/selftest.py --ckpt .cache/ckpt/smoke/last.pt

For each model: exports the decode graph, decodes a synthetic tune step by step through
onnxruntime-node with a caller-held KV cache, and compares the logits with the PyTorch
full-sequence forward (the training path) under random plan choices (related-offset subset,
per-layer windows). Also checks that the training masks equal the decode plan rows, and
that sparsemax matches its definition.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile

import numpy as np
import torch

from export import _check_decode, decode_fixture, export_model, load_checkpoint
from model import LayerSpec, ModelConfig, RefrainLM
from plan import allowed_mask, allowed_rows_np, sparsemax_np
from structure import source_bars
from synth import bar_ssm, build_vocab, encode, make_tune


def synthetic_tune(seed: int, max_tokens: int):
    vocab, specials = build_vocab()
    tok = {t: i for i, t in enumerate(vocab)}
    rng = np.random.default_rng(seed)
    header, _, bars = make_tune(rng)
    ids, bar, pos = encode(header, bars, tok)
    n = min(len(ids), max_tokens)
    return {'ids': np.array(ids[:n]), 'bar': np.array(bar[:n]), 'pos': np.array(pos[:n]), 'ssm': bar_ssm(bars),
            'vocab': vocab, 'summary': specials['summary']}


def check_masks(seed: int) -> None:
    """Training masks (torch) == decode plan rows (numpy) for random plans."""
    tune = synthetic_tune(seed, 400)
    n = len(tune['ids'])
    bar = torch.tensor(tune['bar'])[None]
    tpos = torch.arange(n)[None]
    is_sum = torch.tensor(tune['ids'] == tune['summary'])[None]
    rng = random.Random(seed)
    for plan in ('fc', 'dense'):
        offs = sorted(rng.sample([1, 2, 3, 4, 8, 12, 16], 3))
        win = rng.choice([None, 17, 64])
        table = torch.zeros(1, 18, dtype=torch.bool)
        table[0, offs] = True
        m = allowed_mask(bar, tpos, torch.ones_like(bar), is_sum, plan, table, win)[0].numpy()
        rows = allowed_rows_np(tune['bar'], np.arange(n), tune['ids'] == tune['summary'], list(range(n)), plan, offs, win)
        assert (m == rows).all(), f'mask mismatch for plan {plan} offsets {offs} window {win}'
        # with structure-related bars (the template's same-source bars seen in full)
        src = source_bars(tune['ssm'])
        hdr = tune['bar'] == 65535
        sb = np.where(hdr, 65535, src[np.minimum(np.where(hdr, 0, tune['bar']), len(src) - 1)])
        m2 = allowed_mask(bar, tpos, torch.ones_like(bar), is_sum, plan, table, win, torch.tensor(sb)[None])[0].numpy()
        rows2 = allowed_rows_np(tune['bar'], np.arange(n), tune['ids'] == tune['summary'], list(range(n)), plan, offs, win, sb)
        assert (m2 == rows2).all(), f'structure mask mismatch for plan {plan} offsets {offs} window {win}'
        assert (m2 >= m).all(), 'same-source bars removed keys'


def check_sparsemax() -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        m = int(rng.integers(1, 9))
        z = rng.standard_normal((1, m)).astype(np.float32) * 2
        mask = (rng.random((1, m)) < 0.7).astype(np.float32)
        p = sparsemax_np(z, mask)[0]
        if mask.sum() == 0:
            assert np.all(p == 0)
            continue
        assert abs(p.sum() - 1) < 1e-5 and np.all(p >= 0) and np.all(p[mask[0] == 0] == 0)
        # sparsemax is the Euclidean projection onto the simplex: tau solves sum(max(z - tau, 0)) = 1
        zz = z[0][mask[0] == 1]
        tau = np.sort(zz)[::-1]
        ok = [(1 + k * tau[k - 1]) > tau[:k].sum() for k in range(1, len(zz) + 1)]
        k = max(i + 1 for i, v in enumerate(ok) if v)
        t = (tau[:k].sum() - 1) / k
        assert np.allclose(p[mask[0] == 1], np.maximum(zz - t, 0), atol=1e-5)


def shard_tune(shard_dir: str, index: int, max_tokens: int):
    """Piece `index` of a shard directory's valid split (first max_tokens tokens)."""
    from data import ShardSplit
    sp = ShardSplit(shard_dir, 'valid')
    ids, bar, pos, ssm = sp.piece(index % len(sp))
    n = min(len(ids), max_tokens)
    return {'ids': ids[:n], 'bar': bar[:n], 'pos': pos[:n], 'ssm': ssm, 'vocab': sp.meta['vocab'],
            'summary': sp.specials['summary']}


def check_model(model: RefrainLM, name: str, seed: int, max_tokens: int, shard_dir: str = None) -> float:
    """Exports and decodes one tune (synthetic, or a valid piece of shard_dir); returns the
    max |logits diff|."""
    cfg = model.cfg
    tune = shard_tune(shard_dir, seed, max_tokens) if shard_dir else synthetic_tune(seed, max_tokens)
    if tune['ids'].max() >= cfg.vocab_size:
        raise SystemExit(f'{name}: vocabulary too small for the synthetic tune ({cfg.vocab_size})')
    rng = random.Random(seed)
    windows = [rng.choice(s.windows) for s in cfg.layers]
    offsets = sorted(rng.sample(cfg.offsets, max(1, len(cfg.offsets) // 2)))
    saved = cfg.offsets
    cfg.offsets = offsets  # the plan under test: a random subset of the trained offsets
    n = len(tune['ids'])
    first = min(n - 1, rng.randint(3, 40))
    chunks = [first]
    while sum(chunks) < n:
        chunks.append(min(n - sum(chunks), rng.choice([1, 1, 1, 2, 5])))
    try:
        fx = decode_fixture(model, tune, windows, chunks)
        with tempfile.TemporaryDirectory() as tmp:
            card = export_model(model, tmp, name)
            diff = _check_decode(os.path.join(tmp, 'model.onnx'), fx, card)
    finally:
        cfg.offsets = saved
    print(json.dumps({'model': name, 'pe': cfg.pe, 'tune': 'shards' if shard_dir else 'synthetic', 'tokens': n, 'steps': len(chunks), 'windows': windows,
                      'offsets': offsets, 'maxAbsDiff': diff}), flush=True)
    return diff


def main() -> None:
    torch.set_num_threads(2)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--config', help='a training config: check a randomly initialised model of that shape')
    ap.add_argument('--ckpt', help='check a trained checkpoint')
    ap.add_argument('--tokens', type=int, default=120, help='tokens of the synthetic tune to decode')
    ap.add_argument('--seed', type=int, default=5)
    ap.add_argument('--shards', help='with --ckpt: decode a valid piece of this shard dir (default: the checkpoint\'s, if present)')
    args = ap.parse_args()
    check_sparsemax()
    for s in range(4):
        check_masks(s)
    print('masks and sparsemax: ok', flush=True)
    vocab, specials = build_vocab()
    worst = 0.0
    if args.ckpt:
        model, ck = load_checkpoint(args.ckpt)
        shards = args.shards or (ck.get('training') or {}).get('shardDir')
        if shards and not os.path.exists(os.path.join(shards, 'meta.json')):
            shards = None
        worst = check_model(model, os.path.basename(args.ckpt), args.seed, args.tokens, shards)
    elif args.config:
        with open(args.config) as f:
            mc = dict(json.load(f)['model'])
        mc.update(vocab_size=len(vocab), summary_id=specials['summary'])
        torch.manual_seed(args.seed)
        model = RefrainLM(ModelConfig.from_dict(mc)).eval()
        worst = check_model(model, os.path.basename(args.config), args.seed, args.tokens)
    else:
        for i, pe in enumerate(('rope', 'srope', 'ropepool', 'fstripe', 'none', 'tsrope')):
            torch.manual_seed(i)
            layers = [LayerSpec('fc', [None, 16]), LayerSpec('dense', [None, 24]), LayerSpec('fc', [None], sing=(i % 2 == 0))]
            cfg = ModelConfig(vocab_size=len(vocab), d=48, n_heads=3, ffn=96, layers=layers, pe=pe,
                              offsets=[1, 2, 4, 8], summary_id=specials['summary'],
                              struct_related=pe == 'tsrope', end_embed=pe in ('tsrope', 'srope'))
            model = RefrainLM(cfg).eval()
            with torch.no_grad():
                for p in model.parameters():
                    if p.dim() >= 2:
                        p.normal_(0.0, 0.2)
            worst = max(worst, check_model(model, f'tiny-{pe}', args.seed + i, args.tokens))
    if not worst < 1e-4:
        sys.exit(f'FAIL: max abs diff {worst}')
    print(f'ok: max abs diff {worst:.3g}')


if __name__ == '__main__':
    main()
