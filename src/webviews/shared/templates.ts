/**
 * The panel's template choice as the engine's template spec: the same spec the commands and the
 * CLI send, resolved (sized to the piece, extended over the new bars) once, in the engine
 * (`engine/template.ts`). The preview draws what that rule gives.
 *
 * No `vscode` import: reading another file goes through the injected `readFile`.
 */

import { templateSsm } from '../../engine/template';
import type { TemplateSpec } from '../../engine/types';
import { loadPieces } from '../../music/load';
import type { LoadResult } from '../../music/load';
import type { Score } from '../../music/score';
import { MusicInputError, emptyScore } from '../../music/score';
import { RefrainError } from '../../platform/errors';
import type { TemplateChoice } from '../../protocol/messages';
import { formToString, parseForm } from '../../structure/form';
import { validateSsm } from '../../structure/ssm';
import type { Ssm } from '../../structure/ssm';

/** What resolving a template may need. */
export interface TemplateContext {
  /** The piece on screen (for `'piece'`). */
  readonly score: Score | undefined;
  /** Reads another file (for `'file'`): its bytes and a path whose extension names the format. */
  readFile(uri: string): Promise<{ bytes: Uint8Array; path: string; name: string }>;
  /** Parses the file's bytes (in the parse worker); default `loadPieces` on this thread. */
  load?(path: string, bytes: Uint8Array): Promise<LoadResult>;
}

/** A template spec with words for it. */
export interface LabelledTemplate {
  /** Undefined: no template (free continuation). */
  readonly spec: TemplateSpec | undefined;
  readonly label: string;
}

/**
 * The engine's template spec of a choice: `this piece` is `{ kind: 'piece' }`, a form its string,
 * another file that piece's score, a painting its matrix. Throws `RefrainError` or
 * `MusicInputError` with a user-readable message when the choice cannot be used.
 */
export async function templateSpecOf(choice: TemplateChoice, context: TemplateContext): Promise<LabelledTemplate> {
  switch (choice.kind) {
    case 'none':
      return { spec: undefined, label: 'no template' };
    case 'piece':
      if (!context.score) {
        throw new RefrainError('no-piece', 'There is no piece to take the structure from: open an ABC tune or a MIDI file.');
      }
      return { spec: { kind: 'piece' }, label: `this piece (${context.score.bars.length} bars)` };
    case 'file': {
      const file = await context.readFile(choice.uri);
      const result = context.load ? await context.load(file.path, file.bytes) : loadPieces(file.path, file.bytes);
      const piece = result.pieces[0];
      if (!piece) {
        const why = result.skipped[0]?.reason;
        throw new MusicInputError('no-readable-piece', `No readable piece in ${file.name}${why ? `: ${why}` : '.'}`);
      }
      return { spec: { kind: 'score', score: piece.score }, label: `${file.name}${piece.title ? ` (${piece.title})` : ''}, ${piece.score.bars.length} bars` };
    }
    case 'form': {
      const sections = parseForm(choice.form);
      return { spec: { kind: 'form', form: choice.form.trim() }, label: `form ${formToString(sections)}` };
    }
    case 'painted': {
      const ssm: Ssm = { size: choice.size, data: Float32Array.from(choice.data) };
      validateSsm(ssm);
      symmetrize(ssm);
      return { spec: { kind: 'matrix', size: ssm.size, data: Array.from(ssm.data) }, label: `painted, ${ssm.size} bars` };
    }
    default: {
      const never: never = choice;
      throw new RefrainError('invalid-request', `Unknown template ${JSON.stringify(never)}.`);
    }
  }
}

/**
 * The template SSM the engine will follow for a choice when `bars` bars are added to the piece:
 * the engine's own rule (`templateSsm`), so the preview is what generation uses. `undefined`
 * for no template.
 */
export function templatePreview(spec: TemplateSpec | undefined, piece: Score | undefined, bars: number): Ssm | undefined {
  if (spec === undefined) {
    return undefined;
  }
  const prompt = piece ?? emptyScore();
  return templateSsm(spec, prompt, prompt.bars.length + bars);
}

/** Makes a painted matrix symmetric (the mean of both halves) with 1 on the diagonal, in place. */
export function symmetrize(ssm: Ssm): void {
  const n = ssm.size;
  const d = ssm.data;
  for (let i = 0; i < n; i++) {
    d[i * n + i] = 1;
    for (let j = i + 1; j < n; j++) {
      const v = (d[i * n + j] + d[j * n + i]) / 2;
      d[i * n + j] = v;
      d[j * n + i] = v;
    }
  }
}
