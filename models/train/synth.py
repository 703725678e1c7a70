"""Writes small SYNTHETIC token shards in the format of docs/shard-format.md.

The tunes are random little melodies built from phrases that repeat whole bars at
structural offsets (1, 2, 4, 8 bars), so the bar-level SSM has the block and diagonal
patterns the structure-aware models are meant to exploit. No corpus data is read.

Usage:
    /usr/bin/python3 models/train/synth.py OUT_DIR [--pieces 400] [--seed 7]

The vocabulary is this script's own (the real one comes from src/tokens/); the trainer
reads vocab and special ids from meta.json, so both work the same way.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Dict, List, Tuple

import numpy as np

HEADER_BAR = 65535
NO_POS = 255
GRID = 12  # positions per quarter note

METERS = {'M:4/4': 4 * GRID, 'M:3/4': 3 * GRID, 'M:6/8': 3 * GRID}
KEYS = ['K:C', 'K:G', 'K:D', 'K:F', 'K:Am', 'K:Em']
KEY_TONIC = {'K:C': 60, 'K:G': 67, 'K:D': 62, 'K:F': 65, 'K:Am': 57, 'K:Em': 64}
MAJOR = [0, 2, 4, 5, 7, 9, 11]
MINOR = [0, 2, 3, 5, 7, 8, 10]
PITCH_LO, PITCH_HI = 50, 88
DURS = [3, 6, 9, 12, 18, 24, 36, 48]


def build_vocab() -> Tuple[List[str], Dict[str, int]]:
    """Returns the synthetic vocabulary (token strings in id order) and the special ids."""
    vocab = ['<pad>', '<bos>', '<eos>', '<bar>', '<sum>']
    vocab += list(METERS) + KEYS
    vocab += [f'pos:{p}' for p in range(4 * GRID)]
    vocab += [f'pitch:{p}' for p in range(PITCH_LO, PITCH_HI + 1)]
    vocab += [f'dur:{d}' for d in DURS]
    specials = {'pad': 0, 'bos': 1, 'eos': 2, 'bar': 3, 'summary': 4}
    return vocab, specials


def _rhythm(rng: np.random.Generator, bar_len: int) -> List[Tuple[int, int]]:
    """A random rhythm filling one bar: list of (onset, duration) in grid steps."""
    out: List[Tuple[int, int]] = []
    t = 0
    while t < bar_len:
        choices = [d for d in (6, 12, 12, 6, 18, 24, 3) if t + d <= bar_len]
        d = int(rng.choice(choices)) if choices else bar_len - t
        if d not in DURS:
            d = max(x for x in DURS if x <= bar_len - t)
        out.append((t, d))
        t += d
    return out


def _bar(rng: np.random.Generator, bar_len: int, scale: List[int], start: int) -> List[Tuple[int, int, int]]:
    """A random bar: list of (onset, pitch, duration), a scale-wise random walk."""
    notes = []
    degree = start
    for onset, dur in _rhythm(rng, bar_len):
        degree += int(rng.choice([-2, -1, -1, 0, 1, 1, 2]))
        degree = max(0, min(len(scale) * 3 - 1, degree))
        octave, step = divmod(degree, len(scale))
        pitch = scale[step] + 12 * octave
        notes.append((onset, max(PITCH_LO, min(PITCH_HI, pitch)), dur))
    return notes


def _vary(rng: np.random.Generator, bar: List[Tuple[int, int, int]]) -> List[Tuple[int, int, int]]:
    """A light variation: one note moved by a scale-ish step."""
    out = list(bar)
    i = int(rng.integers(len(out)))
    onset, pitch, dur = out[i]
    out[i] = (onset, max(PITCH_LO, min(PITCH_HI, pitch + int(rng.choice([-2, 2, -1, 1])))), dur)
    return out


def make_tune(rng: np.random.Generator) -> Tuple[List[str], List[int], List[List[Tuple[int, int, int]]]]:
    """One random tune: header token strings and a list of bars of notes."""
    meter = str(rng.choice(list(METERS)))
    key = str(rng.choice(KEYS))
    bar_len = METERS[meter]
    tonic = KEY_TONIC[key] - 12
    mode = MINOR if key.endswith('m') else MAJOR
    scale = [tonic + s for s in mode]
    phrase_len = 4
    n_phrase_kinds = int(rng.integers(2, 4))
    kinds = [[_bar(rng, bar_len, scale, int(rng.integers(5, 12))) for _ in range(phrase_len)] for _ in range(n_phrase_kinds)]
    forms = ['AABB', 'ABAB', 'AABA', 'ABAC', 'AABBAABB', 'ABCA']
    form = str(rng.choice(forms))
    bars: List[List[Tuple[int, int, int]]] = []
    for letter in form:
        k = min(ord(letter) - ord('A'), n_phrase_kinds - 1)
        for b in kinds[k]:
            bars.append(_vary(rng, b) if rng.random() < 0.2 else b)
    return [meter, key], [bar_len], bars


def bar_ssm(bars: List[List[Tuple[int, int, int]]]) -> np.ndarray:
    """Museformer eq. 4: Jaccard similarity of the bars' note sets (onset, pitch, duration)."""
    sets = [set(b) for b in bars]
    n = len(sets)
    m = np.zeros((n, n), dtype=np.float32)
    for i in range(n):
        for j in range(n):
            u = len(sets[i] | sets[j])
            m[i, j] = 1.0 if u == 0 else len(sets[i] & sets[j]) / u
    return m


