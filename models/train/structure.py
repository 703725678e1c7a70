"""Template structure as the model sees it: structural source bars and bars-to-end.

One definition, shared by the trainer (from each piece's own bar SSM) and the engine
(`src/engine/structure.ts`, from any template: a form string, another piece, a painted
matrix). Both must agree; `selftest.py` and the TypeScript unit tests check the same cases.

* `source_bars(T)`: bar i's structural source is the earliest earlier bar j that the
  template marks as the same (T[i, j] >= TEMPLATE_SAME), followed to its own source, else i
  itself. In `A8 A8 B8 B8`, bars 8..15 get sources 0..7 and bars 24..31 get 16..23, so bar 9
  sits where bar 1 sat. The structure-informed rotary rotates one slice of each head by this
  coordinate (StrIPEs: structure as positions), and the attention plan lets a bar see every
  token of the earlier bars with the same source (Museformer: structure-related bars in full).
* `to_end(bar, bars)`: bars left to the end of the piece, clamped to 0..END_FAR; END_UNKNOWN
  when the length is not known (open-ended continuation) or for header tokens.
* Transposition augmentation: `transpose_table(vocab, k)` maps every token id to its id a
  k-semitone transposition away (pitches, key signatures, chord roots and bass notes).
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence

import numpy as np

TEMPLATE_SAME = 0.5
NO_SOURCE = 65535  # raw value for "no structural coordinate" (header tokens, no template)
END_FAR = 3  # to_end values 0, 1, 2 = bars left; 3 = three or more
END_UNKNOWN = 4
END_VALUES = 5


def source_bars(t: np.ndarray) -> np.ndarray:
    """Structural source bar of each bar of a bars x bars template (see the module doc)."""
    n = t.shape[0]
    src = np.arange(n, dtype=np.int64)
    for i in range(1, n):
        same = np.nonzero(t[i, :i] >= TEMPLATE_SAME)[0]
        if len(same):
            src[i] = src[int(same[0])]
    return src


def to_end(bar: np.ndarray, bars: int) -> np.ndarray:
    """Bars left to the piece's end per token (END_UNKNOWN for header tokens)."""
    b = bar.astype(np.int64)
    left = np.clip(bars - 1 - b, 0, END_FAR)
    return np.where(bar == 65535, END_UNKNOWN, left)


_KEYSIG_SHIFT = 7  # one semitone up moves the key signature by 7 fifths (mod 12)


def transpose_table(vocab: Sequence[str], k: int) -> Optional[np.ndarray]:
    """id -> id of the token k semitones higher; identity for tokens without pitch.
    Pitches that leave the vocabulary map to -1 (the caller skips the shift for that piece)."""
    index: Dict[str, int] = {name: i for i, name in enumerate(vocab)}
    table = np.arange(len(vocab), dtype=np.int64)
    pcs = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B']
    for i, name in enumerate(vocab):
        if name.startswith('PITCH_'):
            table[i] = index.get(f'PITCH_{int(name[6:]) + k}', -1)
        elif name.startswith('KEYSIG_'):
            ks = int(name[7:])
            n = ((ks + _KEYSIG_SHIFT * k) % 12 + 12) % 12
            # keep the spelling with the fewest accidentals (F# = 6 sharps, not 6 flats; -6 stays flat side)
            cand = [n, n - 12] + ([n + 12] if n + 12 <= 7 else [])
            cand = [c for c in cand if -7 <= c <= 7]
            best = min(cand, key=lambda c: (abs(c), -np.sign(ks) * c))
            table[i] = index[f'KEYSIG_{"+" if best > 0 else ""}{best}']
        elif name.startswith('BASS_'):
            pc = pcs.index(name[5:])
            table[i] = index[f'BASS_{pcs[(pc + k) % 12]}']
        elif name.startswith('CHORD_') and name != 'CHORD_N.C.':
            rest = name[6:]
            root = rest[:2] if len(rest) > 1 and rest[1] == '#' else rest[:1]
            pc = pcs.index(root)
            table[i] = index[f'CHORD_{pcs[(pc + k) % 12]}{rest[len(root):]}']
    return table


def transpose_tables(vocab: Sequence[str], shifts: List[int]) -> Dict[int, np.ndarray]:
    return {k: transpose_table(vocab, k) for k in shifts}
