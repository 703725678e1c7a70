/**
 * The one generation request of Refrain. Every front (the commands, the inline provider, the
 * structure panel, the MIDI editor) describes what it wants as a {@link GenerationRequest}; the
 * service turns it into the engine's request with {@link engineRequest} and nothing else, so the
 * same piece, controls and seed give the same candidate from any front (and from `refrain
 * compose`, which builds the same engine request from its flags).
 *
 * Templates travel as the engine's `TemplateSpec` and are resolved once, in the engine
 * (`engine/template.ts`).
 *
 * Pure TypeScript: no vscode.
 */

import { DEFAULT_VARIATION } from '../engine/limits';
import type { Candidate, GenerateRequest, GenerationTask, TemplateSpec } from '../engine/types';
import type { Score } from '../music/score';
import type { TextEdit } from '../music/splice';
import type { GenerationSettings } from './config';

/** The piece a generation works on. */
export interface GenerationSource {
  readonly format: 'abc' | 'midi';
  /** The document's URI (`uri.toString()`). */
  readonly uri: string;
  /**
   * The document version the score was read from (text document version; for a MIDI
   * document, its edit count). Insert refuses a newer version.
   */
  readonly version: number;
  /** 0-based tune position in an ABC file (0 for MIDI). */
  readonly tuneIndex: number;
  readonly score: Score;
  /** ABC: the document's whole text at {@link version} (the score was read from it, with source positions). */
  readonly text?: string;
}

/**
 * The controls of one run: the generation settings (less the default bar count), as a front
 * changed them (the panel's controls, a command's arguments), with the seed drawn and a variation.
 */
export type GenerationControls = Omit<GenerationSettings, 'bars' | 'seed'> & {
  readonly seed: number;
  /** 0 = bars the template marks the same come back as written, 1 = free. */
  readonly variation: number;
};

/** One generation, from any front. */
export interface GenerationRequest {
  readonly source: GenerationSource;
  readonly task: GenerationTask;
  /** The target structure; undefined = free (no template). */
  readonly template: TemplateSpec | undefined;
  readonly controls: GenerationControls;
  /** The model; undefined = the one in the settings, else the default. */
  readonly modelId?: string;
}

/** One candidate, as every front receives it. */
export interface GenerationCandidate extends Candidate {
  /** The piece it was made from, and what was asked of it. */
  readonly source: GenerationSource;
  readonly task: GenerationTask;
  /**
   * ABC sources: the edit Insert applies to `source.text` (the preservation rules and repeat
   * folding of `music/splice.ts`), and a small tune of the new bars for notation.
   */
  readonly abc?: { readonly edit: TextEdit; readonly notation: string };
}

/** A fresh seed (logged, so a run can be reproduced). */
export function freshSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}

/** The controls of the settings, with the given seed (else the settings' own, else a fresh one). */
export function controlsOf(settings: GenerationSettings, seed?: number): GenerationControls {
  return {
    candidates: settings.candidates,
    temperature: settings.temperature,
    topP: settings.topP,
    topK: settings.topK,
    seed: seed ?? settings.seed ?? freshSeed(),
    relatedOffsets: [...settings.relatedOffsets],
    relatedFromTemplate: settings.relatedFromTemplate,
    scales: [...settings.scales],
    variation: DEFAULT_VARIATION,
  };
}

/** A request from the settings alone (the commands' and the inline provider's): the settings' controls on a source. */
export function settingsRequest(source: GenerationSource, task: GenerationTask, template: TemplateSpec | undefined, settings: GenerationSettings): GenerationRequest {
  return { source, task, template, controls: controlsOf(settings) };
}

/** The engine request of a generation request, for model `model`: the only place one is built from a front's request. */
export function engineRequest(req: GenerationRequest, model: string): GenerateRequest {
  const c = req.controls;
  return {
    model,
    prompt: req.source.score,
    task: req.task,
    controls: {
      relatedOffsets: [...c.relatedOffsets],
      relatedFromTemplate: c.relatedFromTemplate,
      scales: [...c.scales],
      template: req.template,
      variation: c.variation,
    },
    sampling: { temperature: c.temperature, topP: c.topP, topK: c.topK, seed: c.seed },
    candidates: c.candidates,
    target: req.source.format === 'abc' ? 'abc-folk' : 'midi',
  };
}

/** What a run does, in words: "4 bars", "bars 3-4", "form A8 B8". */
export function describeTask(task: GenerationTask): string {
  switch (task.kind) {
    case 'continue':
      return `${task.bars} bar(s)`;
    case 'infill':
      return task.toBar - task.fromBar === 1 ? `bar ${task.fromBar + 1}` : `bars ${task.fromBar + 1}-${task.toBar}`;
    case 'fromForm':
      return `form ${task.form}`;
    default: {
      const never: never = task;
      return String(never);
    }
  }
}
