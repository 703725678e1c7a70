"""Trains a RefrainLM from a JSON config (models/train/configs/*.json).

Usage:
    /usr/bin/python3 models/train/train.py models/train/configs/smoke.json
    /usr/bin/python3 models/train/train.py models/train/configs/folk-rope.json [--steps N]
        [--data SHARD_DIR] [--ckpt-dir DIR] [--fresh] [--export [OUT_DIR]] [--eval-only] [--threads 2]

Checkpoints go to <repo>/.cache/ckpt/<name>/ (git-ignored): last.pt (resumed from by
default), best.pt (best validation perplexity), log.jsonl. Seeds are fixed by the config.
Relative paths in configs and options are resolved against the repository root.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time
from typing import Dict, Optional

import numpy as np
import torch

from data import Conditioning, ShardSplit, TrainStream, eval_batches
from model import ModelConfig, RefrainLM

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))


def repo_path(p: str) -> str:
    return p if os.path.isabs(p) else os.path.join(REPO, p)


def load_config(path: str) -> Dict:
    with open(path) as f:
        cfg = json.load(f)
    for key in ('name', 'data', 'model', 'train'):
        if key not in cfg:
            raise ValueError(f'{path}: config lacks "{key}"')
    return cfg


def ensure_data(dcfg: Dict, override: Optional[str]) -> str:
    """The shard directory; synthesises one first when the config asks for it."""
    d = repo_path(override or dcfg['dir'])
    if not os.path.exists(os.path.join(d, 'meta.json')):
        syn = dcfg.get('synthesize')
        if syn is None or override:
            raise FileNotFoundError(f'no shards at {d} (meta.json missing); build them with the corpus builder')
        from synth import write_shards
        write_shards(d, int(syn.get('pieces', 300)), int(syn.get('seed', 7)))
    return d


def lr_at(step: int, tc: Dict, progress: Optional[float] = None) -> float:
    """Linear warm-up by step, then cosine decay to min_lr_ratio, over the config's steps or,
    for a time-budgeted run, over the fraction of the training-time budget used (`progress`)."""
    warm = max(1, int(tc.get('warmup', 100)))
    total = max(warm + 1, int(tc['steps']))
    lo = float(tc.get('min_lr_ratio', 0.1))
    if step < warm:
        return tc['lr'] * (step + 1) / warm
    t = min(1.0, progress if progress is not None else (step - warm) / (total - warm))
    return tc['lr'] * (lo + (1 - lo) * 0.5 * (1 + math.cos(math.pi * t)))


@torch.no_grad()
def to_device(batch: Dict[str, torch.Tensor], dev: torch.device) -> Dict[str, torch.Tensor]:
    return batch if dev.type == 'cpu' else {k: v.to(dev, non_blocking=True) for k, v in batch.items()}


def plan_to(plan: Dict, dev: torch.device) -> Dict:
    return plan if dev.type == 'cpu' else dict(plan, rel_table=plan['rel_table'].to(dev))


def split_record(shard_dir: str) -> Dict:
    """Which pieces each split holds: counts, and the test split's hash (sha256 of its `source`
    strings in test.pieces.json order joined by newlines; `refrain eval` checks the same hash)."""
    out: Dict = {}
    for name in ('train', 'valid', 'test'):
        with open(os.path.join(shard_dir, f'{name}.pieces.json')) as f:
            srcs = [p['source'] for p in json.load(f)]
        out[name] = len(srcs)
        out[f'{name}Hash'] = hashlib.sha256('\n'.join(srcs).encode('utf-8')).hexdigest()
    return out


def evaluate(model: RefrainLM, split: ShardSplit, max_len: int, batch_rows: int, max_pieces: Optional[int],
             dev: torch.device = torch.device('cpu'), template: str = 'own') -> Dict:
    """Held-out perplexity (every target token of the split scored once, default plan), with the
    piece's own template (template='own') or none ('none'); the piece's length is known."""
    model.eval()
    nll, n = 0.0, 0
    sing = model.cfg.sing_scale if any(s.sing for s in model.cfg.layers) else None
    t0 = time.time()
    for batch in eval_batches(split, max_len, batch_rows, sing, max_pieces, Conditioning(template=template)):
        batch = to_device(batch, dev)
        plan = plan_to(model.sample_plan(batch['ids'].shape[0], None, False), dev)
        nll += float(model.loss(batch, plan))
        n += int((batch['labels'] != -100).sum())
    model.train()
    return {'split': split.split, 'template': template, 'tokens': n, 'nll': nll / max(1, n), 'ppl': math.exp(nll / max(1, n)),
            'seconds': round(time.time() - t0, 1)}


def save_ckpt(path: str, model, opt, step, stream, cfg, meta, summary) -> None:
    tmp = path + '.tmp'
    torch.save({'model': model.state_dict(), 'opt': opt.state_dict(), 'step': step, 'stream': stream.state(),
                'model_config': model.cfg.to_dict(), 'config': cfg, 'shard_meta': meta, 'training': summary,
                'torch_rng': torch.get_rng_state()}, tmp)
    os.replace(tmp, path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('config')
    ap.add_argument('--data', help='shard directory (overrides the config)')
    ap.add_argument('--steps', type=int, help='stop after this many steps (the LR schedule keeps the config total)')
    ap.add_argument('--ckpt-dir', help='checkpoint folder (default .cache/ckpt/<name>)')
    ap.add_argument('--fresh', action='store_true', help='ignore an existing last.pt')
    ap.add_argument('--no-save', action='store_true', help='write no checkpoint (throughput runs)')
    ap.add_argument('--export', nargs='?', const='', help='export ONNX + card at the end (to the config\'s export dir or this one)')
    ap.add_argument('--init-from', metavar='MODEL_DIR',
                    help='warm start from a shipped model folder (card.json + model.onnx) when there is no checkpoint: '
                         'its weights, its training record (step, time spent) and the data position; a fresh optimizer '
                         'that re-warms its learning rate over --rewarm steps')
    ap.add_argument('--rewarm', type=int, default=20, help='steps of linear LR re-warm-up after --init-from')
    ap.add_argument('--eval-only', action='store_true')
    ap.add_argument('--eval-test', action='store_true', help='also evaluate the test split at the end')
    ap.add_argument('--minutes', type=float,
                    help='training-time budget in minutes (eval and checkpoints not counted, kept across resumes); '
                         'the LR schedule follows the fraction of it used, so runs of different models get the same time')
    ap.add_argument('--clock', choices=('wall', 'cpu'), default='wall',
                    help="what --minutes counts: wall time (default) or this process's CPU time, which stays fair "
                         "when several budgeted runs share the cores (use with --threads 1)")
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--device', default='cpu', help="'cpu' (default) or 'cuda' (untested here: no GPU on this machine)")
    args = ap.parse_args()
    dev = torch.device(args.device)

    torch.set_num_threads(args.threads)
    cfg = load_config(args.config)
    tc, dc = cfg['train'], cfg['data']
    seed = int(tc.get('seed', 1))
    torch.manual_seed(seed)
    np.random.seed(seed)

    shard_dir = ensure_data(dc, args.data)
    train_split = ShardSplit(shard_dir, 'train')
    valid_split = ShardSplit(shard_dir, 'valid')
    meta = train_split.meta
    mcfg = dict(cfg['model'])
    mcfg['vocab_size'] = train_split.vocab_size
    mcfg['summary_id'] = train_split.specials['summary']
    model = RefrainLM(ModelConfig.from_dict(mcfg)).to(dev)
    sing = model.cfg.sing_scale if any(s.sing for s in model.cfg.layers) else None
    max_len, rows = int(dc['max_len']), int(dc['batch_rows'])
    cc = dc.get('condition', {})
    cond = Conditioning(template='own', template_drop=float(cc.get('template_drop', 0.0)),
                        end_drop=float(cc.get('end_drop', 0.0)), shifts=list(cc.get('shifts', [])))
    stream = TrainStream(train_split, max_len, rows, seed, sing, cond)
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (decay if p.dim() >= 2 and 'emb' not in name else no_decay).append(p)
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': float(tc.get('weight_decay', 0.01))},
                             {'params': no_decay, 'weight_decay': 0.0}],
                            lr=tc['lr'], betas=tuple(tc.get('betas', (0.9, 0.98))), eps=1e-8)

    ckpt_dir = repo_path(args.ckpt_dir or os.path.join('.cache', 'ckpt', cfg['name']))
    os.makedirs(ckpt_dir, exist_ok=True)
    last = os.path.join(ckpt_dir, 'last.pt')
    step = 0
    rewarm_from = None
    summary = {'config': cfg['name'], 'shardDir': shard_dir, 'shardSources': meta.get('sources'),
               'shardSplits': meta.get('splits'), 'seed': seed, 'tokensSeen': 0, 'evals': [], 'bestValid': None}
    summary['split'] = split_record(shard_dir)
    summary['condition'] = {'templateDrop': cond.template_drop, 'endDrop': cond.end_drop, 'transposeShifts': cond.shifts}
    if os.path.exists(last) and not args.fresh:
        ck = torch.load(last, map_location=dev)
        if ck['model_config'] != model.cfg.to_dict():
            sys.exit(f'{last} was trained with another model config; use --fresh or another --ckpt-dir')
        model.load_state_dict(ck['model'])
        opt.load_state_dict(ck['opt'])
        step = int(ck['step'])
        stream.load_state(ck['stream'])
        summary = ck.get('training', summary)
        torch.set_rng_state(ck['torch_rng'].cpu())
        print(json.dumps({'resumed': last, 'step': step}), flush=True)
    elif args.init_from:
        from warmstart import load_model_dir
        init_dir = repo_path(args.init_from)
        warm, card = load_model_dir(init_dir, mcfg)
        model.load_state_dict(warm.state_dict())
        shipped = card.get('training') or {}
        step = max([int(e.get('step', 0)) for e in shipped.get('evals', [])] + [0])
        summary['tokensSeen'] = int(shipped.get('tokensSeen', 0))
        summary['trainSeconds'] = float(shipped.get('trainSeconds', 0.0))
        summary['evals'] = list(shipped.get('evals', []))
        summary['warmStarts'] = list(shipped.get('warmStarts', [])) + [
            {'from': os.path.relpath(init_dir, REPO), 'sha256': card['onnx']['sha256'], 'step': step,
             'trainSeconds': summary['trainSeconds'], 'optimizer': 'fresh AdamW', 'rewarmSteps': args.rewarm}]
        stream.load_state({'epoch': 0, 'index': step})
        rewarm_from = step
        print(json.dumps({'warmStart': init_dir, 'step': step, 'trainSeconds': summary['trainSeconds']}), flush=True)

    print(json.dumps({'config': cfg['name'], 'parameters': model.n_params(), 'fp32MB': round(model.n_params() * 4 / 2**20, 2),
                      'trainPieces': len(train_split), 'trainTokens': len(train_split.ids), 'validPieces': len(valid_split),
                      'maxLen': max_len, 'batchRows': rows, 'threads': torch.get_num_threads()}), flush=True)
    log = open(os.path.join(ckpt_dir, 'log.jsonl'), 'a')
    eval_rows = int(dc.get('eval_batch_rows', rows))
    eval_pieces = tc.get('eval_pieces')

    def do_eval(tag: str) -> Dict:
        r = evaluate(model, valid_split, max_len, eval_rows, eval_pieces, dev)
        r.update({'step': step, 'tag': tag})
        print(json.dumps(r), flush=True)
        log.write(json.dumps(r) + '\n')
        log.flush()
        return r

    if args.eval_only:
        do_eval('eval-only')
        return

    total = int(tc['steps'])
    stop = min(total, step + args.steps) if args.steps else total
    gen = torch.Generator()
    model.train()
    it = iter(stream)
    t_last, tok_acc, nll_acc, n_acc = time.time(), 0, 0.0, 0
    t_start = time.time()
    budget = args.minutes * 60 if args.minutes else None
    clock = time.process_time if args.clock == 'cpu' else time.time
    summary.setdefault('trainSeconds', 0.0)
    if budget is not None:
        summary['budgetSeconds'] = budget
        summary['budgetClock'] = 'process CPU time' if args.clock == 'cpu' else 'wall time'
    summary['hardware'] = f'{os.cpu_count()} CPU cores, {torch.get_num_threads()} torch threads, {dev.type}'

    def progress() -> Optional[float]:
        return None if budget is None else summary['trainSeconds'] / budget

    def out_of_time() -> bool:
        return budget is not None and summary['trainSeconds'] >= budget

    while step < stop and not out_of_time():
        t_step = clock()
        batch = to_device(next(it), dev)
        for g_ in opt.param_groups:
            g_['lr'] = lr_at(step, tc, progress())
            if rewarm_from is not None and step - rewarm_from < args.rewarm:
                g_['lr'] *= (step - rewarm_from + 1) / max(1, args.rewarm)
        gen.manual_seed(seed * 7919 + step)  # per-step seed: a resumed run samples the same plans
        plan = plan_to(model.sample_plan(batch['ids'].shape[0], gen, True), dev)
        n_tgt = int((batch['labels'] != -100).sum())
        loss = model.loss(batch, plan)
        opt.zero_grad(set_to_none=True)
        (loss / max(1, n_tgt)).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), float(tc.get('clip', 1.0)))
        opt.step()
        step += 1
        summary['trainSeconds'] += clock() - t_step
        if out_of_time():
            stop = step  # the budget is spent: this step is the last (final eval, checkpoint)
        toks = int((batch['seg'] > 0).sum())
        tok_acc += toks
        summary['tokensSeen'] += toks
        nll_acc += float(loss)
        n_acc += n_tgt
        if step % int(tc.get('log_every', 20)) == 0 or step == stop:
            now = time.time()
            rec = {'step': step, 'loss': round(nll_acc / max(1, n_acc), 4), 'lr': lr_at(step - 1, tc, progress()),
                   'tokPerS': round(tok_acc / (now - t_last), 1), 'elapsedS': round(now - t_start, 1),
                   'trainS': round(summary['trainSeconds'], 1)}
            print(json.dumps(rec), flush=True)
            log.write(json.dumps(rec) + '\n')
            log.flush()
            t_last, tok_acc, nll_acc, n_acc = now, 0, 0.0, 0
        if step % int(tc.get('eval_every', 1000)) == 0 or step == stop:
            r = do_eval('periodic' if step < stop else 'final')
            summary['evals'].append(r)
            if (summary['bestValid'] is None or r['ppl'] < summary['bestValid']['ppl']) and not args.no_save:
                summary['bestValid'] = r
                save_ckpt(os.path.join(ckpt_dir, 'best.pt'), model, opt, step, stream, cfg, meta, summary)
        if not args.no_save and (step % int(tc.get('ckpt_every', 500)) == 0 or step == stop):
            save_ckpt(last, model, opt, step, stream, cfg, meta, summary)
            t_last = time.time()  # don't count checkpoint time as training time
    if args.eval_test:
        test_split = ShardSplit(shard_dir, 'test')
        r = evaluate(model, test_split, max_len, eval_rows, None, dev, 'own')
        r['step'] = step
        summary['test'] = r
        print(json.dumps(r), flush=True)
        r = evaluate(model, test_split, max_len, eval_rows, None, dev, 'none')
        r['step'] = step
        summary['testNoTemplate'] = r
        print(json.dumps(r), flush=True)
    if args.export is not None:
        from export import export_model
        ecfg = cfg.get('export', {})
        out = repo_path(args.export or ecfg.get('dir', os.path.join('.cache', 'models', cfg['name'])))
        card = export_model(model.cpu(), out, ecfg.get('id', cfg['name']), meta, summary)
        print(json.dumps({'exported': out, 'onnxBytes': card['onnx']['bytes']}), flush=True)
    log.close()


if __name__ == '__main__':
    main()
