/**
 * The request side of a view that shows one piece (the structure panel, a MIDI editor): it
 * answers `generate`, `insert`, `listModels`, `previewTemplate` and `pickTemplateFile` through a
 * {@link GenerationService}. One generation runs at a time per view: a new one aborts the
 * one in flight (the newest request wins). Progress goes out at most {@link PROGRESS_HZ} times a
 * second.
 *
 * No `vscode` import: the editor-specific parts come in through {@link SessionHost}.
 */

import type { Logger } from '../platform/logger';
import { isCancellationError } from '../platform/cancellation';
import { Disposable, MutableDisposable, toDisposable } from '../platform/disposable';
import { PROGRESS_HZ } from '../protocol/messages';
import type { CandidateView, GenerateParams, ModelChoice, NotificationMap, NotificationMethod, RequestResult, TemplateChoice } from '../protocol/messages';
import { ssmPayload } from '../protocol/ssmPayload';
import { MusicInputError } from '../music/score';
import { Throttle } from '../protocol/throttle';
import type { BarFeature } from '../structure/ssm';
import type { GeneratedCandidate, GenerationRequest, GenerationService, GenerationSource, InsertTarget } from './generationService';
import { candidateView } from './payloads';
import { resolveTemplate } from './templates';
import type { TemplateContext } from './templates';
import { RequestError } from './webviewChannel';
import type { RequestContext, RequestHandlers } from './webviewChannel';

/** What a session needs from the view that owns it. */
export interface SessionHost {
  /** The piece on screen now, or undefined when there is none. */
  current(): { readonly source: GenerationSource; readonly feature: BarFeature } | undefined;
  /** Where a candidate for `source` is inserted. */
  insertTarget(source: GenerationSource): InsertTarget;
  /** Reads another file for a template. */
  readFile: TemplateContext['readFile'];
  /** Parses a template file's bytes off the extension host's thread (default: here). */
  load?: TemplateContext['load'];
  /** Lets the user pick a file for a template; undefined when they cancel. */
  pickFile(): Promise<{ uri: string; name: string } | undefined>;
  /** Posts a notification to the view. */
  notify<M extends NotificationMethod>(method: M, params: NotificationMap[M]): void;
  /** Keeps a notification for replay without posting it. */
  remember<M extends NotificationMethod>(method: M, params: NotificationMap[M]): void;
}

interface StoredCandidate {
  readonly source: GenerationSource;
  readonly candidate: GeneratedCandidate;
}

/** The candidates of the latest run as the view was told them, to re-send them marked stale. */
interface ShownCandidates {
  readonly requestId: number;
  readonly source: GenerationSource;
  readonly views: readonly CandidateView[];
  stale?: string;
}

/** Why candidates can no longer be inserted after an edit of their piece. */
export const STALE_EDITED = 'The tune has changed since these candidates were generated: generate again to insert.';
/** Why candidates can no longer be inserted after one of them was inserted. */
export const STALE_INSERTED = 'One of these candidates was inserted, so the piece has changed: generate again for new ones.';
/** Why candidates can no longer be inserted when another piece is on show. */
export const STALE_OTHER_PIECE = 'These candidates belong to another piece: show that piece again, or generate for this one.';

/** Generation requests of one view. */
export class GenerationSession extends Disposable {
  private readonly _run = this._register(new MutableDisposable());
  private _candidates = new Map<string, StoredCandidate>();
  private _shown: ShownCandidates | undefined;
  /** Files the user chose in the file picker: the only files a `'file'` template may read. */
  private readonly _pickedFiles = new Set<string>();
  private _runs = 0;

  constructor(
    private readonly _service: GenerationService,
    private readonly _host: SessionHost,
    private readonly _log: Logger,
  ) {
    super();
  }

  /** The request handlers to give the view's channel. */
  handlers(): RequestHandlers {
    return {
      generate: (params, context) => this._generate(params, context),
      insert: (params) => this._insert(params.candidateId),
      listModels: () => this._listModels(),
      previewTemplate: (params) => this._preview(params.template),
      pickTemplateFile: async () => {
        const picked = await this._host.pickFile();
        if (picked) {
          this._pickedFiles.add(picked.uri);
        }
        return picked ?? {};
      },
    };
  }

  /** Whether a generation is running. */
  get isRunning(): boolean {
    return this._run.value !== undefined;
  }

  /** Aborts the running generation, if any. */
  cancel(): void {
    this._run.clear();
  }

  /**
   * The view shows another state of its piece (an edit, an insert, another tune or none): the
   * candidates made from an older text are marked stale, and the view is told so. Insert refuses
   * stale candidates.
   */
  pieceChanged(current: GenerationSource | undefined): void {
    const shown = this._shown;
    if (!shown || shown.stale) {
      return;
    }
    const src = shown.source;
    if (current && current.uri === src.uri && current.tuneIndex === src.tuneIndex && current.version === src.version) {
      return;
    }
    const sameTune = current !== undefined && current.uri === src.uri && current.tuneIndex === src.tuneIndex;
    this._markStale(sameTune || !current ? STALE_EDITED : STALE_OTHER_PIECE);
  }

  private _markStale(reason: string): void {
    const shown = this._shown;
    if (!shown || shown.stale) {
      return;
    }
    shown.stale = reason;
    this._host.notify('candidates', { requestId: shown.requestId, candidates: shown.views, stale: reason });
  }

  private _templateContext(): TemplateContext {
    const current = this._host.current();
    const load = this._host.load;
    return { score: current?.source.score, feature: current?.feature ?? 'jaccard', readFile: (uri) => this._readPicked(uri), ...(load ? { load } : {}) };
  }

