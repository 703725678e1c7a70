/**
 * The decode loop's state: the token layout, the KV cache and the attention plan, driving a
 * {@link StepModel} (the ONNX session in the worker, or a stand-in in tests). Appending
 * tokens runs one model step per chunk, writes the returned K/V rows into the cache at the
 * tokens' rows and returns the chunk's logits.
 *
 * Pure TypeScript: no vscode, no Node-only APIs, no onnxruntime (the worker supplies the model).
 */

import { KvCache } from './kvCache';
import { barStructure } from './structure';
import type { BarStructure } from './structure';
import { TokenLayout, buildStepPlan } from './plan';
import type { StepPlan, StepPlanOptions } from './plan';
import type { PromptCache } from './promptCache';

/** Shapes of a decode-step model. */
export interface ModelShape {
  layers: number;
  heads: number;
  headDim: number;
  vocabSize: number;
  /** Whether the model takes the SING inputs (`ssm_idx`, `ssm_row`, `ssm_mask`). */
  sing: boolean;
  /** Whether the model takes `sbar` (structural source bar per token; see `./structure`). */
  sourceBars?: boolean;
  /** Whether the model takes `toend` (bars left to the piece's end per token). */
  endEmbed?: boolean;
}

/** Inputs of one step, by meaning (the worker names them `tokens`, `past_k_0`, ...). */
export interface StepInputs {
  tokens: Int32Array;
  bar: Int32Array;
  pos: Int32Array;
  tpos: Int32Array;
  /** Structural source bar per token (models with {@link ModelShape.sourceBars}). */
  sbar?: Int32Array;
  /** Bars left to the end per token (models with {@link ModelShape.endEmbed}). */
  toend?: Int32Array;
  cache: KvCache;
  plan: StepPlan;
  /**
   * The cache row the new tokens' K/V go to (rows `row .. row + S - 1`). A model may write them
   * there itself (then its outputs say {@link StepOutputs.inCache}); the caller writes them otherwise.
   */
  row?: number;
}

/** Outputs of one step. */
export interface StepOutputs {
  /** `S x vocabSize` logits. */
  logits: Float32Array;
  /** Per layer, `S x heads x headDim` keys / values of the new tokens. */
  newK: Float32Array[];
  newV: Float32Array[];
  /** True when the model wrote the new K/V rows into the cache at {@link StepInputs.row} itself. */
  inCache?: boolean;
}

/** A decode-step model. */
export interface StepModel {
  readonly shape: ModelShape;
  run(inputs: StepInputs): Promise<StepOutputs>;
}

/** Options of {@link Decoder}. */
export interface DecoderOptions {
  plan: StepPlanOptions;
  /** Initial cache rows (grows by doubling). */
  capacity?: number;
  /** Most tokens per model step when appending many (prefill, rescoring). Default 256. */
  chunk?: number;
  /** Called before each model step; throw to stop (cancellation). */
  beforeStep?: () => void;
  /** The piece's bar structure (source bars, bars to the end); default: none known. */
  structure?: BarStructure;
  /**
   * K/V rows of earlier prompts to reuse (`BatchDecoder` only: a prompt's first append takes the
   * rows of its longest cached prefix; see `./promptCache`).
   */
  promptCache?: PromptCache;
  /**
   * A cache to decode into instead of a new one (`BatchDecoder` only; e.g. the worker's, reused
   * by one request after another): its rows are overwritten and it grows as needed.
   */
  cache?: KvCache;
}

/** Running totals, for the benchmark. */
export interface DecoderStats {
  steps: number;
  tokens: number;
  /** Sum over steps of the keys the plan let the step see (all layers). */
  keys: number;
  /** Sum over steps of the summary rows the SING head gathered. */
  singKeys: number;
}

