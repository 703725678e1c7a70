import * as vscode from 'vscode';
import { sourceOf, tuneAt } from '../commands/activeTune';
import type { TuneReader } from '../commands/activeTune';
import { controlsOf } from '../generation/request';
import type { GenerationService } from '../generation/service';
import { isCancellationError, toAbortSignal } from '../platform/cancellation';
import { readConfig } from '../generation/config';
import { Disposable } from '../platform/disposable';
import type { Logger } from '../platform/logger';

/**
 * Ghost-text continuation of an ABC tune: when the cursor sits at the end of a tune's body,
 * proposes the next bar(s). Debounced from the document's last change (VS Code asks a moment
 * after the keystroke; that moment counts as part of the pause): the tune is read in the parse
 * worker at once, the request starts halfway through the debounce ({@link START_SHARE}) and its
 * ghost text is shown once the whole debounce has passed, so the decode runs inside the pause
 * instead of after it; a keystroke in between aborts it. Only the newest request runs (an older
 * one is aborted between decode steps); bounded by `refrain.inline.bars` and
 * `refrain.inline.timeBudgetMs`.
 * Runs go through the generation service as background runs: a run the writer started (a
 * command, the panel) is never stopped by typing, and ghost text waits while one is going.
 * All model work happens in the engine's worker thread, so typing never waits for it.
 */
/** Share of the debounce after which the request starts (its ghost text still waits for the whole debounce). */
export const START_SHARE = 0.5;

export class InlineContinuationProvider extends Disposable implements vscode.InlineCompletionItemProvider {
  private _latest: AbortController | undefined;
  private _seq = 0;
  /** When each open document last changed (`performance.now()`). */
  private readonly _changedAt = new WeakMap<vscode.TextDocument, number>();

  constructor(
    private readonly _generation: GenerationService,
    private readonly _reader: TuneReader,
    private readonly _log: Logger,
  ) {
    super();
    this._register({ dispose: () => this._latest?.abort() });
    this._register(
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length > 0) {
          this._changedAt.set(e.document, performance.now());
        }
      }),
    );
  }

  async provideInlineCompletionItems(
    document: vscode.TextDocument,
    position: vscode.Position,
    _context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[] | undefined> {
    const config = readConfig();
    const editor = vscode.window.activeTextEditor;
    if (!config.inline.enabled || token.isCancellationRequested || !editor || editor.document !== document || editor.selections.length > 1) {
      return undefined;
    }
    // Newest wins: abort whatever is still running for an earlier keystroke.
    this._latest?.abort();
    const mine = new AbortController();
    this._latest = mine;
    const seq = ++this._seq;
    // The tune is read while the debounce runs; the debounce counts from the last change.
    const offset = document.offsetAt(position);
    const reading = tuneAt(this._reader, editor, offset).then(
      (active) => ({ active }),
      (error: unknown) => ({ error }),
    );
    const t0 = performance.now();
    const since = t0 - (this._changedAt.get(document) ?? t0);
    /** How long the document has been quiet (VS Code calls a moment after the keystroke). */
    const quietFor = (): number => since + (performance.now() - t0);
    const stale = (): boolean => token.isCancellationRequested || mine.signal.aborted || seq !== this._seq;
    await delay(Math.max(0, config.inline.debounceMs * START_SHARE - quietFor()));
    if (stale()) {
      return undefined;
    }
    const read = await reading;
    if (stale()) {
      return undefined;
    }
    if (!('active' in read)) {
      // Not in a readable tune (or the parser overran its time limit): nothing to propose, no error while typing.
      const e = read.error;
      this._log.debug(`no tune read: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
    const active = read.active;
    if (active.version !== document.version) {
      return undefined;
    }
    if (!atEndOfBody(active.text, active.tune.score, offset)) {
      return undefined;
    }
    const signal = AbortSignal.any([mine.signal, toAbortSignal(token), AbortSignal.timeout(config.inline.timeBudgetMs)]);
    const started = Date.now();
    try {
      const request = {
        source: sourceOf(active),
        task: { kind: 'continue' as const, bars: config.inline.bars, openEnded: true },
        template: { kind: 'piece' as const },
        controls: { ...controlsOf(config.generation), candidates: 1 },
      };
      // Ghost text continues the line bar by bar and folds no repeats.
      const running = this._generation.generate(request, { signal, background: true, origin: 'inline', edit: { foldRepeats: false, continueLine: true } });
      // Shown only after the whole debounce: a keystroke before then aborts the request.
      await delay(Math.max(0, config.inline.debounceMs - quietFor()));
      if (stale()) {
        mine.abort();
        running.catch(() => undefined);
        return undefined;
      }
      const [candidate] = await running;
      if (!candidate?.abc || signal.aborted || document.version !== active.version) {
        return undefined;
      }
      const item = toGhostText(document, active.text, offset, candidate.abc.edit);
      this._log.debug(`${config.inline.bars} bar(s) in ${Date.now() - started} ms${item ? '' : ' (not shown: the edit is not at the cursor)'}`);
      return item ? [item] : undefined;
    } catch (e) {
      if (isCancellationError(e) || signal.aborted) {
        this._log.trace(`request ${seq} stopped after ${Date.now() - started} ms`);
      } else {
        this._log.warn(`no continuation: ${e instanceof Error ? e.message : String(e)}`);
      }
      return undefined;
    } finally {
      if (this._latest === mine) {
        this._latest = undefined;
      }
    }
  }
}

/** True when only whitespace, comments or bar lines follow `offset` up to the end of the tune. */
export function atEndOfBody(text: string, score: { source?: { start: number; end: number }; writtenBars: { source?: { start: number; end: number } }[] }, offset: number): boolean {
  const src = score.source;
  if (!src || offset < src.start || offset > src.end + 1) {
    return false;
  }
  const lastBar = score.writtenBars[score.writtenBars.length - 1]?.source;
  if (!lastBar || offset < lastBar.start) {
    return false;
  }
  const rest = text.slice(offset, src.end).replace(/%[^\n]*/g, '');
  return /^[\s|:\]]*$/.test(rest);
}

/**
 * The planned edit as ghost text at the cursor. With the item's range [edit.start, cursor] and
 * text `newText + text[edit.end, cursor)`, accepting it (Tab) gives exactly the planned edit
 * whenever the edit ends at or before the cursor; VS Code shows it as ghost text when that text
 * starts with what the range already holds. Otherwise there is no ghost text (the command
 * "Continue Tune" still applies the edit).
 */
export function toGhostText(document: vscode.TextDocument, text: string, offset: number, edit: { start: number; end: number; newText: string }): vscode.InlineCompletionItem | undefined {
  if (edit.start > offset || edit.end > offset || edit.end < edit.start) {
    return undefined;
  }
  const insertText = edit.newText + text.slice(edit.end, offset);
  if (!insertText.startsWith(text.slice(edit.start, offset))) {
    return undefined;
  }
  return new vscode.InlineCompletionItem(insertText, new vscode.Range(document.positionAt(edit.start), document.positionAt(offset)));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
