// Every front asks for music the same way: with the bundled default model, the same tune,
// settings and seed give the same candidate (notes, tokens, template distance) from Continue
// Tune and the structure panel on an .abc file, from the MIDI editor and `refrain compose` on a
// .mid file, and the panel's template distance is the CLI's. The fronts' own request builders are
// used (the commands' `settingsRequest`, the views' `requestFromParams` over `templateSpecOf`),
// so a front that drifts (another template, a setting mixed in) fails here.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { main } from '../../../src/cli/main';
import type { CliContext } from '../../../src/cli/usage';
import { EngineClient } from '../../../src/engine/client';
import { DEFAULT_MODEL, DEFAULT_RELATED_OFFSETS, DEFAULT_VARIATION } from '../../../src/engine/limits';
import type { GenerationTask } from '../../../src/engine/types';
import { settingsRequest } from '../../../src/generation/request';
import type { GenerationCandidate, GenerationSource } from '../../../src/generation/request';
import { GenerationService } from '../../../src/generation/service';
import { loadPiece } from '../../../src/music/select';
import type { Score } from '../../../src/music/score';
import type { GenerationSettings } from '../../../src/generation/config';
import { silentLogger } from '../../../src/platform/logger';
import type { GenerateParams, TemplateChoice } from '../../../src/protocol/messages';
import { requestFromParams } from '../../../src/webviews/shared/generationSession';
import { templateSpecOf } from '../../../src/webviews/shared/templates';
import { repoRoot, workerPath } from '../engine/helpers';

const SEED = 7;
const BARS = 2;
const SETTINGS: GenerationSettings = {
  bars: BARS,
  candidates: 1,
  relatedOffsets: DEFAULT_RELATED_OFFSETS,
  relatedFromTemplate: false,
  scales: [],
  temperature: 1,
  topP: 0.95,
  topK: 0,
  seed: SEED,
};

/** The panel's controls as the webview sends them, set to the same settings. */
function panelParams(template: TemplateChoice): GenerateParams {
  return {
    bars: BARS,
    candidates: 1,
    temperature: SETTINGS.temperature,
    topP: SETTINGS.topP,
    seed: SEED,
    relatedOffsets: [...SETTINGS.relatedOffsets],
    layerWindows: [],
    variation: DEFAULT_VARIATION,
    modelId: '',
    template,
  };
}

/** The new bars' notes: pitch, onset from the first new bar, duration. */
function newNotes(score: Score, from: number, to: number): string[] {
  const start = score.bars[from].start;
  const end = score.bars[to - 1].start + score.bars[to - 1].duration;
  return score.notes.filter((n) => n.onset >= start && n.onset < end).map((n) => `${n.pitch}@${n.onset - start}+${n.duration}`);
}

interface ComposeRow {
  tokens: number;
  logLikelihood: number;
  templateDistance?: number;
  bars: { from: number; to: number };
}

const fixtures = { abc: join(repoRoot(), 'examples/refrain-tunes.abc'), midi: join(repoRoot(), 'test/fixtures/midi/harbour-lights.mid') };

