/**
 * The generation service: the one path from any front (commands, inline ghost text, structure
 * panel, MIDI editor) to the engine. It picks the model, builds the engine request
 * ({@link engineRequest}), holds the single current run (so "Refrain: Cancel Generation" stops a
 * run from any front), throttles progress, and plans each candidate's edit (`./edits`), so what a
 * front shows is what Insert writes.
 *
 * No `vscode` import: the engine comes in through {@link EngineSource}, so plain-Node tests run
 * the service with the real engine client and the bundled model.
 */

import type { EngineApi, ModelInfo } from '../engine/types';
import { CancellationError } from '../platform/cancellation';
import { Disposable, MutableDisposable, toDisposable } from '../platform/disposable';
import type { IDisposable } from '../platform/disposable';
import { RefrainError } from '../platform/errors';
import type { ContinuationOptions } from '../music/splice';
import type { Logger } from '../platform/logger';
import { PROGRESS_HZ } from '../protocol/messages';
import { Throttle } from '../protocol/throttle';
import { notationOf, planAbcEdit } from './edits';
import { describeTask, engineRequest } from './request';
import type { GenerationCandidate, GenerationRequest } from './request';

/** Where the service gets the engine and the installed models from (`EngineHost` in the extension). */
export interface EngineSource {
  engine(): EngineApi;
  /** The installed models, the catalog's order: the default model first when installed. */
  listModels(): Promise<ModelInfo[]>;
}

/** Progress of a run: `done` of `total` bars over all candidates, with a note. */
export interface RunProgress {
  readonly done: number;
  readonly total: number;
  readonly message: string;
}

/** How a run is started. */
export interface RunOptions {
  /** Aborts this run (a progress notification's token, a webview's cancel). */
  readonly signal?: AbortSignal;
  /** Called at most {@link PROGRESS_HZ} times a second, and once at the end. */
  readonly onProgress?: (progress: RunProgress) => void;
  /**
   * A background run (inline ghost text): it does not replace a run a writer started, and is
   * skipped (cancelled at once) while one is going.
   */
  readonly background?: boolean;
  /** For the log: which front asked. */
  readonly origin?: string;
  /** How ABC candidates' edits are planned (inline ghost text continues the line and folds no repeats). */
  readonly edit?: ContinuationOptions;
}

/** The current run. */
interface Run {
  readonly controller: AbortController;
  readonly background: boolean;
  dispose(): void;
}

/** What a writer did with the service: a run gave candidates, or a candidate went into a document. */
export type GenerationUse = 'generated' | 'inserted';

/** The one generation service of the extension. */
export class GenerationService extends Disposable {
  private readonly _run = this._register(new MutableDisposable<Run>());
  private _runs = 0;
  private readonly _listeners = new Set<(use: GenerationUse) => void>();

  constructor(
    private readonly _engines: EngineSource,
    /** The model the settings choose (`refrain.model`); empty = the default. */
    private readonly _chosenModel: () => string,
    private readonly _log: Logger,
  ) {
    super();
  }

  /** The installed models, the chosen one first (the panel starts with it). */
  async listModels(): Promise<ModelInfo[]> {
    const models = [...(await this._engines.listModels())];
    const chosen = await this.resolveModel().catch(() => undefined);
    if (chosen) {
      models.sort((a, b) => Number(b.id === chosen.id) - Number(a.id === chosen.id));
    }
    return models;
  }

  /**
   * The model to use: `requested`, else the settings' choice, else the catalog's first (the
   * default model `DEFAULT_MODEL` when installed). Throws a `no-model` error naming what is installed.
   */
  async resolveModel(requested?: string): Promise<ModelInfo> {
    const models = await this._engines.listModels();
    if (models.length === 0) {
      throw new RefrainError('no-model', 'No Refrain model is installed: the extension ships models in its models/ folder, or set "refrain.modelPath".');
    }
    const wanted = requested || this._chosenModel();
    if (!wanted) {
      return models[0];
    }
    const hit = models.find((m) => m.id === wanted);
    if (!hit) {
      throw new RefrainError('no-model', `Model "${wanted}" is not installed. Installed: ${models.map((m) => m.id).join(', ')}.`);
    }
    return hit;
  }

