/**
 * Public API of the generation engine: what the extension, the webview host and the CLI
 * send to the engine and get back. Pure types (no runtime code), so any layer may import
 * them with `import type`.
 *
 * Conventions used throughout:
 * - Bar indices are 0-based, in performed order (the `Score.bars` order), and ranges are
 *   half-open: `{ from: 4, to: 8 }` is bars 4, 5, 6 and 7 (bars 5..8 for a person).
 * - A Score crosses the worker boundary by structured clone: keep it plain data.
 */

import type { Logger } from '../platform/logger';
import type { Score } from '../music/score';

/** A per-layer context window (PerceiverS scale): the whole piece, or the last N tokens. */
export type LayerScale = 'full' | number;

/** Where the template SSM (SING head and structure-derived related bars) comes from. */
export type TemplateSpec =
  /**
   * The prompt piece's own bar SSM. This, `score` and `matrix` are sized to the piece being made
   * by one rule (`template.ts` `fitTemplate`): bars past the SSM take the model's corpus
   * background, or (a model without a corpus curve) repeat its pattern.
   */
  | { kind: 'piece' }
  /** A form string such as `'A8 A8 B8 A8'` or POP909-style `'i4A4B8A4'` (see `structure/form.ts`). */
  | { kind: 'form'; form: string }
  /** The bar SSM of another score (Museformer note-set Jaccard). */
  | { kind: 'score'; score: Score }
  /** An explicit `size` x `size` matrix, row-major, values in [0, 1] (e.g. painted in the panel). */
  | { kind: 'matrix'; size: number; data: number[] };

/** How the model should respect structure while it generates. */
export interface StructureControls {
  /**
   * Museformer related-bar offsets: a new token of bar i sees every token of bars i - o
   * for these o, and only the summary token of the other earlier bars. `[]` means summaries
   * only. Use `ModelInfo.trainedOffsets` as the default.
   */
  relatedOffsets: number[];
  /**
   * Structure-derived related bars: instead of fixed offsets, bar i sees in full the
   * earlier bars with the highest template similarity to it (as many as
   * `relatedCount`, default `relatedOffsets.length`, at least 1).
   */
  relatedFromTemplate?: boolean;
  /** With `relatedFromTemplate`: how many earlier bars each bar sees in full. */
  relatedCount?: number;
  /**
   * Per-layer window, layer 0 first. `[]` uses each layer's first trained window; a list
   * shorter than the model's layers repeats its last entry. `'full'` (no window) is always
   * allowed; a number is the last N tokens (header tokens stay visible).
   */
  scales: LayerScale[];
  /** Template SSM. Default: the form of a `fromForm` task, else `{ kind: 'piece' }`. */
  template?: TemplateSpec;
  /**
   * Coarse horizon in bars: summary tokens of only the last N bars are attended to (related bars
   * are always seen in full). Default 64 (the models are trained on ~54-bar windows); 0 = all bars.
   */
  summaryHorizon?: number;
  /**
   * Variation (0..1): how freely a bar that the template marks as the same as an earlier bar
   * may differ from it. 0 = it comes back as written; 1 = no copy prior (the learned model alone).
   * Default `DEFAULT_VARIATION` in `engine/limits.ts`. Applies only with an explicit template
   * (or a `fromForm` task): without one there is nothing to copy from.
   */
  variation?: number;
  /**
   * Cadence: the last note of the piece lands on the key's final (tonic ending), for `abc-folk`.
   * Default true for `fromForm` and `continue` that is not open-ended; false leaves the ending to the model.
   */
  cadence?: boolean;
  /**
   * Mode lock: new notes stay in the key's mode, except pitch classes the prompt itself uses.
   * Default true for `abc-folk`.
   */
  modeLock?: boolean;
  /**
   * Research ablation (`refrain eval --report`): false feeds the SING template head no template
   * (every earlier bar weighs the same). Default true.
   */
  templateHead?: boolean;
  /**
   * Research ablation (`refrain eval --report`): false gives every token no structural source bar
   * (`sbar`), so the template-derived positions are off; the bars the template marks the same
   * are still attended in full. Default true.
   */
  templatePositions?: boolean;
  /**
   * Research ablation (`refrain eval --report`): false stops a model trained with structure-related
   * bars from also attending in full to the earlier bars the template marks the same. Default true.
   */
  templateRelated?: boolean;
}

