"""Writes a model card's `evaluation` block from a `refrain eval --forms --json` result.

Usage:
    /usr/bin/python3 models/train/card_eval.py models/folk-tsrope bench/results/eval-forms-folk-tsrope-default.json
    /usr/bin/python3 models/train/card_eval.py --table DEFAULT.json LEARNED.json   # the MODEL_CARD.md section

The block is what the pickers show ("follows the form: N%") and what MODEL_CARD.md prints: the
`A8 A8 B8 B8` row's follows-the-form share, repeat fidelity, contrast, SE with its interval and
tonic ending, and the `A8 B8 C8 D8` row's repeat fidelity (which should stay low). Render the
card afterwards with `node bin/refrain.js model-card DIR`.
"""

from __future__ import annotations

import json
import os
import sys


def evaluation_block(result: dict, json_path: str) -> dict:
    rows = {r['name']: r for r in result['configurations']}
    main = rows.get('A8 A8 B8 B8')
    if main is None:
        raise SystemExit(f'{json_path}: no "A8 A8 B8 B8" row')
    model = result['model']
    settings = 'learned only' if result.get('learnedOnly') else 'engine defaults'
    names = [r['name'] for r in result['configurations']]
    forms = [{'own SSM': 'own', 'no template': 'none'}.get(n, n) for n in names]
    default_list = ['A8 A8 B8 B8', 'A8 B8 C8 D8', 'A8 A8 B8 A8', 'own', 'none']
    listed = '' if forms == default_list else ' "' + ';'.join(forms) + '"'
    flags = ' --learned-only' if result.get('learnedOnly') else ''
    out = {
        'followsForm': round(main['followsFormPercent'] / 100, 3),
        'followsFormForm': 'A8 A8 B8 B8',
        'followsFormPieces': main['pieces'],
        'followsFormSettings': settings,
        'followsFormCommand': f'node bin/refrain.js eval --forms{listed}{flags} --model {model} -o {json_path}',
        'repeatFidelity': main['repeatFidelity'],
        'contrast': main['contrast'],
        'se': main['se'],
        'seInterval95': main['seInterval95'],
        'tonicEndingPercent': main['tonicEndingPercent'],
        'inModePercent': main['inModePercent'],
    }
    if 'A8 B8 C8 D8' in rows:
        out['abcdFidelity'] = rows['A8 B8 C8 D8']['repeatFidelity']
    real = result.get('real')
    if real:
        out['realSe'] = real['se']
        out['realSeInterval95'] = real['seInterval95']
    return out


def compliance_table(default: dict, learned: dict, files: str) -> str:
    """The MODEL_CARD.md section comparing engine defaults with learned only, row by row, beside the real tunes."""
    lrows = {r['name']: r for r in learned['configurations']}

    def pair(a, b, fmt):
        return f'{fmt(a)} / {fmt(b)}' if b is not None else fmt(a)

    def se(r):
        return f"{100 * r['se']:.2f} [{100 * r['seInterval95'][0]:.2f}, {100 * r['seInterval95'][1]:.2f}]"

    lines = ['## Form compliance (`refrain eval --forms`, 100 test pieces, 4-bar prompts continued to 32 bars)', '',
             'Engine defaults (variation 0.25, cadence, mode lock) / learned only (`--learned-only`: no copy prior, '
             'cadence or mode lock). Form templates carry the corpus background, shared cadences, first- and '
             'second-time endings and a one-bar phrase echo (`src/engine/template.ts`).', '',
             '| configuration | repeat fidelity | contrast | follows the form | tonic ending | in-mode | SE x100 [95% CI] |',
             '|---|---|---|---|---|---|---|']
    for r in default['configurations']:
        l = lrows.get(r['name'], {})
        name = f"`{r['name']}`" if r['name'][:1].isupper() and ' ' in r['name'] and r['name'] not in ('own SSM', 'no template') else r['name']
        lines.append('| ' + ' | '.join([
            name,
            pair(r['repeatFidelity'], l.get('repeatFidelity'), lambda v: f'{v:.2f}'),
            pair(r['contrast'], l.get('contrast'), lambda v: f'{v:.2f}'),
            pair(r['followsFormPercent'], l.get('followsFormPercent'), lambda v: f'{v:.1f}%'),
            pair(r['tonicEndingPercent'], l.get('tonicEndingPercent'), lambda v: f'{v:g}%'),
            pair(r['inModePercent'], l.get('inModePercent'), lambda v: f'{v:.2f}%'),
            se(r) + (f' / {se(l)}' if l else ''),
        ]) + ' |')
    real = default['real']
    lines.append(f"| real test tunes | {real['repeatFidelity']:.2f} | {real['contrast']:.2f} | {real['followsFormPercent']:.1f}% | "
                 f"{real['tonicEndingPercent']:g}% | {real['inModePercent']:.2f}% | {se(real)} (floor) |")
    lines += ['', f'Files: {files}.', '']
    return '\n'.join(lines)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == '--table':
        with open(sys.argv[2]) as f:
            default = json.load(f)
        with open(sys.argv[3]) as f:
            learned = json.load(f)
        print(compliance_table(default, learned, f'`{sys.argv[2]}`, `{sys.argv[3]}`'))
        return
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    model_dir, json_path = sys.argv[1], sys.argv[2]
    with open(json_path) as f:
        result = json.load(f)
    card_path = os.path.join(model_dir, 'card.json')
    with open(card_path) as f:
        card = json.load(f)
    if result['model'] != card['id']:
        raise SystemExit(f'{json_path} measured {result["model"]}, not {card["id"]}')
    card['evaluation'] = evaluation_block(result, json_path)
    with open(card_path, 'w') as f:
        json.dump(card, f, indent=1)
        f.write('\n')
    print(json.dumps(card['evaluation']))


if __name__ == '__main__':
    main()
