/**
 * The seam between Refrain's views (structure panel, MIDI editor) and the generation engine.
 * The views build a {@link GenerationRequest} from the panel's controls and the piece on
 * screen, call {@link GenerationService.generate}, show the candidates, and on "Insert" call
 * {@link GenerationService.insert}. The extension supplies the implementation (the engine
 * client plus the splicer); until one exists, {@link UnavailableGenerationService} answers every
 * call with a clear "no model available" error.
 *
 * No `vscode` import: documents are named by URI strings, so the views' logic can be tested in
 * plain Node.
 */

import type { Score } from '../music/score';
import type { Ssm } from '../structure/ssm';

/** The piece a generation continues. */
export interface GenerationSource {
  readonly format: 'abc' | 'midi';
  /** The document's URI (`uri.toString()`). */
  readonly uri: string;
  /**
   * The document version the score was read from (text document version; for a MIDI
   * document, its edit count). An implementation may refuse to insert into a newer version.
   */
  readonly version: number;
  /** 0-based tune position in an ABC file (0 for MIDI). */
  readonly tuneIndex: number;
  readonly score: Score;
  /** ABC: the document's whole text at {@link version} (the score was read from it). */
  readonly text?: string;
}

/**
 * The target structure, resolved from the panel's choice: the piece's own SSM, another file's,
 * a form string's template, or cells painted on the heatmap. `ssm` covers the bars it was
 * made from (the piece, the other file, the form, or the painted grid); bars beyond it are the
 * engine's to extend.
 */
export type ResolvedTemplate =
  | { readonly kind: 'none' }
  | {
      readonly kind: 'ssm';
      readonly origin: 'piece' | 'file' | 'form' | 'painted';
      readonly ssm: Ssm;
      readonly label: string;
      /** The form string, for `origin: 'form'` (the engine reads it itself). */
      readonly form?: string;
    };

/** Everything one generation needs. */
export interface GenerationRequest {
  readonly source: GenerationSource;
  /** Bars to add after the piece's last bar. */
  readonly bars: number;
  /** How many candidates to return. */
  readonly candidates: number;
  readonly sampling: { readonly temperature: number; readonly topP: number; readonly seed: number };
  readonly structure: {
    /** Museformer's related-bar offsets (fine-grained attention), ascending. */
    readonly relatedOffsets: readonly number[];
    /** PerceiverS-style window per layer in tokens, 0 = the whole context. */
    readonly layerWindows: readonly number[];
    /** 0 = bars the template marks the same come back as written, 1 = free (engine `controls.variation`). */
    readonly variation: number;
  };
  /** Chosen model id; undefined lets the implementation choose. */
  readonly modelId?: string;
  readonly template: ResolvedTemplate;
}

/** Progress of a generation: `done` of `total` steps (tokens or bars), with an optional note. */
export interface GenerationProgress {
  readonly done: number;
  readonly total: number;
  readonly message?: string;
}

/** One generated continuation. */
export interface GeneratedCandidate {
  /** The whole piece with the new bars appended: its last `newBars` bars are new. */
  readonly score: Score;
  readonly newBars: number;
  /** Named figures shown with the candidate (e.g. similarity error, SSM distance, log-prob). */
  readonly metrics: Readonly<Record<string, number>>;
  /** A short name; the views number candidates when absent. */
  readonly label?: string;
  /** Form compliance of the new bars (0..1), when a template was followed. */
  readonly followsForm?: number;
  /** Similarity error against the training corpus curve. */
  readonly se?: number;
  /** ABC: the exact text Insert writes, and a small tune of the new bars for notation. */
  readonly abc?: { readonly insert: string; readonly notation: string };
}

/** A model the picker offers. */
export interface ModelInfo {
  readonly id: string;
  readonly label: string;
  readonly positionalEncoding: string;
  readonly layers: number;
  readonly description?: string;
  /** The training corpus L_t (index t = interval in bars), when the model card has it. */
  readonly corpusLt?: ArrayLike<number>;
  /** Measured form compliance at default settings (card `evaluation.followsForm`), 0..1. */
  readonly followsForm?: number;
  /** A research variant. */
  readonly experimental?: boolean;
}

/** Where an inserted candidate goes. */
export type InsertTarget =
  /** An ABC text document: apply the splice as one `WorkspaceEdit` (one undo step). */
  | { readonly kind: 'text'; readonly source: GenerationSource }
  /**
   * A MIDI custom document: compute the spliced score and hand it to `replace`, which records
   * it as one undoable edit labelled `label`.
   */
  | { readonly kind: 'score'; readonly source: GenerationSource; replace(next: Score, label: string): void };

/** What the views need from the engine. */
export interface GenerationService {
  /** The models installed; empty when there are none. */
  listModels(): Promise<readonly ModelInfo[]>;
  /**
   * Generates candidates. Must stop soon after `signal` aborts (rejecting with an error whose
   * name is `'AbortError'` or `'CancellationError'`), and may call `onProgress` often (the
   * views throttle it). Rejects with {@link GenerationUnavailableError} when no model can run.
   */
  generate(request: GenerationRequest, signal: AbortSignal, onProgress: (progress: GenerationProgress) => void): Promise<readonly GeneratedCandidate[]>;
  /** Splices a candidate into its document. Resolves with a short confirmation for the user. */
  insert(target: InsertTarget, candidate: GeneratedCandidate): Promise<{ readonly message: string }>;
}

/** Thrown when there is no model to generate with. */
export class GenerationUnavailableError extends Error {
  readonly code = 'no-model';
  constructor(message = 'No generation model is available: install or select a Refrain model to generate music.') {
    super(message);
    this.name = 'GenerationUnavailableError';
  }
}

/** The service used until an engine is wired in: it lists no model and refuses to generate. */
export class UnavailableGenerationService implements GenerationService {
  async listModels(): Promise<readonly ModelInfo[]> {
    return [];
  }

  async generate(): Promise<readonly GeneratedCandidate[]> {
    throw new GenerationUnavailableError();
  }

  async insert(): Promise<{ readonly message: string }> {
    throw new GenerationUnavailableError('Nothing to insert: no generation model is available.');
  }
}