/** Sampling settings. Same seed, same request, same model: same music. */
export interface SamplingOptions {
  /** Softmax temperature, > 0 (1 = the model's distribution; near 0 = greedy). */
  temperature: number;
  /** Keep only the k most likely tokens; 0 or absent = no limit. */
  topK?: number;
  /** Nucleus sampling: the smallest set of tokens whose probability reaches p; 1 or absent = no limit. */
  topP?: number;
  /** PRNG seed (a 32-bit integer). Candidate c uses seed + c. */
  seed: number;
}

/** What to generate. */
export type GenerationTask =
  /**
   * Append `bars` new bars after the prompt's last bar. `openEnded`: the piece goes on after
   * them (inline ghost text), so the model is not told where it ends and no cadence is forced.
   */
  | { kind: 'continue'; bars: number; openEnded?: boolean }
  /** Regenerate bars [fromBar, toBar) of the prompt, keeping the bars before and after. */
  | { kind: 'infill'; fromBar: number; toBar: number }
  /**
   * Generate a whole piece following a form string (bar count from the form); the prompt
   * gives the header (meter, key, tempo, tracks) and, if it has bars, the opening bars.
   */
  | { kind: 'fromForm'; form: string };

/** Output style. `'abc-folk'`: one monophonic voice on one track, pitch range of the tune +- an octave. */
export type GenerationTarget = 'abc-folk' | 'midi';

/** One generation request. */
export interface GenerateRequest {
  /** Model id (a folder name under the models directory, see {@link ModelInfo.id}). */
  model: string;
  /** The piece to continue or edit. */
  prompt: Score;
  task: GenerationTask;
  controls: StructureControls;
  sampling: SamplingOptions;
  /** How many candidates to return (1..`MAX_CANDIDATES` of `./limits`). */
  candidates: number;
  target: GenerationTarget;
  /**
   * Infill only: how many spans to sample before keeping the `candidates` best by the
   * log-likelihood of the bars after the span (default max(4, 2 x candidates), at most 32).
   */
  infillSamples?: number;
  /**
   * Decode only pool members `from .. from + count - 1` (candidate c with seed `sampling.seed + c`)
   * and return them (infill: the best `candidates` of them). The engine client sets it to split a
   * request's candidates over two engine threads and merges the parts; see `EngineOptions.parallel`.
   */
  poolPart?: { from: number; count: number };
}

/** Quality figures of a candidate (lower is better for both). */
export interface CandidateMetrics {
  /**
   * Similarity error: mean squared difference between the piece's similarity-by-interval
   * curve L_t and the model's training-corpus curve (absent when the model card has no curve).
   */
  se?: number;
  /** Distance between the piece's bar SSM and the template SSM (absent without a template). */
  templateDistance?: number;
  /** Infill only: log-likelihood of the kept bars after the span, given the candidate. */
  suffixLogLikelihood?: number;
  /**
   * Form compliance (0..1) of the new bars against the template: see `structure/compliance.ts`
   * (`followsForm`). Shown to writers as "follows the form: N%".
   */
  followsForm?: number;
}

/** One generated alternative. */
export interface Candidate {
  /** The whole piece with the new bars. */
  score: Score;
  /** The bars that are new (0-based, half-open). */
  newBars: { from: number; to: number };
  /** Tokens generated. */
  tokens: number;
  /** Sum of the model's natural-log probabilities (temperature 1) of the generated tokens. */
  logLikelihood: number;
  metrics: CandidateMetrics;
  /** The seed this candidate was sampled with (reproduce it alone with `candidates: 1`). */
  seed: number;
}

