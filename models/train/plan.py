"""The attention plan: which earlier tokens a token may attend to, per layer.

One definition, used three ways:
  * `allowed_mask` (torch) builds the [B, N, N] boolean masks of a training batch;
  * `decode_inputs` (numpy) builds the per-layer key index list and bias that the exported
    ONNX decode step takes (the reference for the TypeScript engine's plan builder);
  * `sparsemax` / `sing_weights` give the template (SING) head's weights.

Rules (query token i, key token j, both of one piece, j <= i; `bar` is the shard's bar index,
HEADER = 65535 marks header tokens; d = bar_i - bar_j):
  plan 'dense':  every earlier token.
  plan 'fc' (Museformer fine/coarse):
    * header keys: always;
    * a header query: every earlier token;
    * a SUMMARY query: its own bar (and header keys);
    * any other query: its own bar so far, every token of bar bar_i - o for o in the
      related-offset set, and only the SUMMARY token of every other earlier bar.
  window W (PerceiverS scale mask), on top of either plan: a non-header key is kept only
    if tpos_i - tpos_j < W (tpos = token index in the piece). Header keys stay visible.
  A token always sees itself.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

HEADER_BAR = 65535
NO_POS = 255
DEFAULT_OFFSETS = (1, 2, 4, 8, 12, 16, 24, 32)
NEG = -1.0e9  # bias of a blocked key (finite so an all-blocked row cannot produce NaN)
SPARSEMAX_BIG = 1.0e4  # masked template entries are pushed this far below the valid ones


def offsets_table(offsets: Sequence[int], max_offset: int) -> np.ndarray:
    """Boolean lookup over bar distances 0..max_offset+1 (last entry always False)."""
    t = np.zeros(max_offset + 2, dtype=bool)
    for o in offsets:
        if 0 < o <= max_offset:
            t[o] = True
    return t


def allowed_mask(bar: torch.Tensor, tpos: torch.Tensor, seg: torch.Tensor, is_sum: torch.Tensor,
                 plan: str, rel_table: Optional[torch.Tensor], window: Optional[int],
                 sbar: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Training masks: [B, N, N] bool, True where query i may attend key j.

    bar, tpos, seg: [B, N] int64 (seg 0 = padding, else piece number within the row);
    is_sum: [B, N] bool; rel_table: [B, max_offset+2] bool (per-row related offsets) for 'fc';
    sbar: [B, N] structural source bars (65535 none): with it, 'fc' also shows in full every
    earlier bar with the query bar's source (the bars the template marks as the same).
    """
    n = bar.shape[1]
    dev = bar.device
    causal = torch.ones(n, n, dtype=torch.bool, device=dev).tril()
    same_seg = (seg[:, :, None] == seg[:, None, :]) & (seg[:, None, :] > 0)
    ok = causal[None] & same_seg
    hdr = bar == HEADER_BAR
    if plan == 'fc':
        assert rel_table is not None
        bi = bar[:, :, None]
        bj = bar[:, None, :]
        d = bi - bj
        same_bar = d == 0
        max_idx = rel_table.shape[1] - 1
        didx = d.clamp(0, max_idx)
        rel = torch.gather(rel_table[:, None, :].expand(-1, n, -1), 2, didx) & (d > 0)
        if sbar is not None:
            rel = rel | ((sbar[:, :, None] == sbar[:, None, :]) & (sbar[:, :, None] != HEADER_BAR) & (d > 0))
        coarse = is_sum[:, None, :] & (d > 0)
        plan_ok = hdr[:, None, :] | hdr[:, :, None] | same_bar | (~is_sum[:, :, None] & (rel | coarse))
    elif plan == 'dense':
        plan_ok = torch.ones_like(ok)
    else:
        raise ValueError(f'unknown plan {plan!r}')
    if window is not None:
        near = (tpos[:, :, None] - tpos[:, None, :]) < window
        plan_ok = plan_ok & (near | hdr[:, None, :])
    ok = ok & plan_ok
    eye = torch.eye(n, dtype=torch.bool, device=dev)[None]
    return ok | eye


