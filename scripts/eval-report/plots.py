"""Figures of `refrain eval --report` (docs/EVALUATION.md), drawn with matplotlib.

Usage: /usr/bin/python3 scripts/eval-report/plots.py REPORT.json OUT_DIR
Prints the path of each PNG written, one per line. Reads only the report JSON: similarity
curves, SSMs of generated pieces and their templates, and the ablation differences (no notes).
"""
import json
import os
import sys

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

META = {'Software': None}


def save(fig, out_dir, name):
    path = os.path.join(out_dir, name)
    fig.savefig(path, dpi=110, bbox_inches='tight', metadata=META)
    plt.close(fig)
    print(path)


def by_key(results):
    return {r['key']: r for r in results}


def lt_curves(rep, out_dir):
    groups = [
        ('Default model: decoding and related bars', ['base', 'decoding', 'related']),
        ('Template head and positions', ['base', 'template']),
        ('Scales and summary horizon', ['base', 'scales', 'horizon']),
        ('Equal-time pair', ['pair']),
        ('Positional encodings', ['pe']),
    ]
    template = rep['templates'][0]
    rows = [r for r in rep['results'] if r['template'] == template]
    real = next((r for r in rep['real'] if r['template'] == template), None)
    panels = [(title, [r for r in rows if r['group'] in gs]) for title, gs in groups]
    panels = [p for p in panels if p[1]]
    if not panels:
        return
    cols = 2
    nrows = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(12, 3.6 * nrows), squeeze=False)
    t = np.arange(1, 41)
    for ax, (title, rs) in zip(axes.flat, panels):
        if rep.get('corpusLt'):
            ax.plot(t, [np.nan if v is None else v for v in rep['corpusLt'][:40]], color='0.6', ls='--', lw=1.5, label='training corpus')
        if real:
            ax.plot(t, [np.nan if v is None else v for v in real['lt'][:40]], color='black', lw=2.2, label='real test tunes')
        for r in rs:
            se = r.get('se')
            label = r['id'] + (f' (SE {100 * se:.2f})' if isinstance(se, (int, float)) else '')
            ax.plot(t, [np.nan if v is None else v for v in r['lt'][:40]], lw=1.2, label=label)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel('interval t (bars)')
        ax.set_ylabel('L_t (mean bar similarity)')
        ax.set_xlim(1, rep['bars'] - 1)
        ax.set_ylim(0, 0.8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc='upper right')
    for ax in list(axes.flat)[len(panels):]:
        ax.axis('off')
    fig.suptitle(f'Similarity by interval L_t, template "{template}" (real SE floor {100 * real["se"]:.2f})' if real and real.get('se') else 'Similarity by interval L_t', fontsize=11)
    fig.tight_layout()
    save(fig, out_dir, 'lt-curves.png')


def ssm_examples(rep, out_dir):
    res = by_key(rep['results'])
    for template, name in [(rep['templates'][0], 'ssm-examples-own.png')] + ([(rep['templates'][1], 'ssm-examples-form.png')] if len(rep['templates']) > 1 else []):
        ids = ['base', 'no-head-positions', 'no-template', 'pair-structured', 'pair-dense']
        runs = [res[f'{i}@{template}'] for i in ids if f'{i}@{template}' in res and res[f'{i}@{template}'].get('examples')]
        if not runs:
            continue
        count = min(len(r['examples']) for r in runs)
        fig, axes = plt.subplots(count, len(runs) + 1, figsize=(2.3 * (len(runs) + 1), 2.4 * count), squeeze=False)
        for i in range(count):
            ex0 = runs[0]['examples'][i]
            size = int(round(len(ex0['template']) ** 0.5))
            axes[i][0].imshow(np.array(ex0['template']).reshape(size, size), vmin=0, vmax=1, cmap='magma', origin='upper')
            axes[i][0].set_title(f'template ({template})' if i == 0 else '', fontsize=8)
            axes[i][0].set_ylabel(f'piece {ex0["piece"] + 1}', fontsize=8)
            for j, r in enumerate(runs):
                ex = r['examples'][i]
                g = int(round(len(ex['generated']) ** 0.5))
                axes[i][j + 1].imshow(np.array(ex['generated']).reshape(g, g), vmin=0, vmax=1, cmap='magma', origin='upper')
                if i == 0:
                    axes[i][j + 1].set_title(f'{r["id"]}\n({r["model"]})', fontsize=8)
        for ax in axes.flat:
            ax.set_xticks([])
            ax.set_yticks([])
        fig.suptitle(f'Bar SSMs (note-set Jaccard) of generated pieces beside their template; bars 1-4 are the prompt', fontsize=9)
        fig.tight_layout()
        save(fig, out_dir, name)


