import * as vscode from 'vscode';
import type { Candidate } from '../engine/types';
import { WALKTHROUGH_CONTEXT, markWalkthrough } from '../commands/walkthrough';
import { MusicInputError } from '../music/score';
import { planAbcContinuation, spliceScore } from '../music/splice';
import type { TextEdit } from '../music/splice';
import { candidateAbc } from '../panels/candidateAbc';
import { toTemplateSpec } from '../panels/templates';
import { readConfig } from '../platform/config';
import type { Logger } from '../platform/logger';
import type {
  GeneratedCandidate,
  GenerationProgress,
  GenerationRequest,
  GenerationService,
  InsertTarget,
  ModelInfo,
} from '../panels/generationService';
import type { EngineHost } from './engineHost';
import type { ParseHost } from './parseHost';

/**
 * Candidates carry the engine's own candidate so Insert knows exactly which bars are new, and for
 * ABC the very edit the card shows (applied as it is while the document is unchanged).
 */
interface EngineCandidate extends GeneratedCandidate {
  readonly engineCandidate: Candidate;
  readonly edit?: TextEdit;
}

/**
 * The structure panel's and MIDI editor's generation, backed by the engine worker: the panel's
 * controls become an engine request; Insert applies the candidate to its document as one edit
 * (one undo step), and only if the document is still the one the candidate was made from.
 */
export class EngineGenerationService implements GenerationService {
  constructor(
    private readonly _engine: EngineHost,
    private readonly _parser: ParseHost,
    private readonly _log: Logger,
  ) {}

  /** The installed models, the one the user chose (`refrain.model`, else the default) first: the panel starts with it. */
  async listModels(): Promise<readonly ModelInfo[]> {
    const models = [...(await this._engine.listModels())];
    const preferred = await this._engine.resolveModel().catch(() => undefined);
    if (preferred) {
      models.sort((a, b) => Number(b.id === preferred.id) - Number(a.id === preferred.id));
    }
    return models.map((m) => ({
      id: m.id,
      label: m.title,
      positionalEncoding: m.pe,
      layers: m.layers,
      // Layers and encoding have their own fields: the description says only what they do not.
      description: `attention ${[...new Set(m.plans)].join('/')}${m.sing ? ' + SING head' : ''}`,
      corpusLt: m.corpusLt?.map((v) => (v === null ? Number.NaN : v)),
      ...(m.followsForm !== undefined ? { followsForm: m.followsForm } : {}),
      ...(m.experimental ? { experimental: true } : {}),
    }));
  }

  async generate(request: GenerationRequest, signal: AbortSignal, onProgress: (progress: GenerationProgress) => void): Promise<readonly GeneratedCandidate[]> {
    const model = await this._engine.resolveModel(request.modelId);
    const g = readConfig().generation;
    const total = request.candidates * request.bars;
    const started = Date.now();
    const candidates = await this._engine.engine().generate(
      {
        model: model.id,
        prompt: request.source.score,
        task: { kind: 'continue', bars: request.bars },
        controls: {
          relatedOffsets: [...request.structure.relatedOffsets],
          relatedFromTemplate: g.relatedFromTemplate,
          scales: request.structure.layerWindows.map((w) => (w > 0 ? w : 'full')),
          template: toTemplateSpec(request.template),
          variation: request.structure.variation,
        },
        sampling: { temperature: request.sampling.temperature, topP: request.sampling.topP, topK: g.topK, seed: request.sampling.seed },
        candidates: request.candidates,
        target: request.source.format === 'abc' ? 'abc-folk' : 'midi',
      },
      {
        signal,
        onProgress: (p) => onProgress({ done: p.candidate * request.bars + p.bars, total, message: `candidate ${p.candidate + 1}: ${p.phase ?? 'decode'}` }),
      },
    );
    this._log.info(`[panel] ${candidates.length} candidate(s) of ${request.bars} bars with ${model.id}, seed ${request.sampling.seed}, in ${Date.now() - started} ms`);
    markWalkthrough(WALKTHROUGH_CONTEXT.generated);
    const source = request.source;
    return candidates.map((c, i): EngineCandidate => {
      const abc = source.format === 'abc' && source.text !== undefined ? this._abcOf(source.text, source.score, c) : undefined;
      return {
        score: c.score,
        newBars: c.newBars.to - c.newBars.from,
        label: `Candidate ${i + 1} (seed ${c.seed})`,
        metrics: {
          ...(c.metrics.followsForm !== undefined ? { 'follows the form': c.metrics.followsForm } : {}),
          ...(c.metrics.se !== undefined ? { 'similarity error': c.metrics.se } : {}),
          ...(c.metrics.templateDistance !== undefined ? { 'template distance': c.metrics.templateDistance } : {}),
          'log-likelihood': c.logLikelihood,
        },
        ...(c.metrics.followsForm !== undefined ? { followsForm: c.metrics.followsForm } : {}),
        ...(c.metrics.se !== undefined ? { se: c.metrics.se } : {}),
        ...(abc ? { abc: { insert: abc.insert, notation: abc.notation }, edit: abc.edit } : {}),
        engineCandidate: c,
      };
    });
  }