def allowed_rows_np(bar: np.ndarray, tpos: np.ndarray, is_sum: np.ndarray, queries: Sequence[int],
                    plan: str, offsets: Sequence[int], window: Optional[int],
                    sbar: Optional[np.ndarray] = None) -> np.ndarray:
    """Numpy version of `allowed_mask` for one piece: rows for the given query indices,
    [len(queries), n] bool over all n tokens (keys after the query are False)."""
    n = len(bar)
    hdr = bar == HEADER_BAR
    rows = np.zeros((len(queries), n), dtype=bool)
    offs = set(int(o) for o in offsets)
    for r, i in enumerate(queries):
        j = np.arange(i + 1)
        if plan == 'dense':
            ok = np.ones(i + 1, dtype=bool)
        else:
            d = bar[i].astype(np.int64) - bar[: i + 1].astype(np.int64)
            if hdr[i]:
                ok = np.ones(i + 1, dtype=bool)
            elif is_sum[i]:
                ok = hdr[: i + 1] | (d == 0)
            else:
                rel = np.isin(d, list(offs)) & (d > 0)
                if sbar is not None and sbar[i] != HEADER_BAR:
                    rel = rel | ((sbar[: i + 1] == sbar[i]) & (d > 0))
                ok = hdr[: i + 1] | (d == 0) | rel | (is_sum[: i + 1] & (d > 0))
        if window is not None:
            ok = ok & (((tpos[i] - tpos[: i + 1]) < window) | hdr[: i + 1])
        ok[i] = True
        rows[r, j] = ok
    return rows


