"""Reads token shards (docs/shard-format.md) and yields packed training windows.

A window is one piece's tokens, or for a piece longer than the window a contiguous run of
its bars with the piece's header tokens put in front (header tokens are visible to every
bar, so the model always has them, as at generation). Windows never cross pieces; several
short windows are packed into one row of `max_len` tokens, each with its own segment id,
and the attention plan never lets a segment see another.

Training windows follow PerceiverS' effective segmentation: a long piece contributes its
opening window plus windows ending at random points, so the starts of pieces are learned
with the same context they have at generation.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Tuple

import numpy as np
import torch

from plan import HEADER_BAR, sing_weights_piece
from structure import END_UNKNOWN, NO_SOURCE, source_bars, to_end, transpose_tables

IGNORE = -100


def _read(path: str, dtype: str) -> np.ndarray:
    """Memory-maps a little-endian binary file (an empty file gives an empty array)."""
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return np.zeros(0, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode='r')


class ShardSplit:
    """One split (`train`, `valid`, `test`) of a shard directory."""

    def __init__(self, shard_dir: str, split: str) -> None:
        with open(os.path.join(shard_dir, 'meta.json')) as f:
            self.meta = json.load(f)
        if self.meta.get('format') != 1:
            raise ValueError(f'{shard_dir}: unsupported shard format {self.meta.get("format")!r}')
        self.dir = shard_dir
        self.split = split
        self.ids = _read(os.path.join(shard_dir, f'{split}.ids.u16'), '<u2')
        self.bar = _read(os.path.join(shard_dir, f'{split}.bar.u16'), '<u2')
        self.pos = _read(os.path.join(shard_dir, f'{split}.pos.u8'), 'u1')
        self.ssm = _read(os.path.join(shard_dir, f'{split}.ssm.f32'), '<f4')
        with open(os.path.join(shard_dir, f'{split}.pieces.json')) as f:
            self.pieces: List[Dict] = json.load(f)
        if not (len(self.ids) == len(self.bar) == len(self.pos)):
            raise ValueError(f'{shard_dir}/{split}: ids, bar and pos lengths differ')
        self.specials: Dict[str, int] = self.meta['specials']
        self.vocab_size = len(self.meta['vocab'])
        self._sources: Dict[int, np.ndarray] = {}

    def transpose_tables(self, shifts: List[int]) -> Dict[int, np.ndarray]:
        key = tuple(shifts)
        if getattr(self, '_tt_key', None) != key:
            self._tt = transpose_tables(self.meta['vocab'], list(shifts))
            self._tt_key = key
        return self._tt

    def sources(self, i: int) -> np.ndarray:
        """Structural source bar of every bar of piece i, from its own SSM (structure.source_bars)."""
        if i not in self._sources:
            self._sources[i] = source_bars(self.piece(i)[3])
        return self._sources[i]

    def __len__(self) -> int:
        return len(self.pieces)

    def piece(self, i: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(ids, bar, pos, ssm[bars, bars]) of piece i, as int64/float32 arrays."""
        p = self.pieces[i]
        a, n = p['tokenOffset'], p['tokenCount']
        nb = p['bars']
        o = p['ssmOffset']
        ssm = np.asarray(self.ssm[o: o + nb * nb], dtype=np.float32).reshape(nb, nb) if nb > 0 else np.zeros((0, 0), np.float32)
        return (np.asarray(self.ids[a: a + n], dtype=np.int64), np.asarray(self.bar[a: a + n], dtype=np.int64),
                np.asarray(self.pos[a: a + n], dtype=np.int64), ssm)

    def header_len(self, bar: np.ndarray) -> int:
        """Number of leading header tokens (bar index 65535)."""
        k = 0
        while k < len(bar) and bar[k] == HEADER_BAR:
            k += 1
        return k


@dataclass(frozen=True)
class Item:
    """A window: piece tokens [0, head) + [start, end); targets at piece index >= score_from."""
    piece: int
    head: int
    start: int
    end: int
    score_from: int

    @property
    def length(self) -> int:
        return self.head + self.end - self.start


def _bar_starts(bar: np.ndarray, h: int) -> np.ndarray:
    k = np.arange(h, len(bar))
    if len(k) == 0:
        return k
    change = np.ones(len(k), dtype=bool)
    change[1:] = bar[h + 1:] != bar[h:-1]
    return k[change]


def _window_before(bar: np.ndarray, h: int, end: int, budget: int) -> int:
    """Earliest bar start s >= end - budget (s < end); an unaligned start if no bar fits."""
    lo = max(h, end - budget)
    starts = _bar_starts(bar, h)
    ok = starts[(starts >= lo) & (starts < end)]
    return int(ok[0]) if len(ok) else lo