/** Progress of a running request (sent at most every few decode steps). */
export interface GenerateProgress {
  /** 0-based candidate being generated. */
  candidate: number;
  /** Bars finished in this candidate. */
  bars: number;
  /** Tokens generated in this candidate. */
  tokens: number;
  /** What the worker is doing. */
  phase?: 'load' | 'prefill' | 'decode' | 'rescore';
}

/** A model the engine can run (from `models/<id>/card.json`). */
export interface ModelInfo {
  id: string;
  /** Human-readable title (the card's `title`, else the id). */
  title: string;
  /** Positional encoding the model was trained with: rope, srope, ropepool, fstripe, none. */
  pe: string;
  /** Related-bar offsets used in training (the default for {@link StructureControls.relatedOffsets}). */
  trainedOffsets: number[];
  /** Per layer, the windows it was trained with. */
  trainedScales: LayerScale[][];
  /** Number of transformer layers. */
  layers: number;
  /** Whether a layer has a SING template head (then the template matters). */
  sing: boolean;
  /** Attention plan of each layer: `'fc'` (Museformer fine/coarse) or `'dense'`. */
  plans: string[];
  /** Vocabulary version (`src/tokens/vocab.ts` VOCAB_VERSION) or undefined for a foreign vocabulary. */
  vocabVersion: number | undefined;
  /** Whether the card carries the training corpus's L_t curve (needed for the SE metric). */
  hasCorpusCurve: boolean;
  /** That curve, index t = interval in bars (index 0 is 1; null where the corpus has no pair). */
  corpusLt?: (number | null)[];
  /** Parameters, when the card says. */
  parameters?: number;
  /** Measured form compliance of the model at default settings (card `evaluation.followsForm`), 0..1. */
  followsForm?: number;
  /** A research variant, labelled experimental in pickers. */
  experimental?: boolean;
  /** Absolute path of the ONNX file. */
  path: string;
  /** Size of the ONNX file in bytes. */
  bytes: number;
}

/** Execution provider choice. `'auto'` tries the GPU providers present and falls back to CPU. */
export type ExecutionProviderChoice = 'auto' | 'cpu' | 'webgpu' | 'cuda';

/** Options of the engine client. */
export interface EngineOptions {
  /** Folder holding `<id>/model.onnx` + `<id>/card.json` (the extension's `models/`). */
  modelsDir: string;
  /** More folders searched the same way (a user model path), after `modelsDir`. */
  extraModelDirs?: string[];
  executionProvider: ExecutionProviderChoice;
  /** Intra-op threads of the ONNX session (default: onnxruntime's own choice). */
  threads?: number;
  log?: Logger;
  /** Path of the bundled worker script (`dist/engineWorker.js`); default: next to the calling bundle. */
  workerPath?: string;
  /** How long to wait for the worker to acknowledge a cancellation before terminating it, ms (default 2000). */
  cancelGraceMs?: number;
  /**
   * Decode the candidates of a request in two engine threads, half in each (CPU only; default:
   * when the machine has four or more cores). Each thread decodes its half side by side in one
   * batch; candidate c has the tokens it has alone with seed + c either way.
   */
  parallel?: boolean;
}

/** Stable error codes of {@link EngineErrorLike}. */
export type EngineErrorCode =
  | 'model-not-found'
  | 'model-file'
  | 'model-card'
  | 'bad-request'
  | 'bad-feed'
  | 'runtime'
  | 'worker-exited'
  | 'cancelled';

/** Shape of the errors the engine throws (`EngineError` in `./errors`). */
export interface EngineErrorLike extends Error {
  readonly code: EngineErrorCode;
}

/**
 * The engine as the UI sees it; `EngineClient` (`./client`) implements it.
 * `generate` rejects with a cancellation error (see `platform/cancellation.isCancellationError`)
 * when the signal aborts; a cancelled request returns no partial candidates.
 */
export interface EngineApi {
  listModels(): Promise<ModelInfo[]>;
  generate(req: GenerateRequest, opts?: { signal?: AbortSignal; onProgress?: (p: GenerateProgress) => void }): Promise<Candidate[]>;
  dispose(): Promise<void>;
}
