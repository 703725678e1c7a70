"""A small decoder-only transformer with structure-aware attention, per layer.

Per-layer attention (`layers[l]`):
  plan     'fc' (Museformer fine/coarse) or 'dense' (every earlier token); see plan.py;
  windows  PerceiverS scale masks: a list of choices, each null (no window) or W (the
           last W tokens); training samples one per batch, generation picks any of them;
  sing     true: the layer's LAST head is the SING template head, whose weights over the
           earlier bars' summary tokens are sparsemax(sing_scale * template SSM row of the
           query's bar), applied to that head's value vectors of the summaries.

Positional encodings (`pe`), with coordinates bar (-1 for header tokens), pos (onset in the
bar in grid steps; -1 for tokens without one) and tok (token index in the piece):
  rope      rotary over tok, frequencies 10000^(-j/P), j = 0..P-1, P = head_dim/2.
  srope     structure-informed rotary: the P rotation pairs are split into three slices,
            P/4 pairs rotated by bar (frequencies 256^(-j/(P/4))), P/4 pairs by pos
            (frequencies 256^(-j/(P/4))), and the remaining P/2 pairs by tok (10000^(-j/(P/2))).
  ropepool  rotary whose angle for each pair pools ALL three coordinates,
            angle_j = F[0,j]*bar + F[1,j]*pos + F[2,j]*tok, with F a trainable [3, P] matrix
            initialised with random Gaussian frequencies (RFF-style draws, per coordinate
            std 1/2, 1/4 and 1/32), so q.k depends only on the structural displacement.
            This is our reading of StrIPEs' RoPEPool (rotation PE with cross-dimension
            pooling of structural positions); the paper's full text was not at hand.
  fstripe   F-StrIPE-style random Fourier features of (bar, pos), ADDED to the token
            embedding: phi = [cos(c @ W), sin(c @ W)], c = (bar, pos), W a fixed [2, R]
            Gaussian matrix (std 1/2 for bar, 1/2 for pos), then a learned R*2 -> d projection.
  none      no positional encoding (order comes from the causal plan only).
  tsrope    template-structured rotary: as srope, with a fourth coordinate, the structural
            source bar of the token's bar (structure.py: the earliest earlier bar the template
            marks as the same), so bar 9 of `A8 A8` sits where bar 1 sat. Slices of P/4 pairs
            each: bar, pos, source bar (256^(-j/(P/4))), tok (10000^(-j/(P/4))). Without a
            template every token gets the same source coordinate (the slice carries nothing).
With `end_embed`, a learned embedding of the bars left to the piece's end (0, 1, 2, 3+,
unknown) is added to every token, so the model knows where the piece and its cadence are.
All rotary variants use the rotate-half pair layout: pair j = (x[j], x[j + P]).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, asdict
from typing import Dict, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from plan import DEFAULT_OFFSETS, HEADER_BAR, NO_POS, NEG, allowed_mask
from structure import END_VALUES

PE_KINDS = ('rope', 'srope', 'ropepool', 'fstripe', 'none', 'tsrope')


@dataclass
class LayerSpec:
    plan: str = 'fc'
    windows: List[Optional[int]] = field(default_factory=lambda: [None])
    sing: bool = False


@dataclass
class ModelConfig:
    vocab_size: int
    d: int = 256
    n_heads: int = 4
    ffn: int = 1024
    layers: List[LayerSpec] = field(default_factory=lambda: [LayerSpec() for _ in range(4)])
    pe: str = 'rope'
    offsets: List[int] = field(default_factory=lambda: list(DEFAULT_OFFSETS))
    offset_keep: float = 0.7  # training: each related offset kept with this probability...
    offset_full: float = 0.25  # ...except in this share of rows, which keep the whole set
    sing_scale: float = 1.0
    fstripe_features: int = 64
    pe_seed: int = 1234
    summary_id: int = 4
    struct_related: bool = False  # 'fc' layers see in full the earlier bars with the same structural source
    end_embed: bool = False  # add an embedding of the bars left to the piece's end

    @staticmethod
    def from_dict(d: Dict) -> 'ModelConfig':
        d = dict(d)
        d['layers'] = [LayerSpec(**l) for l in d.get('layers', [])]
        return ModelConfig(**d)

    def to_dict(self) -> Dict:
        return asdict(self)

    @property
    def head_dim(self) -> int:
        return self.d // self.n_heads


def pe_coords(bar: torch.Tensor, pos: torch.Tensor, tpos: torch.Tensor,
              sbar: Optional[torch.Tensor] = None) -> torch.Tensor:
    """[..., 3] float coordinates (bar, pos, tok) from raw shard values; [..., 4] with the
    structural source bar (65535 = none -> -1) when sbar is given."""
    b = torch.where(bar == HEADER_BAR, torch.full_like(bar, -1), bar).float()
    p = torch.where(pos == NO_POS, torch.full_like(pos, -1), pos).float()
    cols = [b, p, tpos.float()]
    if sbar is not None:
        cols.append(torch.where(sbar == HEADER_BAR, torch.full_like(sbar, -1), sbar).float())
    return torch.stack(cols, dim=-1)


def rotary_freqs(pe: str, head_dim: int, seed: int) -> torch.Tensor:
    """The [3, P] ([4, P] for tsrope) frequency matrix F of the rotary variants (angle = coords @ F)."""
    p = head_dim // 2
    f = torch.zeros(3, p)
    if pe == 'rope':
        f[2] = 10000.0 ** (-torch.arange(p, dtype=torch.float64) / p)
    elif pe == 'srope':
        nb = max(1, p // 4)
        npos = max(1, p // 4)
        nt = p - nb - npos
        f[0, :nb] = 256.0 ** (-torch.arange(nb, dtype=torch.float64) / nb)
        f[1, nb: nb + npos] = 256.0 ** (-torch.arange(npos, dtype=torch.float64) / npos)
        f[2, nb + npos:] = 10000.0 ** (-torch.arange(nt, dtype=torch.float64) / nt)
    elif pe == 'tsrope':
        f = torch.zeros(4, p)
        n = max(1, p // 4)
        base = 256.0 ** (-torch.arange(n, dtype=torch.float64) / n)
        f[0, :n] = base
        f[1, n: 2 * n] = base
        f[3, 2 * n: 3 * n] = base
        nt = p - 3 * n
        f[2, 3 * n:] = 10000.0 ** (-torch.arange(nt, dtype=torch.float64) / nt)
    elif pe == 'ropepool':
        g = torch.Generator().manual_seed(seed)
        std = torch.tensor([0.5, 0.25, 1.0 / 32.0])[:, None]
        f = torch.randn(3, p, generator=g) * std
    else:
        raise ValueError(pe)
    return f.float()


def apply_rotary(x: torch.Tensor, angles: torch.Tensor) -> torch.Tensor:
    """x [B, H, N, Dh], angles [B, N, P]: rotate-half rotation (pair j = (x[j], x[j+P]))."""
    c = torch.cos(angles)[:, None]
    s = torch.sin(angles)[:, None]
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], dim=-1)


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig, spec: LayerSpec) -> None:
        super().__init__()
        self.h = cfg.n_heads
        self.dh = cfg.head_dim
        self.spec = spec
        self.qkv = nn.Linear(cfg.d, 3 * cfg.d, bias=False)
        self.out = nn.Linear(cfg.d, cfg.d, bias=False)

    def forward(self, x: torch.Tensor, angles: Optional[torch.Tensor], blocked: torch.Tensor,
                sing_w: Optional[torch.Tensor]) -> torch.Tensor:
        """x [B, N, d]; blocked [B, 1, N, N] bool (True: query may not see key)."""
        b, n, d = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.h, self.dh).permute(2, 0, 3, 1, 4)
        if angles is not None:
            q = apply_rotary(q, angles)
            k = apply_rotary(k, angles)
        att = (q * (1.0 / math.sqrt(self.dh))) @ k.transpose(-1, -2)
        att = att.masked_fill(blocked, NEG)  # same result as adding the 0/NEG bias of the decode graph
        y = torch.softmax(att, dim=-1) @ v  # [B, H, N, Dh]
        if self.spec.sing:
            assert sing_w is not None, 'a SING layer needs sing_w in the batch'
            ys = sing_w @ v[:, -1]
            y = torch.cat([y[:, :-1], ys[:, None]], dim=1)
        return self.out(y.transpose(1, 2).reshape(b, n, d))


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig, spec: LayerSpec) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.d)
        self.attn = Attention(cfg, spec)
        self.ln2 = nn.LayerNorm(cfg.d)
        self.fc1 = nn.Linear(cfg.d, cfg.ffn)
        self.fc2 = nn.Linear(cfg.ffn, cfg.d)

    def forward(self, x, angles, blocked, sing_w):
        x = x + self.attn(self.ln1(x), angles, blocked, sing_w)
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class RefrainLM(nn.Module):
    """Decoder-only LM over shard tokens; see the module docstring for the options."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        if cfg.pe not in PE_KINDS:
            raise ValueError(f'pe must be one of {PE_KINDS}')
        if cfg.d % cfg.n_heads or cfg.head_dim % 2:
            raise ValueError('d must split into heads of even size')
        self.cfg = cfg
        self.emb = nn.Embedding(cfg.vocab_size, cfg.d)
        nn.init.normal_(self.emb.weight, std=0.02)
        self.blocks = nn.ModuleList([Block(cfg, s) for s in cfg.layers])
        self.ln_f = nn.LayerNorm(cfg.d)
        if cfg.end_embed:
            self.end_emb = nn.Embedding(END_VALUES, cfg.d)
            nn.init.normal_(self.end_emb.weight, std=0.02)
        if cfg.pe in ('rope', 'srope', 'ropepool', 'tsrope'):
            f = rotary_freqs(cfg.pe, cfg.head_dim, cfg.pe_seed)
            if cfg.pe == 'ropepool':
                self.rot_freq = nn.Parameter(f)
            else:
                self.register_buffer('rot_freq', f)
        else:
            self.rot_freq = None
        if cfg.pe == 'fstripe':
            g = torch.Generator().manual_seed(cfg.pe_seed)
            w = torch.randn(2, cfg.fstripe_features, generator=g) * torch.tensor([[0.5], [0.5]])
            self.register_buffer('rff_w', w)
            self.rff_proj = nn.Linear(2 * cfg.fstripe_features, cfg.d, bias=False)
            nn.init.normal_(self.rff_proj.weight, std=0.02)
        for blk in self.blocks:
            for lin in (blk.attn.qkv, blk.attn.out, blk.fc1, blk.fc2):
                nn.init.normal_(lin.weight, std=0.02)
            nn.init.normal_(blk.fc2.weight, std=0.02 / math.sqrt(2 * len(self.blocks)))
            nn.init.normal_(blk.attn.out.weight, std=0.02 / math.sqrt(2 * len(self.blocks)))

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def embed(self, ids, bar, pos, tpos, sbar=None, toend=None):
        """Token embedding (plus F-StrIPE features, end embedding) and the rotary angles (or None)."""
        x = self.emb(ids)
        if self.cfg.end_embed:
            x = x + self.end_emb(toend)
        coords = pe_coords(bar, pos, tpos, sbar if self.cfg.pe == 'tsrope' else None)
        angles = None
        if self.rot_freq is not None:
            angles = coords @ self.rot_freq
        if self.cfg.pe == 'fstripe':
            z = coords[..., :2] @ self.rff_w
            x = x + self.rff_proj(torch.cat([torch.cos(z), torch.sin(z)], dim=-1))
        return x, angles

    def sample_plan(self, batch_rows: int, gen: Optional[torch.Generator], training: bool,
                    windows: Optional[List[Optional[int]]] = None,
                    offsets: Optional[List[int]] = None) -> Dict:
        """Per-batch plan choices: a window per layer and per-row related-offset tables.
        Training samples both; otherwise the given (or default: first window, all offsets)."""
        cfg = self.cfg
        max_off = max(cfg.offsets) if cfg.offsets else 1  # tables stay on CPU; train.plan_to moves them
        table = torch.zeros(batch_rows, max_off + 2, dtype=torch.bool)
        if training:
            keep = torch.rand(batch_rows, len(cfg.offsets), generator=gen) < cfg.offset_keep
            keep |= (torch.rand(batch_rows, 1, generator=gen) < cfg.offset_full)
            for j, o in enumerate(cfg.offsets):
                table[:, o] = keep[:, j]
            wins = []
            for s in cfg.layers:
                k = int(torch.randint(len(s.windows), (1,), generator=gen))
                wins.append(s.windows[k])
        else:
            for o in (offsets if offsets is not None else cfg.offsets):
                if 0 < o <= max_off:
                    table[:, o] = True
            wins = list(windows) if windows is not None else [s.windows[0] for s in cfg.layers]
        return {'rel_table': table, 'windows': wins}

    def forward(self, batch: Dict[str, torch.Tensor], plan: Dict) -> torch.Tensor:
        """Logits [B, N, V] of a collated batch under a plan from `sample_plan`."""
        x, angles = self.embed(batch['ids'], batch['bar'], batch['pos'], batch['tpos'], batch.get('sbar'), batch.get('toend'))
        sbar = batch.get('sbar') if self.cfg.struct_related else None
        cache: Dict = {}
        for blk, spec, win in zip(self.blocks, self.cfg.layers, plan['windows']):
            key = (spec.plan, win)
            if key not in cache:
                ok = allowed_mask(batch['bar'], batch['tpos'], batch['seg'], batch['is_sum'], spec.plan,
                                  plan['rel_table'], win, sbar)
                cache[key] = (~ok)[:, None]
            x = blk(x, angles, cache[key], batch.get('sing_w'))
        return self.ln_f(x) @ self.emb.weight.t()

    def loss(self, batch: Dict[str, torch.Tensor], plan: Dict) -> torch.Tensor:
        logits = self.forward(batch, plan)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch['labels'].reshape(-1),
                               ignore_index=-100, reduction='sum')