describe(`the same candidate from every front (${DEFAULT_MODEL})`, { timeout: 15 * 60_000 }, () => {
  let client: EngineClient;
  let service: GenerationService;
  let dir: string;

  before(() => {
    process.env.REFRAIN_ENGINE_WORKER = workerPath();
    client = new EngineClient({ modelsDir: join(repoRoot(), 'models'), executionProvider: 'cpu', workerPath: workerPath(), log: silentLogger() });
    service = new GenerationService({ engine: () => client, listModels: () => client.listModels() }, () => '', silentLogger());
    dir = mkdtempSync(join(tmpdir(), 'refrain-same-'));
  });

  after(async () => {
    service.dispose();
    await client.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  async function panel(source: GenerationSource, template: TemplateChoice): Promise<GenerationCandidate> {
    const spec = await templateSpecOf(template, { score: source.score, readFile: async () => assert.fail('no file') });
    const [c] = await service.generate(requestFromParams(panelParams(template), source, spec.spec, SETTINGS));
    return c;
  }

  async function compose(input: string, out: string, extra: string[]): Promise<ComposeRow> {
    const lines: string[] = [];
    const err: string[] = [];
    const ctx: CliContext = { out: (s) => lines.push(s), err: (s) => err.push(s), progress: () => undefined };
    const args = ['compose', input, '--models', join(repoRoot(), 'models'), '--ep', 'cpu', '--seed', String(SEED), '--related', SETTINGS.relatedOffsets.join(','), '--json', '-o', out, ...extra];
    const code = await main(args, ctx);
    assert.equal(code, 0, err.join('\n'));
    const report = JSON.parse(lines.join('\n')) as { model: string; candidates: ComposeRow[] };
    assert.equal(report.model, DEFAULT_MODEL);
    return report.candidates[0];
  }

  test('.abc: Continue Tune and the panel give the same notes, ABC and template distance; the CLI the same distance', async () => {
    const bytes = readFileSync(fixtures.abc);
    const piece = loadPiece(fixtures.abc, bytes, 1);
    const source: GenerationSource = { format: 'abc', uri: 'file:///refrain-tunes.abc', version: 1, tuneIndex: 0, score: piece.score, text: bytes.toString('utf8') };
    const task: GenerationTask = { kind: 'continue', bars: BARS };
    // Continue Tune with "the tune's own structure" (what `{ bars }` arguments choose).
    const [command] = await service.generate(settingsRequest(source, task, { kind: 'piece' }, SETTINGS));
    const fromPanel = await panel(source, { kind: 'piece' });
    const { from, to } = command.newBars;
    assert.deepEqual(fromPanel.newBars, command.newBars);
    assert.deepEqual(newNotes(fromPanel.score, from, to), newNotes(command.score, from, to));
    assert.ok(newNotes(command.score, from, to).length > 0, 'the candidate has notes');
    assert.equal(fromPanel.tokens, command.tokens);
    assert.ok(command.metrics.templateDistance !== undefined && command.metrics.templateDistance > 0, `a template distance: ${command.metrics.templateDistance}`);
    assert.equal(fromPanel.metrics.templateDistance, command.metrics.templateDistance);
    assert.equal(fromPanel.abc?.edit.newText, command.abc?.edit.newText, 'the card shows what Continue Tune inserts');

    // A form, from the panel and from `refrain compose --form`: the same template distance.
    const full = piece.score.bars.length - 1 + BARS; // a form counts the full bars after the pickup
    const form = `A${Math.floor(full / 2)} A${full - Math.floor(full / 2)}`;
    const formed = await panel(source, { kind: 'form', form });
    const cli = await compose(fixtures.abc, join(dir, 'out.abc'), ['--tune', '1', '--bars', String(BARS), '--form', form]);
    assert.equal(cli.tokens, formed.tokens);
    assert.ok(cli.templateDistance !== undefined);
    assert.ok(Math.abs(cli.templateDistance - (formed.metrics.templateDistance ?? Number.NaN)) < 1e-9, `CLI ${cli.templateDistance} vs panel ${formed.metrics.templateDistance}`);
    assert.ok(Math.abs(cli.logLikelihood - formed.logLikelihood) < 1e-6);
    // The CLI writes the tune with the same new bars the panel's card shows.
    assert.ok(readFileSync(join(dir, 'out.abc'), 'utf8').includes((formed.abc?.edit.newText ?? '').trim()), 'compose writes what Insert writes');
  });

  test('.mid: the MIDI editor and `refrain compose` give the same notes and template distance', async () => {
    const bytes = readFileSync(fixtures.midi);
    // The MIDI editor reads the file as a piece (in its parse worker, the same reader).
    const piece = loadPiece('document.mid', bytes);
    const source: GenerationSource = { format: 'midi', uri: 'file:///harbour-lights.mid', version: 0, tuneIndex: 0, score: piece.score };
    const fromEditor = await panel(source, { kind: 'piece' });
    const out = join(dir, 'out.mid');
    // `refrain compose` of a .mid follows the piece's own structure when given the piece as its template.
    const cli = await compose(fixtures.midi, out, ['--bars', String(BARS), '--template', fixtures.midi]);
    assert.equal(cli.tokens, fromEditor.tokens);
    assert.ok(Math.abs(cli.logLikelihood - fromEditor.logLikelihood) < 1e-6);
    assert.ok(cli.templateDistance !== undefined && fromEditor.metrics.templateDistance !== undefined);
    assert.ok(Math.abs(cli.templateDistance - fromEditor.metrics.templateDistance) < 1e-9, `CLI ${cli.templateDistance} vs editor ${fromEditor.metrics.templateDistance}`);
    const written = loadPiece(out, readFileSync(out)).score;
    const { from, to } = fromEditor.newBars;
    assert.deepEqual(newNotes(written, from, to), newNotes(fromEditor.score, from, to));
  });
});
