/**
 * Turns the panel's template choice into an SSM (SING's target structure): the piece's own,
 * another file's, a form string's, or one painted on the heatmap.
 *
 * No `vscode` import: reading another file goes through the injected `readFile`.
 */

import { loadPieces } from '../music/load';
import type { LoadResult } from '../music/load';
import type { Score } from '../music/score';
import { MusicInputError } from '../music/score';
import type { TemplateChoice } from '../protocol/messages';
import { formToString, formToTemplate, parseForm } from '../structure/form';
import { barSsm, validateSsm } from '../structure/ssm';
import type { BarFeature, Ssm } from '../structure/ssm';
import type { TemplateSpec } from '../engine/types';
import type { ResolvedTemplate } from './generationService';

/** What resolving a template may need. */
export interface TemplateContext {
  /** The piece on screen (for `'piece'`). */
  readonly score: Score | undefined;
  readonly feature: BarFeature;
  /** Reads another file (for `'file'`): its bytes and a path whose extension names the format. */
  readFile(uri: string): Promise<{ bytes: Uint8Array; path: string; name: string }>;
  /** Parses the file's bytes (in the parse worker); default `loadPieces` on this thread. */
  load?(path: string, bytes: Uint8Array): Promise<LoadResult>;
}

/**
 * Resolves a template choice. Throws `MusicInputError` with a user-readable message when the
 * choice cannot be used (no piece, unreadable file, bad form string, malformed painting).
 */
export async function resolveTemplate(choice: TemplateChoice, context: TemplateContext): Promise<ResolvedTemplate> {
  switch (choice.kind) {
    case 'none':
      return { kind: 'none' };
    case 'piece': {
      if (!context.score) {
        throw new MusicInputError('no-piece', 'There is no piece to take the structure from: open an ABC tune or a MIDI file.');
      }
      const ssm = barSsm(context.score, context.feature);
      return { kind: 'ssm', origin: 'piece', ssm, label: `this piece (${ssm.size} bars)` };
    }
    case 'file': {
      const file = await context.readFile(choice.uri);
      const result = context.load ? await context.load(file.path, file.bytes) : loadPieces(file.path, file.bytes);
      const piece = result.pieces[0];
      if (!piece) {
        const why = result.skipped[0]?.reason;
        throw new MusicInputError('no-readable-piece', `No readable piece in ${file.name}${why ? `: ${why}` : '.'}`);
      }
      const ssm = barSsm(piece.score, context.feature);
      return { kind: 'ssm', origin: 'file', ssm, label: `${file.name}${piece.title ? ` (${piece.title})` : ''}, ${ssm.size} bars` };
    }
    case 'form': {
      const sections = parseForm(choice.form);
      const ssm = formToTemplate(sections);
      return { kind: 'ssm', origin: 'form', ssm, label: `form ${formToString(sections)}`, form: choice.form.trim() };
    }
    case 'painted': {
      const ssm: Ssm = { size: choice.size, data: Float32Array.from(choice.data) };
      validateSsm(ssm);
      symmetrize(ssm);
      return { kind: 'ssm', origin: 'painted', ssm, label: `painted, ${ssm.size} bars` };
    }
    default: {
      const never: never = choice;
      throw new MusicInputError('template-invalid', `Unknown template ${JSON.stringify(never)}.`);
    }
  }
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

/**
 * The panel's resolved template as the engine's template spec: "this piece" is the engine's own
 * `{ kind: 'piece' }` (which extends the piece's pattern over the new bars), a form string goes as
 * the form, a file or painted template as its matrix. `none` gives undefined (free).
 */
export function toTemplateSpec(t: ResolvedTemplate): TemplateSpec | undefined {
  if (t.kind === 'none') {
    return undefined;
  }
  if (t.origin === 'piece') {
    return { kind: 'piece' };
  }
  if (t.origin === 'form' && t.form !== undefined) {
    return { kind: 'form', form: t.form };
  }
  return { kind: 'matrix', size: t.ssm.size, data: Array.from(t.ssm.data) };
}
