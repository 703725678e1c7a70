/**
 * The request side of a view that shows one piece (the structure panel, a MIDI editor): it
 * answers `generate`, `insert`, `listModels`, `previewTemplate` and `pickTemplateFile` through the
 * generation service. The view's controls become the one generation request
 * ({@link requestFromParams}); the service holds the current run, so a new run (from this view,
 * another view or a command) stops the one going, and "Refrain: Cancel Generation" stops it too.
 *
 * No `vscode` import: the editor-specific parts come in through {@link SessionHost}.
 */

import type { ModelInfo, TemplateSpec } from '../../engine/types';
import type { GenerationCandidate, GenerationRequest, GenerationSource } from '../../generation/request';
import type { GenerationService } from '../../generation/service';
import type { Logger } from '../../platform/logger';
import { isCancellationError } from '../../platform/cancellation';
import type { GenerationSettings } from '../../generation/config';
import { Disposable, toDisposable } from '../../platform/disposable';
import { RefrainError } from '../../platform/errors';
import type { CandidateView, GenerateParams, ModelChoice, NotificationMap, NotificationMethod, RequestResult, TemplateChoice } from '../../protocol/messages';
import { ssmPayload } from '../../protocol/ssmPayload';
import type { BarFeature } from '../../structure/ssm';
import { candidateView } from './payloads';
import { templatePreview, templateSpecOf } from './templates';
import type { TemplateContext } from './templates';
import type { RequestContext, RequestHandlers } from './webviewChannel';

/** What a session needs of the generation service. */
export type SessionGenerator = Pick<GenerationService, 'generate' | 'listModels' | 'inserted'>;