def encode(header: List[str], bars: List[List[Tuple[int, int, int]]], tok: Dict[str, int]) -> Tuple[List[int], List[int], List[int]]:
    """Token ids, bar index and position per token for one tune (format of shard-format.md)."""
    ids, bar_idx, pos = [tok['<bos>']], [HEADER_BAR], [NO_POS]
    for h in header:
        ids.append(tok[h]); bar_idx.append(HEADER_BAR); pos.append(NO_POS)
    for b, notes in enumerate(bars):
        ids.append(tok['<bar>']); bar_idx.append(b); pos.append(NO_POS)
        for onset, pitch, dur in notes:
            for t in (f'pos:{onset}', f'pitch:{pitch}', f'dur:{dur}'):
                ids.append(tok[t]); bar_idx.append(b); pos.append(onset)
        ids.append(tok['<sum>']); bar_idx.append(b); pos.append(NO_POS)
    ids.append(tok['<eos>']); bar_idx.append(len(bars) - 1); pos.append(NO_POS)
    return ids, bar_idx, pos


def write_shards(out_dir: str, n_pieces: int = 400, seed: int = 7) -> Dict:
    """Writes train/valid/test shards of `n_pieces` random tunes; returns the meta dict."""
    os.makedirs(out_dir, exist_ok=True)
    vocab, specials = build_vocab()
    tok = {t: i for i, t in enumerate(vocab)}
    rng = np.random.default_rng(seed)
    order = rng.permutation(n_pieces)
    n_valid = max(1, n_pieces // 10)
    split_of = {}
    for rank, p in enumerate(order):
        split_of[int(p)] = 'valid' if rank < n_valid else ('test' if rank < 2 * n_valid else 'train')
    acc = {s: {'ids': [], 'bar': [], 'pos': [], 'ssm': [], 'pieces': [], 'tok': 0, 'ssm_n': 0} for s in ('train', 'valid', 'test')}
    for p in range(n_pieces):
        header, _, bars = make_tune(rng)
        ids, bar_idx, pos = encode(header, bars, tok)
        ssm = bar_ssm(bars)
        a = acc[split_of[p]]
        a['pieces'].append({'source': f'synthetic#{p}', 'tokenOffset': a['tok'], 'tokenCount': len(ids),
                            'bars': len(bars), 'ssmOffset': a['ssm_n']})
        a['ids'] += ids; a['bar'] += bar_idx; a['pos'] += pos; a['ssm'].append(ssm.ravel())
        a['tok'] += len(ids); a['ssm_n'] += ssm.size
    splits = {}
    for s, a in acc.items():
        np.asarray(a['ids'], dtype='<u2').tofile(os.path.join(out_dir, f'{s}.ids.u16'))
        np.asarray(a['bar'], dtype='<u2').tofile(os.path.join(out_dir, f'{s}.bar.u16'))
        np.asarray(a['pos'], dtype='u1').tofile(os.path.join(out_dir, f'{s}.pos.u8'))
        ssm = np.concatenate(a['ssm']) if a['ssm'] else np.zeros(0, np.float32)
        ssm.astype('<f4').tofile(os.path.join(out_dir, f'{s}.ssm.f32'))
        with open(os.path.join(out_dir, f'{s}.pieces.json'), 'w') as f:
            json.dump(a['pieces'], f)
        splits[s] = {'pieces': len(a['pieces']), 'tokens': a['tok']}
    meta = {'format': 1, 'vocab': vocab, 'specials': specials, 'grid': GRID, 'seed': seed,
            'sources': ['synthetic'], 'splits': splits, 'skipped': {}, 'createdBy': 'models/train/synth.py'}
    with open(os.path.join(out_dir, 'meta.json'), 'w') as f:
        json.dump(meta, f, indent=1)
    return meta


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('out_dir')
    ap.add_argument('--pieces', type=int, default=400)
    ap.add_argument('--seed', type=int, default=7)
    args = ap.parse_args()
    meta = write_shards(args.out_dir, args.pieces, args.seed)
    print(json.dumps(meta['splits']))


if __name__ == '__main__':
    main()