  /** Calls `listener` when a writer's run gave candidates and when a candidate was inserted (the walkthrough listens). */
  onDidUse(listener: (use: GenerationUse) => void): IDisposable {
    this._listeners.add(listener);
    return toDisposable(() => this._listeners.delete(listener));
  }

  /** Tells the listeners that a candidate went into its document. */
  inserted(): void {
    this._fire('inserted');
  }

  private _fire(use: GenerationUse): void {
    for (const l of [...this._listeners]) {
      try {
        l(use);
      } catch (e) {
        this._log.error(`a ${use} listener failed`, e);
      }
    }
  }

  /** Whether a run is going. */
  get isRunning(): boolean {
    return this._run.value !== undefined;
  }

  /** Stops the current run; false when none was going. */
  cancel(): boolean {
    const running = this._run.value !== undefined;
    this._run.clear();
    return running;
  }

  /**
   * Generates the candidates of a request. A new run stops the one going (the newest wins),
   * except that a background run never stops another. Rejects with a cancellation error when
   * stopped, and with `RefrainError` / `EngineError` / `MusicInputError` otherwise.
   */
  async generate(request: GenerationRequest, options: RunOptions = {}): Promise<GenerationCandidate[]> {
    const background = options.background === true;
    if (background && this._run.value && !this._run.value.background) {
      throw new CancellationError('A generation is running.');
    }
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) {
      controller.abort();
    }
    const progress = options.onProgress ? new Throttle<RunProgress>(options.onProgress, 1000 / PROGRESS_HZ) : undefined;
    const run: Run = { controller, background, dispose: () => controller.abort() };
    this._run.value = run;
    const number = ++this._runs;
    const log = this._log;
    try {
      const model = await this.resolveModel(request.modelId);
      if (controller.signal.aborted) {
        throw new CancellationError();
      }
      const req = engineRequest(request, model.id);
      const c = request.controls;
      const what = `${options.origin ?? 'run'} #${number}: ${describeTask(request.task)} with ${model.id}, ${c.candidates} candidate(s), seed ${c.seed}, offsets ${c.relatedOffsets.join(',')}, template ${request.template?.kind ?? 'none'}`;
      (background ? log.debug : log.info).call(log, what);
      const started = Date.now();
      const perCandidate = request.task.kind === 'infill' ? request.task.toBar - request.task.fromBar : request.task.kind === 'continue' ? request.task.bars : 0;
      const candidates = await this._engines.engine().generate(req, {
        signal: controller.signal,
        onProgress: (p) => {
          if (!controller.signal.aborted) {
            progress?.push({
              done: p.candidate * perCandidate + p.bars,
              total: Math.max(1, c.candidates * perCandidate),
              message: `candidate ${p.candidate + 1}/${c.candidates}: ${p.phase ?? 'decode'}, ${p.bars} bar(s)`,
            });
          }
        },
      });
      if (controller.signal.aborted) {
        throw new CancellationError();
      }
      progress?.flush();
      (background ? log.debug : log.info).call(log, `${options.origin ?? 'run'} #${number}: ${candidates.length} candidate(s) in ${Date.now() - started} ms`);
      const result = candidates.map((candidate) => this._withEdit(request, candidate, options.edit));
      if (!background) {
        this._fire('generated');
      }
      return result;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      progress?.dispose();
      if (this._run.value === run) {
        // Ended, not stopped: clear the slot without aborting.
        run.dispose = () => undefined;
        this._run.clear();
      }
    }
  }

  /** A run's candidate with its planned ABC edit (when the source is ABC text and the text can take it; else logged). */
  private _withEdit(request: GenerationRequest, candidate: Omit<GenerationCandidate, 'source' | 'task'>, editOptions?: ContinuationOptions): GenerationCandidate {
    const source = request.source;
    const task = request.task;
    if (source.format !== 'abc' || source.text === undefined) {
      return { ...candidate, source, task };
    }
    try {
      const edit = planAbcEdit({ text: source.text, score: source.score, task: request.task, generated: candidate.score, newBars: candidate.newBars }, editOptions);
      return { ...candidate, source, task, abc: { edit, notation: notationOf(source.text, source.score, edit) } };
    } catch (e) {
      this._log.warn(`the ABC of a candidate could not be planned: ${e instanceof Error ? e.message : String(e)}`);
      return { ...candidate, source, task };
    }
  }

  override dispose(): void {
    this._run.clear();
    super.dispose();
  }
}
