import * as vscode from 'vscode';
import { MAX_NEW_BARS } from '../engine/limits';
import type { GenerationTask, TemplateSpec } from '../engine/types';
import { insertCandidate } from '../generation/insert';
import type { InsertWording } from '../generation/insert';
import { settingsRequest } from '../generation/request';
import type { GenerationCandidate, GenerationRequest } from '../generation/request';
import { firstPass } from '../music/passes';
import { scoreHead } from '../music/score';
import { toAbortSignal } from '../platform/cancellation';
import { readConfig } from '../generation/config';
import { RefrainError } from '../platform/errors';
import type { Services } from './services';
import { parseForm, formToString } from '../structure/form';
import { activeAbcEditor, sourceOf, tuneAt } from './activeTune';
import type { ActiveTune } from './activeTune';

/**
 * Runs a command's generation through the service under a cancellable progress notification
 * (the service's current run: "Refrain: Cancel Generation" stops it too).
 */
export async function generateWithProgress(services: Services, title: string, request: GenerationRequest): Promise<GenerationCandidate[]> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Refrain: ${title}`, cancellable: true }, (progress, token) =>
    services.generation.generate(request, { signal: toAbortSignal(token), origin: 'command', onProgress: (p) => progress.report({ message: p.message }) }),
  );
}

/** A command's request: the settings' controls on the tune, with a template. */
function commandRequest(active: ActiveTune, task: GenerationTask, template: TemplateSpec | undefined, source = sourceOf(active)): GenerationRequest {
  return settingsRequest(source, task, template, readConfig().generation);
}

/** What Insert tells the user when the tune moved on while generating. */
function staleWhile(what: string): InsertWording {
  return { what, stale: `The tune changed while Refrain was generating, so the ${what} was not inserted. Run the command again.` };
}

/** Lets the user choose among candidates (skipped when there is one). Undefined when dismissed. */
export async function pickCandidate(candidates: readonly GenerationCandidate[], abcOf: (c: GenerationCandidate) => string = (c) => c.abc?.edit.newText ?? ''): Promise<GenerationCandidate | undefined> {
  if (candidates.length <= 1) {
    return candidates[0];
  }
  const items = candidates.map((c, i) => ({
    label: `Candidate ${i + 1}`,
    description: describeCandidate(c),
    detail: abcPreview(abcOf(c)) || `seed ${c.seed}, ${c.tokens} tokens`,
    candidate: c,
  }));
  const picked = await vscode.window.showQuickPick(items, { title: 'Refrain: choose a candidate to insert', placeHolder: 'The ABC each candidate writes; "follows the form" = how closely it keeps the structure you chose' });
  return picked?.candidate;
}

/** The ABC text an insert writes, on one line for a picker. */
function abcPreview(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** Figures of a candidate for a picker line. */
export function describeCandidate(c: GenerationCandidate): string {
  const { from, to } = c.newBars;
  const parts = [to - from === 1 ? `bar ${from + 1}` : `bars ${from + 1}-${to}`];
  if (c.metrics.followsForm !== undefined) {
    parts.push(`follows the form: ${Math.round(100 * c.metrics.followsForm)}%`);
  }
  if (c.metrics.se !== undefined) {
    parts.push(`SE ${c.metrics.se.toFixed(3)}`);
  }
  parts.push(`seed ${c.seed}`);
  return parts.join(' · ');
}

/**
 * Arguments that skip the prompts of the generation commands (for keybindings and automation):
 * `bars` to add, a `form` string for the template (else the tune's own structure), and which
 * `candidate` (1-based) to insert without asking.
 */
export interface GenerateCommandArgs {
  bars?: number;
  form?: string;
  candidate?: number;
}

function commandArgs(args: unknown): GenerateCommandArgs {
  if (args === undefined || args === null || typeof args !== 'object' || args instanceof vscode.Uri) {
    return {};
  }
  const a = args as Record<string, unknown>;
  const out: GenerateCommandArgs = {};
  if (a.bars !== undefined) {
    if (!Number.isInteger(a.bars) || (a.bars as number) < 1 || (a.bars as number) > MAX_NEW_BARS) {
      throw new RefrainError('bad-argument', `"bars" must be a whole number from 1 to ${MAX_NEW_BARS}, not ${JSON.stringify(a.bars)}.`);
    }
    out.bars = a.bars as number;
  }
  if (a.form !== undefined) {
    parseForm(String(a.form));
    out.form = String(a.form);
  }
  if (a.candidate !== undefined) {
    if (!Number.isInteger(a.candidate) || (a.candidate as number) < 1) {
      throw new RefrainError('bad-argument', `"candidate" must be a whole number from 1, not ${JSON.stringify(a.candidate)}.`);
    }
    out.candidate = a.candidate as number;
  }
  return out;
}

async function chooseCandidate(candidates: readonly GenerationCandidate[], args: GenerateCommandArgs, abcOf?: (c: GenerationCandidate) => string): Promise<GenerationCandidate | undefined> {
  if (args.candidate !== undefined) {
    return candidates[Math.min(args.candidate, candidates.length) - 1];
  }
  return pickCandidate(candidates, abcOf);
}

/** `refrain.continueTune`: append bars to the tune under the cursor. */
export function createContinueTune(services: Services): (args?: unknown) => Promise<void> {
  return async (rawArgs?: unknown) => {
    const args = commandArgs(rawArgs);
    const config = readConfig();
    const active = await tuneAt(services.parser, activeAbcEditor());
    const bars = args.bars ?? (await askBars(config.generation.bars));
    if (bars === undefined) {
      return;
    }
    const template = args.form !== undefined ? { kind: 'form' as const, form: args.form } : args.bars !== undefined ? { kind: 'piece' as const } : await askTemplate(active.tune.score.bars.length + bars);
    if (template === null) {
      return;
    }
    const req = commandRequest(active, { kind: 'continue', bars }, template);
    const candidates = await generateWithProgress(services, `continuing "${active.tune.title ?? 'tune'}" by ${bars} bars`, req);
    const chosen = await chooseCandidate(candidates, args);
    if (!chosen) {
      return;
    }
    await insertCandidate(chosen, { kind: 'text' }, staleWhile('continuation'));
  };
}

/** `refrain.regenerateBars`: regenerate the bars the selection touches (infill). */
export function createRegenerateBars(services: Services): (args?: unknown) => Promise<void> {
  return async (rawArgs?: unknown) => {
    const args = commandArgs(rawArgs);
    const editor = activeAbcEditor();
    const active = await tuneAt(services.parser, editor);
    const sel = editor.selection;
    const { from, to, passes } = selectedBars(active, active.document.offsetAt(sel.start), active.document.offsetAt(sel.end));
    const what = to - from === 1 ? `bar ${from + 1}` : `bars ${from + 1}-${to}`;
    if (passes > 1 && args.candidate === undefined) {
      // Asked before generating: a bar inside a repeat is played on every pass.
      const every = 'Regenerate in every pass';
      const answer = await vscode.window.showInformationMessage(
        `${what[0].toUpperCase()}${what.slice(1)} ${to - from === 1 ? 'lies' : 'lie'} inside a repeat and ${to - from === 1 ? 'is' : 'are'} played ${passes} times. Regenerate ${to - from === 1 ? 'it' : 'them'} the same in every pass?`,
        { modal: true },
        every,
      );
      if (answer !== every) {
        return;
      }
    }
    const req = commandRequest(active, { kind: 'infill', fromBar: from, toBar: to }, { kind: 'piece' });
    const candidates = await generateWithProgress(services, `regenerating ${what}`, req);
    const chosen = await chooseCandidate(candidates, args);
    if (!chosen) {
      return;
    }
    await insertCandidate(chosen, { kind: 'text' }, staleWhile('new bars'));
  };
}

/**
 * The performed bars [from, to) of the first pass of the written bars the selection overlaps (an
 * empty selection: the bar under the cursor), and how many times they are played (more than 1
 * inside a repeat, where every pass is regenerated alike).
 */
export function selectedBars(active: ActiveTune, start: number, end: number): { from: number; to: number; passes: number } {
  const score = active.tune.score;
  const hits: number[] = [];
  score.bars.forEach((b, i) => {
    const w = score.writtenBars[b.written]?.source;
    if (w && (start === end ? start >= w.start && start <= w.end : w.start < end && w.end > start)) {
      hits.push(i);
    }
  });
  if (hits.length === 0) {
    throw new RefrainError('bad-argument', 'Select the bars to regenerate (or put the cursor in one) inside the tune body.');
  }
  return firstPass(score, hits);
}

/** `refrain.generateFromForm`: a new tune after this one, following a form string. */
export function createGenerateFromForm(services: Services): (args?: unknown) => Promise<void> {
  return async (rawArgs?: unknown) => {
    const args = commandArgs(rawArgs);
    const active = await tuneAt(services.parser, activeAbcEditor());
    const form = args.form ?? await vscode.window.showInputBox({
      title: 'Refrain: Generate From Form',
      prompt: 'Sections with bar counts, e.g. "A8 A8 B8 A8", "AABB" (8 bars each) or POP909-style "i4A4B8A4"',
      value: 'A8 A8 B8 B8',
      validateInput: formProblem,
    });
    if (form === undefined) {
      return;
    }
    const sections = parseForm(form);
    // The current tune gives the header (meter, key, tempo) and its first bar as the opening motif.
    const prompt = scoreHead(active.tune.score, Math.min(1, active.tune.score.bars.length));
    const req = commandRequest(active, { kind: 'fromForm', form }, { kind: 'form', form }, { ...sourceOf(active), score: prompt });
    const candidates = await generateWithProgress(services, `a ${formToString(sections)} tune`, req);
    // The picker shows the tune's body (its header lines are the same for every candidate).
    const chosen = await chooseCandidate(candidates, args, (c) => (c.abc?.edit.newText ?? '').split('\n').filter((l) => !/^[A-Za-z]:/.test(l)).join('\n'));
    if (!chosen) {
      return;
    }
    await insertCandidate(chosen, { kind: 'text' }, staleWhile('new tune'));
    const end = active.text.length;
    const sep = chosen.abc?.edit.newText.match(/^\n*/)?.[0].length ?? 0;
    const editor = vscode.window.activeTextEditor;
    if (editor && editor.document === active.document) {
      const pos = active.document.positionAt(end + sep);
      editor.selection = new vscode.Selection(pos, pos);
      editor.revealRange(new vscode.Range(pos, pos));
    }
  };
}

/** `refrain.chooseModel`: pick the model from those installed; saved in the user settings. */
export function createChooseModel(services: Services): () => Promise<void> {
  return async () => {
    const models = await services.generation.listModels();
    if (models.length === 0) {
      throw new RefrainError('no-model', 'No Refrain model is installed: the extension ships models in its models/ folder, or set "refrain.modelPath".', 'show-logs');
    }
    const current = readConfig().model;
    const picked = await vscode.window.showQuickPick(
      models.map((m) => ({
        label: m.id,
        description: `${m.pe} · ${m.layers} layers · ${(m.bytes / 2 ** 20).toFixed(1)} MB${m.id === current ? ' · current' : ''}`,
        detail: `${m.title}; attention ${[...new Set(m.plans)].join('/')}${m.sing ? ' + SING template head' : ''}; trained offsets ${m.trainedOffsets.join(',') || 'none'}`,
      })),
      { title: 'Refrain: choose the generation model' },
    );
    if (picked) {
      await vscode.workspace.getConfiguration('refrain').update('model', picked.label, vscode.ConfigurationTarget.Global);
    }
  };
}

async function askBars(defaultBars: number): Promise<number | undefined> {
  const options = [...new Set([defaultBars, 4, 8, 16, 32])].sort((a, b) => a - b);
  const picked = await vscode.window.showQuickPick(
    [...options.map((n) => ({ label: `${n} bars`, n })), { label: 'Other…', n: -1 }],
    { title: 'Refrain: how many bars to add?' },
  );
  if (!picked) {
    return undefined;
  }
  if (picked.n > 0) {
    return picked.n;
  }
  const typed = await vscode.window.showInputBox({
    title: 'Bars to add',
    value: String(defaultBars),
    validateInput: (v) => (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= MAX_NEW_BARS ? undefined : `A whole number from 1 to ${MAX_NEW_BARS}`),
  });
  return typed === undefined ? undefined : Number(typed);
}

/** The template: a form, the tune's own structure, or none (undefined). `null` when dismissed. */
async function askTemplate(totalBars: number): Promise<TemplateSpec | undefined | null> {
  const picked = await vscode.window.showQuickPick(
    [
      { label: 'Follow a form…', detail: `e.g. A8 A8 B8 B8 over all ${totalBars} bars: sections marked the same come back`, value: 'form' },
      { label: "Repeat the tune's own structure", detail: 'Template: this tune’s bar self-similarity, extended: the new bars echo the bars they line up with', value: 'piece' },
      { label: 'Free continuation', detail: 'No template: the model decides what comes back', value: 'none' },
    ],
    { title: 'Refrain: structure to follow' },
  );
  if (!picked) {
    return null;
  }
  if (picked.value === 'piece') {
    return { kind: 'piece' };
  }
  if (picked.value === 'none') {
    return undefined;
  }
  const form = await vscode.window.showInputBox({
    title: 'Form of the whole tune',
    value: totalBars % 8 === 0 ? Array.from({ length: totalBars / 8 }, (_, i) => (i < 2 ? 'A8' : 'B8')).join(' ') : `A${totalBars}`,
    validateInput: formProblem,
  });
  return form === undefined ? null : { kind: 'form', form };
}

/** What is wrong with a form string, for an input box; undefined when it parses. */
function formProblem(value: string): string | undefined {
  try {
    parseForm(value);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