def sparsemax_np(z: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Sparsemax over the last axis of z (float32) restricted to mask (0/1); rows with no
    valid entry give all zeros. Same arithmetic as the ONNX SsmAttention function."""
    z = z.astype(np.float32)
    mask = mask.astype(np.float32)
    zz = z * mask + (mask - 1.0) * np.float32(SPARSEMAX_BIG)
    zs = -np.sort(-zz, axis=-1)
    cs = np.cumsum(zs, axis=-1, dtype=np.float32)
    k = np.arange(1, z.shape[-1] + 1, dtype=np.float32)
    cond = (1.0 + k * zs) > cs
    kz = np.maximum(cond.sum(axis=-1, keepdims=True).astype(np.float32), 1.0)
    csk = np.take_along_axis(cs, (kz - 1).astype(np.int64), axis=-1)
    tau = (csk - 1.0) / kz
    return (np.maximum(zz - tau, 0.0) * mask).astype(np.float32)


def sparsemax_torch(z: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Torch twin of `sparsemax_np` (no gradient is needed: inputs are data, not parameters)."""
    zz = z * mask + (mask - 1.0) * SPARSEMAX_BIG
    zs, _ = torch.sort(zz, dim=-1, descending=True)
    cs = torch.cumsum(zs, dim=-1)
    k = torch.arange(1, z.shape[-1] + 1, dtype=z.dtype, device=z.device)
    cond = ((1.0 + k * zs) > cs).to(z.dtype)
    kz = cond.sum(dim=-1, keepdim=True).clamp(min=1.0)
    csk = torch.gather(cs, -1, (kz - 1).long())
    tau = (csk - 1.0) / kz
    return torch.relu(zz - tau) * mask


def sing_candidates(bar: np.ndarray, is_sum: np.ndarray, i: int) -> np.ndarray:
    """Indices of the SUMMARY tokens (at or before i) of the bars before token i's bar."""
    if bar[i] == HEADER_BAR:
        return np.zeros(0, dtype=np.int64)
    j = np.arange(i + 1)
    sel = is_sum[: i + 1] & (bar[: i + 1] != HEADER_BAR) & (bar[: i + 1].astype(np.int64) < int(bar[i]))
    return j[sel]


def sing_weights_piece(bar: np.ndarray, is_sum: np.ndarray, ssm: np.ndarray, scale: float,
                       out: np.ndarray, offset: int = 0) -> None:
    """Fills out[offset+i, offset+j] with the template head's weight of query i on summary
    token j, for one piece segment (bar, is_sum: that segment's tokens; ssm: the piece's
    bars x bars SSM, indexed by the shard's absolute bar numbers).

    A query in bar b weighs the summaries of the earlier bars c < b present in the segment
    by sparsemax(scale * ssm[b, c]); header queries get no weights."""
    sum_pos = np.nonzero(is_sum & (bar != HEADER_BAR))[0]
    if len(sum_pos) == 0:
        return
    bar64 = bar.astype(np.int64)
    sum_bar = bar64[sum_pos]
    for b in np.unique(bar64[bar != HEADER_BAR]):
        cand = sum_pos[sum_bar < b]
        if len(cand) == 0:
            continue
        toks = np.nonzero(bar64 == b)[0]
        cb = bar64[cand]
        row = np.zeros(len(cand), dtype=np.float32)
        if b < ssm.shape[0]:
            ok = cb < ssm.shape[1]
            row[ok] = ssm[b, cb[ok]]
        w = sparsemax_np(row[None] * np.float32(scale), np.ones((1, len(cand)), np.float32))[0]
        # every candidate summary precedes the first token of bar b, so causality holds
        out[offset + toks[:, None], offset + cand[None, :]] = w[None, :]


def decode_inputs(bar: np.ndarray, tpos: np.ndarray, is_sum: np.ndarray, past: int, new: int,
                  layers: List[Dict], offsets: Sequence[int],
                  ssm: Optional[np.ndarray] = None, sbar: Optional[np.ndarray] = None) -> Dict[str, np.ndarray]:
    """Reference plan builder for one ONNX decode step.

    The piece's tokens 0..past-1 are in the KV cache (row t of the cache = token t), tokens
    past..past+new-1 are the step's new tokens. Returns, per layer l, `kidx_l` (int32 [K_l],
    cache rows any new token may see) and `bias_l` (float32 [new, K_l + new]: 0 allowed,
    NEG blocked; columns K_l.. are the new tokens themselves), and, when `ssm` is given,
    `ssm_idx` (int32 [M]: cache rows of earlier bars' summaries), `ssm_row` (float32
    [new, M + new]: the template SSM value between the query's bar and the candidate
    summary's bar, unscaled: the model multiplies by its trained scale) and `ssm_mask`
    (float32 [new, M + new]: 1 where the candidate is a summary of an earlier bar; columns
    M.. are the new tokens)."""
    q = list(range(past, past + new))
    out: Dict[str, np.ndarray] = {}
    for l, spec in enumerate(layers):
        rows = allowed_rows_np(bar, tpos, is_sum, q, spec['plan'], offsets, spec.get('window'), sbar)
        past_ok = rows[:, :past]
        kidx = np.nonzero(past_ok.any(axis=0))[0]
        bias = np.full((new, len(kidx) + new), NEG, dtype=np.float32)
        bias[:, : len(kidx)][past_ok[:, kidx]] = 0.0
        bias[:, len(kidx):][rows[:, past: past + new]] = 0.0
        out[f'kidx_{l}'] = kidx.astype(np.int32)
        out[f'bias_{l}'] = bias
    if ssm is not None:
        cand_all = sorted(set(int(c) for i in q for c in sing_candidates(bar, is_sum, i) if c < past))
        sidx = np.asarray(cand_all, dtype=np.int64)
        cols = list(sidx) + q
        row = np.zeros((new, len(cols)), dtype=np.float32)
        mask = np.zeros((new, len(cols)), dtype=np.float32)
        for r, i in enumerate(q):
            cands = set(int(c) for c in sing_candidates(bar, is_sum, i))
            for c_i, c in enumerate(cols):
                if c in cands:
                    b, cb = int(bar[i]), int(bar[c])
                    mask[r, c_i] = 1.0
                    if b < ssm.shape[0] and cb < ssm.shape[1]:
                        row[r, c_i] = ssm[b, cb]
        out['ssm_idx'] = sidx.astype(np.int32)
        out['ssm_row'] = row
        out['ssm_mask'] = mask
    return out