def train_items(split: ShardSplit, max_len: int, rng: np.random.Generator) -> List[Item]:
    """One epoch of training windows (whole short pieces; random-end windows of long ones)."""
    items: List[Item] = []
    for i, p in enumerate(split.pieces):
        n = p['tokenCount']
        if n < 2:
            continue
        if n <= max_len:
            items.append(Item(i, 0, 0, n, 1))
            continue
        _, bar, _, _ = split.piece(i)
        h = min(split.header_len(bar), max_len // 4)
        budget = max_len - h
        items.append(Item(i, 0, 0, max_len, 1))
        extra = int(np.ceil((n - max_len) / (budget / 2)))
        for _ in range(extra):
            end = int(rng.integers(max_len + 1, n + 1))
            s = _window_before(bar, h, end, budget)
            items.append(Item(i, h, s, end, s + 1))
    return items


def eval_items(split: ShardSplit, max_len: int) -> List[Item]:
    """Deterministic evaluation windows: every target of every piece scored exactly once;
    long pieces in windows advancing by half a window, each scoring its new part."""
    items: List[Item] = []
    for i, p in enumerate(split.pieces):
        n = p['tokenCount']
        if n < 2:
            continue
        items.append(Item(i, 0, 0, min(n, max_len), 1))
        if n <= max_len:
            continue
        _, bar, _, _ = split.piece(i)
        h = min(split.header_len(bar), max_len // 4)
        budget = max_len - h
        done = max_len
        while done < n:
            end = min(n, done + budget // 2)
            s = _window_before(bar, h, end, budget)
            items.append(Item(i, h, s, end, max(done, s + 1)))
            done = end
    return items


def pack(items: List[Item], max_len: int, rng: Optional[np.random.Generator], buffer: int = 512) -> List[List[Item]]:
    """Packs windows into rows of at most max_len tokens (first-fit decreasing within a
    buffer); rows are shuffled when rng is given."""
    rows: List[List[Item]] = []
    for b0 in range(0, len(items), buffer):
        chunk = sorted(items[b0: b0 + buffer], key=lambda it: -it.length)
        open_rows: List[Tuple[int, List[Item]]] = []
        for it in chunk:
            for k, (used, row) in enumerate(open_rows):
                if used + it.length <= max_len:
                    row.append(it)
                    open_rows[k] = (used + it.length, row)
                    break
            else:
                open_rows.append((it.length, [it]))
        rows.extend(r for _, r in open_rows)
    if rng is not None:
        order = rng.permutation(len(rows))
        rows = [rows[k] for k in order]
    return rows


@dataclass
class Conditioning:
    """What the model is told about each window's structure (see structure.py).

    template: 'own' gives the piece's own structural source bars, 'none' gives none;
    a training stream draws 'none' with probability template_drop (and, independently, an
    unknown length with probability end_drop), so generation with and without a template
    both stay in distribution. shifts: transposition augmentation (semitones drawn uniformly;
    [] = off)."""
    template: str = 'own'
    template_drop: float = 0.0
    end_drop: float = 0.0
    shifts: List[int] = None  # type: ignore[assignment]


def collate(split: ShardSplit, rows: List[List[Item]], max_len: int,
            sing_scale: Optional[float], cond: Optional[Conditioning] = None,
            rng: Optional[np.random.Generator] = None) -> Dict[str, torch.Tensor]:
    """Tensors of one batch: ids, bar, pos, tpos, seg, labels, sbar (structural source bar,
    65535 = none), toend (bars to the piece's end, 4 = unknown) [B, N] int64; is_sum [B, N]
    bool; and, when sing_scale is given, sing_w [B, N, N] float32 (the template head's weights
    from each piece's own SSM: teacher forcing)."""
    b = len(rows)
    summary = split.specials['summary']
    ids = np.zeros((b, max_len), np.int64)
    bar = np.full((b, max_len), HEADER_BAR, np.int64)
    pos = np.full((b, max_len), 255, np.int64)
    tpos = np.zeros((b, max_len), np.int64)
    seg = np.zeros((b, max_len), np.int64)
    labels = np.full((b, max_len), IGNORE, np.int64)
    sbar = np.full((b, max_len), NO_SOURCE, np.int64)
    toend = np.full((b, max_len), END_UNKNOWN, np.int64)
    cond = cond or Conditioning()
    tables = split.transpose_tables(cond.shifts) if cond.shifts else None
    sing = np.zeros((b, max_len, max_len), np.float32) if sing_scale is not None else None
    for r, row in enumerate(rows):
        k = 0
        for s_i, it in enumerate(row):
            pid, pbar, ppos, ssm = split.piece(it.piece)
            sel = np.concatenate([np.arange(it.head), np.arange(it.start, it.end)]).astype(np.int64)
            m = len(sel)
            if tables is not None and rng is not None:
                t = tables[int(rng.choice(cond.shifts))]
                moved = t[pid]
                if (moved >= 0).all():
                    pid = moved
            own = cond.template == 'own' and not (rng is not None and rng.random() < cond.template_drop)
            known_end = not (rng is not None and rng.random() < cond.end_drop)
            hdr = pbar[sel] == HEADER_BAR
            if own:
                src = split.sources(it.piece)
                sbar[r, k: k + m] = np.where(hdr, NO_SOURCE, src[np.minimum(pbar[sel], len(src) - 1)] if len(src) else NO_SOURCE)
            if known_end:
                toend[r, k: k + m] = to_end(pbar[sel], split.pieces[it.piece]['bars'])
            ids[r, k: k + m] = pid[sel]
            bar[r, k: k + m] = pbar[sel]
            pos[r, k: k + m] = ppos[sel]
            tpos[r, k: k + m] = sel
            seg[r, k: k + m] = s_i + 1
            tgt_ok = (sel[1:] >= it.score_from) & (sel[1:] == sel[:-1] + 1)
            lab = np.where(tgt_ok, pid[sel[1:]], IGNORE)
            labels[r, k: k + m - 1] = lab
            if sing is not None:
                sing_weights_piece(pbar[sel], pid[sel] == summary, ssm, sing_scale, sing[r], k)
            k += m
    out = {
        'ids': torch.from_numpy(ids), 'bar': torch.from_numpy(bar), 'pos': torch.from_numpy(pos),
        'tpos': torch.from_numpy(tpos), 'seg': torch.from_numpy(seg), 'labels': torch.from_numpy(labels),
        'sbar': torch.from_numpy(sbar), 'toend': torch.from_numpy(toend),
        'is_sum': torch.from_numpy(ids == summary) & torch.from_numpy(seg > 0),
    }
    if sing is not None:
        out['sing_w'] = torch.from_numpy(sing)
    return out


class TrainStream:
    """Endless, resumable stream of training batches: epoch e uses rng(seed + e)."""

    def __init__(self, split: ShardSplit, max_len: int, batch_rows: int, seed: int,
                 sing_scale: Optional[float], cond: Optional[Conditioning] = None) -> None:
        self.split, self.max_len, self.batch_rows, self.seed = split, max_len, batch_rows, seed
        self.sing_scale = sing_scale
        self.cond = cond
        self.epoch = 0
        self.index = 0  # next batch within the epoch
        self._rows: Optional[List[List[Item]]] = None

    def state(self) -> Dict[str, int]:
        return {'epoch': self.epoch, 'index': self.index}

    def load_state(self, st: Dict[str, int]) -> None:
        self.epoch, self.index, self._rows = int(st['epoch']), int(st['index']), None

    def _epoch_rows(self) -> List[List[Item]]:
        rng = np.random.default_rng(self.seed + self.epoch)
        items = train_items(self.split, self.max_len, rng)
        order = rng.permutation(len(items))
        return pack([items[k] for k in order], self.max_len, rng)

    def __iter__(self) -> Iterator[Dict[str, torch.Tensor]]:
        while True:
            if self._rows is None:
                self._rows = self._epoch_rows()
                if not self._rows:
                    raise ValueError(f'{self.split.dir}/{self.split.split}: no training windows')
            start = self.index * self.batch_rows
            if start >= len(self._rows):
                self.epoch += 1
                self.index = 0
                self._rows = None
                continue
            rows = self._rows[start: start + self.batch_rows]
            self.index += 1
            rng = np.random.default_rng([self.seed, self.epoch, self.index])
            yield collate(self.split, rows, self.max_len, self.sing_scale, self.cond, rng)


def eval_batches(split: ShardSplit, max_len: int, batch_rows: int, sing_scale: Optional[float],
                 max_pieces: Optional[int] = None, cond: Optional[Conditioning] = None) -> Iterator[Dict[str, torch.Tensor]]:
    """Deterministic evaluation batches over the split (optionally its first max_pieces)."""
    items = eval_items(split, max_len)
    if max_pieces is not None:
        items = [it for it in items if it.piece < max_pieces]
    rows = pack(items, max_len, None)
    for k in range(0, len(rows), batch_rows):
        yield collate(split, rows[k: k + batch_rows], max_len, sing_scale, cond)