  /** Reads a template file, but only one the user picked in this view (the webview names it by URI). */
  private async _readPicked(uri: string): ReturnType<TemplateContext['readFile']> {
    if (!this._pickedFiles.has(uri)) {
      throw new MusicInputError('template-file', 'This template file was not chosen in this view: pick it again with "Choose file…".');
    }
    return this._host.readFile(uri);
  }

  private async _generate(params: GenerateParams, context: RequestContext): Promise<RequestResult<'generate'>> {
    const current = this._host.current();
    if (!current) {
      throw new RequestError('no-piece', 'Open an ABC tune or a MIDI file to continue it.');
    }
    const template = await resolveTemplate(params.template, this._templateContext());
    if (context.signal.aborted) {
      throw new RequestError('cancelled', 'Cancelled.');
    }
    // This run's signal aborts on the webview's cancel, on a newer run, and on disposal.
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    context.signal.addEventListener('abort', onAbort, { once: true });
    const requestId = context.id;
    const progress = new Throttle<{ done: number; total: number; message?: string }>(
      (p) => this._host.notify('progress', { requestId, done: p.done, total: p.total, ...(p.message !== undefined ? { message: p.message } : {}) }),
      1000 / PROGRESS_HZ,
    );
    const run = toDisposable(() => {
      controller.abort();
      progress.dispose();
    });
    this._run.value = run;
    const runNumber = ++this._runs;
    this._host.notify('generation', { running: true, requestId });
    const request: GenerationRequest = {
      source: current.source,
      bars: params.bars,
      candidates: params.candidates,
      sampling: { temperature: params.temperature, topP: params.topP, seed: params.seed },
      structure: { relatedOffsets: params.relatedOffsets, layerWindows: params.layerWindows, variation: params.variation },
      ...(params.modelId !== '' ? { modelId: params.modelId } : {}),
      template,
    };
    const started = Date.now();
    try {
      const results = await this._service.generate(request, controller.signal, (p) => {
        if (!controller.signal.aborted && Number.isFinite(p.done) && Number.isFinite(p.total)) {
          progress.push(p);
        }
      });
      if (controller.signal.aborted) {
        throw new RequestError('cancelled', 'Cancelled.');
      }
      progress.flush();
      const views: CandidateView[] = [];
      const stored = new Map<string, StoredCandidate>();
      results.forEach((candidate, k) => {
        const id = `${requestId}-${k + 1}`;
        stored.set(id, { source: current.source, candidate });
        views.push(candidateView(id, candidate.label ?? `Candidate ${k + 1}`, candidate, current.feature));
      });
      this._candidates = stored;
      this._shown = { requestId, source: current.source, views };
      this._host.remember('candidates', { requestId, candidates: views });
      this._log.info(`[generate] ${views.length} candidate(s) of ${params.bars} bar(s) in ${Date.now() - started} ms`);
      return { candidates: views };
    } catch (e) {
      if (isCancellationError(e) || controller.signal.aborted) {
        this._log.debug(`[generate] request ${requestId} cancelled`);
        throw new RequestError('cancelled', 'Generation cancelled.');
      }
      throw e;
    } finally {
      context.signal.removeEventListener('abort', onAbort);
      progress.dispose();
      if (this._run.value === run) {
        this._run.value = undefined;
      }
      // A newer run has announced itself already; only the latest run says "idle".
      if (runNumber === this._runs) {
        this._host.notify('generation', { running: false, requestId });
      }
    }
  }

  private async _insert(candidateId: string): Promise<RequestResult<'insert'>> {
    const stored = this._candidates.get(candidateId);
    if (!stored) {
      throw new RequestError('not-found', 'That candidate is no longer available: generate again.');
    }
    if (this._shown?.stale && stored.source === this._shown.source) {
      throw new RequestError('stale', this._shown.stale);
    }
    const current = this._host.current();
    if (!current || current.source.uri !== stored.source.uri || current.source.tuneIndex !== stored.source.tuneIndex) {
      throw new RequestError('stale', 'The candidate belongs to another piece: show that piece again, or generate for this one.');
    }
    if (current.source.version !== stored.source.version) {
      throw new RequestError('stale', 'The piece has changed since these candidates were generated: generate again to insert.');
    }
    const result = await this._service.insert(this._host.insertTarget(stored.source), stored.candidate);
    this._log.info(`[insert] candidate ${candidateId}: ${stored.candidate.newBars} new bar(s) into the ${stored.source.format === 'abc' ? 'ABC' : 'MIDI'} document (${result.message})`);
    if (this._shown?.source === stored.source) {
      this._markStale(STALE_INSERTED);
    }
    return { message: result.message };
  }

  private async _listModels(): Promise<RequestResult<'listModels'>> {
    const models = await this._service.listModels();
    const choices: ModelChoice[] = models.map((m) => ({
      id: m.id,
      label: m.label,
      positionalEncoding: m.positionalEncoding,
      layers: m.layers,
      ...(m.description !== undefined ? { description: m.description } : {}),
      ...(m.corpusLt !== undefined ? { corpusLt: Float32Array.from(m.corpusLt) } : {}),
      ...(m.followsForm !== undefined && Number.isFinite(m.followsForm) ? { followsForm: Math.max(0, Math.min(1, m.followsForm)) } : {}),
      ...(m.experimental ? { experimental: true } : {}),
    }));
    return { models: choices };
  }

  private async _preview(choice: TemplateChoice): Promise<RequestResult<'previewTemplate'>> {
    const template = await resolveTemplate(choice, this._templateContext());
    if (template.kind === 'none') {
      return { ssm: { bars: 0, size: 0, data: new Float32Array(0) }, label: 'no template' };
    }
    return { ssm: ssmPayload(template.ssm.data, template.ssm.size), label: template.label };
  }
}