  /** The ABC a candidate writes (as Insert will), or undefined when it cannot be planned (logged). */
  private _abcOf(text: string, score: GenerationRequest['source']['score'], c: Candidate): ReturnType<typeof candidateAbc> | undefined {
    try {
      return candidateAbc(text, score, c.score, c.newBars);
    } catch (e) {
      this._log.warn(`[panel] the ABC of a candidate could not be planned: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
  }

  async insert(target: InsertTarget, candidate: GeneratedCandidate): Promise<{ readonly message: string }> {
    const result = await this._insert(target, candidate);
    markWalkthrough(WALKTHROUGH_CONTEXT.inserted);
    return result;
  }

  private async _insert(target: InsertTarget, candidate: GeneratedCandidate): Promise<{ readonly message: string }> {
    const span = spanOf(candidate);
    if (target.kind === 'score') {
      const next = spliceScore(target.source.score, candidate.score, span);
      target.replace(next, `Refrain: insert ${span.to - span.from} bars`);
      return { message: `Inserted ${span.to - span.from} bars.` };
    }
    const uri = vscode.Uri.parse(target.source.uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    if (doc.version !== target.source.version) {
      throw new MusicInputError('document-changed', 'The tune changed since these candidates were made, so nothing was inserted: generate again.');
    }
    const text = doc.getText();
    const planned = (candidate as Partial<EngineCandidate>).edit;
    if (planned && target.source.text === text) {
      // The document is the one the card's ABC was planned on: write exactly that text.
      const we = new vscode.WorkspaceEdit();
      we.replace(uri, new vscode.Range(doc.positionAt(planned.start), doc.positionAt(planned.end)), planned.newText);
      if (!(await vscode.workspace.applyEdit(we))) {
        throw new MusicInputError('edit-refused', 'VS Code refused the edit (is the file read-only?), so nothing was inserted.');
      }
      return { message: `Inserted ${span.to - span.from} bars${target.source.score.meta.title ? ` into ${target.source.score.meta.title}` : ''}.` };
    }
    const tune = (await this._parser.tuneByIndex(text, target.source.tuneIndex)).tune;
    if (!tune?.score.source) {
      throw new MusicInputError('tune-missing', 'The tune is no longer in the file, so nothing was inserted.');
    }
    if (doc.version !== target.source.version) {
      throw new MusicInputError('document-changed', 'The tune changed since these candidates were made, so nothing was inserted: generate again.');
    }
    const edit = planAbcContinuation(text, tune.score.source, tune.score, candidate.score, span);
    const we = new vscode.WorkspaceEdit();
    we.replace(uri, new vscode.Range(doc.positionAt(edit.start), doc.positionAt(edit.end)), edit.newText);
    if (!(await vscode.workspace.applyEdit(we))) {
      throw new MusicInputError('edit-refused', 'VS Code refused the edit (is the file read-only?), so nothing was inserted.');
    }
    return { message: `Inserted ${span.to - span.from} bars into ${tune.title ?? 'the tune'}.` };
  }
}

function spanOf(candidate: GeneratedCandidate): { from: number; to: number } {
  const own = (candidate as Partial<EngineCandidate>).engineCandidate;
  if (own) {
    return own.newBars;
  }
  const to = candidate.score.bars.length;
  return { from: to - candidate.newBars, to };
}