/** What a session needs from the view that owns it. */
export interface SessionHost {
  /** The piece on screen now, or undefined when there is none. */
  current(): { readonly source: GenerationSource; readonly feature: BarFeature } | undefined;
  /** Inserts a candidate into its document; resolves with a short confirmation. */
  insert(candidate: GenerationCandidate): Promise<string>;
  /** The generation settings the controls do not carry. */
  settings(): GenerationSettings;
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

/**
 * The generation request of a view's controls on its piece: the controls as sent, and the
 * settings for what the controls leave out (top-k, template-related bars).
 */
export function requestFromParams(params: GenerateParams, source: GenerationSource, template: TemplateSpec | undefined, settings: GenerationSettings): GenerationRequest {
  return {
    source,
    task: { kind: 'continue', bars: params.bars },
    template,
    ...(params.modelId !== '' ? { modelId: params.modelId } : {}),
    controls: {
      candidates: params.candidates,
      temperature: params.temperature,
      topP: params.topP,
      topK: params.topK ?? settings.topK,
      seed: params.seed,
      relatedOffsets: [...params.relatedOffsets],
      relatedFromTemplate: params.relatedFromTemplate ?? settings.relatedFromTemplate,
      scales: params.layerWindows.map((w) => (w > 0 ? w : 'full')),
      variation: params.variation,
    },
  };
}

/** A model as the picker offers it. */
export function modelChoice(m: ModelInfo): ModelChoice {
  return {
    id: m.id,
    label: m.title,
    positionalEncoding: m.pe,
    layers: m.layers,
    // Layers and encoding have their own fields: the description says only what they do not.
    description: `attention ${[...new Set(m.plans)].join('/')}${m.sing ? ' + SING head' : ''}`,
    ...(m.corpusLt !== undefined ? { corpusLt: Float32Array.from(m.corpusLt, (v) => (v === null ? Number.NaN : v)) } : {}),
    ...(m.followsForm !== undefined && Number.isFinite(m.followsForm) ? { followsForm: Math.max(0, Math.min(1, m.followsForm)) } : {}),
    ...(m.experimental ? { experimental: true } : {}),
  };
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
  private readonly _closed = new AbortController();
  private _candidates = new Map<string, GenerationCandidate>();
  private _shown: ShownCandidates | undefined;
  /** Files the user chose in the file picker: the only files a `'file'` template may read. */
  private readonly _pickedFiles = new Set<string>();
  private _runs = 0;

  constructor(
    private readonly _service: SessionGenerator,
    private readonly _host: SessionHost,
    private readonly _log: Logger,
    /** For the log: `'panel'` or `'midi'`. */
    private readonly _origin = 'panel',
  ) {
    super();
    // A view that closes stops its run.
    this._register(toDisposable(() => this._closed.abort()));
  }

  /** The request handlers to give the view's channel. */
  handlers(): RequestHandlers {
    return {
      generate: (params, context) => this._generate(params, context),
      insert: (params) => this._insert(params.candidateId),
      listModels: async () => ({ models: (await this._service.listModels()).map(modelChoice) }),
      previewTemplate: (params) => this._preview(params.template, params.bars),
      pickTemplateFile: async () => {
        const picked = await this._host.pickFile();
        if (picked) {
          this._pickedFiles.add(picked.uri);
        }
        return picked ?? {};
      },
    };
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
    const load = this._host.load;
    return { score: this._host.current()?.source.score, readFile: (uri) => this._readPicked(uri), ...(load ? { load } : {}) };
  }

  /** Reads a template file, but only one the user picked in this view (the webview names it by URI). */
  private async _readPicked(uri: string): ReturnType<TemplateContext['readFile']> {
    if (!this._pickedFiles.has(uri)) {
      throw new RefrainError('not-found', 'This template file was not chosen in this view: pick it again with "Choose file…".');
    }
    return this._host.readFile(uri);
  }

  private async _generate(params: GenerateParams, context: RequestContext): Promise<RequestResult<'generate'>> {
    const current = this._host.current();
    if (!current) {
      throw new RefrainError('no-piece', 'Open an ABC tune or a MIDI file to continue it.');
    }
    const template = await templateSpecOf(params.template, this._templateContext());
    const request = requestFromParams(params, current.source, template.spec, this._host.settings());
    const requestId = context.id;
    const runNumber = ++this._runs;
    this._host.notify('generation', { running: true, requestId });
    try {
      const results = await this._service.generate(request, {
        // Stopped by the webview's cancel, by the view closing, by a newer run and by Cancel Generation.
        signal: AbortSignal.any([context.signal, this._closed.signal]),
        origin: this._origin,
        onProgress: (p) => this._host.notify('progress', { requestId, done: p.done, total: p.total, message: p.message }),
      });
      const views: CandidateView[] = [];
      const stored = new Map<string, GenerationCandidate>();
      results.forEach((candidate, k) => {
        const id = `${requestId}-${k + 1}`;
        stored.set(id, candidate);
        views.push(candidateView(id, `Candidate ${k + 1} (seed ${candidate.seed})`, candidate, current.feature));
      });
      this._candidates = stored;
      this._shown = { requestId, source: current.source, views };
      this._host.remember('candidates', { requestId, candidates: views });
      return { candidates: views };
    } catch (e) {
      if (isCancellationError(e)) {
        this._log.debug(`request ${requestId} cancelled`);
        throw new RefrainError('cancelled', 'Generation cancelled.');
      }
      throw e;
    } finally {
      // A newer run has announced itself already; only the latest run says "idle".
      if (runNumber === this._runs) {
        this._host.notify('generation', { running: false, requestId });
      }
    }
  }

  private async _insert(candidateId: string): Promise<RequestResult<'insert'>> {
    const candidate = this._candidates.get(candidateId);
    if (!candidate) {
      throw new RefrainError('not-found', 'That candidate is no longer available: generate again.');
    }
    const source = candidate.source;
    if (this._shown?.stale && source === this._shown.source) {
      throw new RefrainError('stale', this._shown.stale);
    }
    const current = this._host.current();
    if (!current || current.source.uri !== source.uri || current.source.tuneIndex !== source.tuneIndex) {
      throw new RefrainError('stale', STALE_OTHER_PIECE);
    }
    if (current.source.version !== source.version) {
      throw new RefrainError('stale', STALE_EDITED);
    }
    const message = await this._host.insert(candidate);
    this._service.inserted();
    this._log.info(`candidate ${candidateId}: ${candidate.newBars.to - candidate.newBars.from} new bar(s) into the ${source.format === 'abc' ? 'ABC' : 'MIDI'} document (${message})`);
    if (this._shown?.source === source) {
      this._markStale(STALE_INSERTED);
    }
    return { message };
  }

  private async _preview(choice: TemplateChoice, bars: number): Promise<RequestResult<'previewTemplate'>> {
    const piece = this._host.current()?.source.score;
    const template = await templateSpecOf(choice, this._templateContext());
    const ssm = templatePreview(template.spec, piece, bars);
    if (!ssm) {
      return { ssm: { bars: 0, size: 0, data: new Float32Array(0) }, label: template.label };
    }
    return { ssm: ssmPayload(ssm.data, ssm.size), label: template.label };
  }
}