/** Token layout + KV cache + plan for one piece being decoded. */
export class Decoder {
  readonly layout: TokenLayout;
  readonly cache: KvCache;
  readonly stats: DecoderStats = { steps: 0, tokens: 0, keys: 0, singKeys: 0 };
  private readonly _model: StepModel;
  private _plan: StepPlanOptions;
  private readonly _chunk: number;
  private readonly _beforeStep?: () => void;
  private readonly _structure: BarStructure;

  constructor(model: StepModel, options: DecoderOptions) {
    this._model = model;
    this._plan = options.plan;
    this._chunk = Math.max(1, Math.floor(options.chunk ?? 256));
    this._beforeStep = options.beforeStep;
    this._structure = options.structure ?? barStructure(undefined, 0, false);
    this.layout = new TokenLayout();
    const s = model.shape;
    this.cache = new KvCache(s.layers, s.heads, s.headDim, options.capacity ?? 256);
  }

  /** Tokens decoded so far. */
  get length(): number {
    return this.layout.length;
  }

  /** Replaces the plan options (e.g. dense vs structured in the benchmark). */
  setPlan(plan: StepPlanOptions): void {
    this._plan = plan;
  }

  /** Forgets tokens from n on; their cache rows are simply overwritten later. */
  truncate(n: number): void {
    this.layout.truncate(n);
  }

  /**
   * Appends tokens (with their bar and pos), running the model in chunks. `onChunk` receives
   * each chunk's logits (`S x V`) and its first token index. Returns the last chunk's logits.
   */
  async append(
    ids: ArrayLike<number>,
    bars: ArrayLike<number>,
    pos: ArrayLike<number>,
    onChunk?: (logits: Float32Array, first: number, count: number) => void,
  ): Promise<Float32Array> {
    let last: Float32Array = new Float32Array(0);
    for (let a = 0; a < ids.length; a += this._chunk) {
      const count = Math.min(this._chunk, ids.length - a);
      const past = this.layout.length;
      for (let r = 0; r < count; r++) {
        this.layout.push(ids[a + r], bars[a + r], pos[a + r]);
      }
      last = await this._step(past, count);
      onChunk?.(last, past, count);
    }
    return last;
  }

  /** Appends one token; returns its logits row. */
  async appendOne(id: number, bar: number, pos: number): Promise<Float32Array> {
    const past = this.layout.length;
    this.layout.push(id, bar, pos);
    return this._step(past, 1);
  }

  private async _step(past: number, count: number): Promise<Float32Array> {
    this._beforeStep?.();
    const plan = buildStepPlan(this.layout, past, count, this._plan);
    this.cache.ensure(past + count, past);
    const tokens = Int32Array.from(this.layout.ids().subarray(past, past + count));
    const bar = Int32Array.from(this.layout.barArray().subarray(past, past + count));
    const pos = Int32Array.from(this.layout.posArray().subarray(past, past + count));
    const tpos = new Int32Array(count);
    for (let r = 0; r < count; r++) {
      tpos[r] = past + r;
    }
    const shape = this._model.shape;
    const sbar = shape.sourceBars ? bar.map((b) => this._structure.source(b)) : undefined;
    const toend = shape.endEmbed ? bar.map((b) => this._structure.toEnd(b)) : undefined;
    const out = await this._model.run({ tokens, bar, pos, tpos, sbar, toend, cache: this.cache, plan, row: past });
    const v = this._model.shape.vocabSize;
    if (out.logits.length !== count * v) {
      throw new Error(`The model returned ${out.logits.length} logits for ${count} token(s) of a ${v}-token vocabulary.`);
    }
    if (!out.inCache) {
      for (let l = 0; l < this.cache.layers; l++) {
        this.cache.write(l, past, out.newK[l], out.newV[l]);
      }
    }
    this.stats.steps++;
    this.stats.tokens += count;
    for (const lp of plan.layers) {
      this.stats.keys += lp.kidx.length;
    }
    this.stats.singKeys += plan.sing?.idx.length ?? 0;
    return out.logits;
  }
}