def ablation_bars(rep, out_dir):
    diffs = rep['differences']
    if not diffs:
        return
    metrics = [
        ('followsFormPercent', 'Δ follows the form (points)'),
        ('templateDistance', 'Δ SSM distance to template'),
        ('seX100', 'Δ SE x100'),
        ('meanOverlapArea', 'Δ mean overlap area'),
    ]
    labels = [f'{d["id"]} [{d["template"]}] vs {d["against"]}' for d in diffs]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 0.32 * len(diffs) + 1.6), sharey=True)
    y = np.arange(len(diffs))
    for ax, (key, title) in zip(axes, metrics):
        vals, lo, hi, colors = [], [], [], []
        for d in diffs:
            m = d['metrics'].get(key)
            v = m['value'] if m and m.get('value') is not None else np.nan
            ci = m.get('ci95') if m else None
            l = ci[0] if ci and ci[0] is not None else v
            h = ci[1] if ci and ci[1] is not None else v
            vals.append(v)
            lo.append(v - l if np.isfinite(v) else 0)
            hi.append(h - v if np.isfinite(v) else 0)
            colors.append('tab:blue' if m and m.get('excludesZero') else '0.7')
        ax.barh(y, vals, xerr=[lo, hi], color=colors, ecolor='0.3', capsize=2)
        ax.axvline(0, color='black', lw=0.8)
        ax.set_title(title, fontsize=9)
        ax.grid(axis='x', alpha=0.3)
    axes[0].set_yticks(y)
    axes[0].set_yticklabels(labels, fontsize=7)
    axes[0].invert_yaxis()
    fig.suptitle('Ablations: configuration minus baseline, paired bootstrap 95% interval (blue: excludes 0)', fontsize=10)
    fig.tight_layout()
    save(fig, out_dir, 'ablation-bars.png')


def distribution_heatmap(rep, out_dir):
    template = rep['templates'][0]
    rows = [r for r in rep['results'] if r['template'] == template and r.get('distribution')]
    if not rows:
        return
    feats = ['pch', 'pctm', 'pr', 'pi', 'ioi', 'nlh', 'nltm']
    fig, axes = plt.subplots(1, 2, figsize=(12, 0.34 * len(rows) + 1.8), sharey=True)
    for ax, part in zip(axes, ['overall', 'segment']):
        m = np.array([[np.nan if r['distribution'][part][f]['oa'] is None else r['distribution'][part][f]['oa'] for f in feats] for r in rows])
        im = ax.imshow(m, vmin=0.5, vmax=1, cmap='viridis', aspect='auto')
        for i in range(m.shape[0]):
            for j in range(m.shape[1]):
                if np.isfinite(m[i, j]):
                    ax.text(j, i, f'{m[i, j]:.2f}', ha='center', va='center', fontsize=6, color='white' if m[i, j] < 0.75 else 'black')
        ax.set_xticks(range(len(feats)))
        ax.set_xticklabels(feats, fontsize=8)
        ax.set_title(f'overlap area, {"whole new span" if part == "overall" else "per 4-bar segment"}', fontsize=9)
    axes[0].set_yticks(range(len(rows)))
    axes[0].set_yticklabels([r['id'] for r in rows], fontsize=7)
    fig.colorbar(im, ax=axes, shrink=0.8)
    fig.suptitle(f'PerceiverS distribution metrics against the real tunes (template "{template}")', fontsize=10)
    save(fig, out_dir, 'distribution-oa.png')


def main():
    rep = json.load(open(sys.argv[1]))
    out_dir = sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    plt.rcParams['svg.hashsalt'] = 'refrain'
    lt_curves(rep, out_dir)
    ssm_examples(rep, out_dir)
    ablation_bars(rep, out_dir)
    distribution_heatmap(rep, out_dir)


if __name__ == '__main__':
    main()
