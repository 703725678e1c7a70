/**
 * Generate, Cancel and Insert in the view: one run at a time (a new Generate cancels the one in
 * flight), the run the host reports after a reload, progress, and inserting a candidate. The
 * view (`./app`) forwards the host's `progress` and `generation` notifications here.
 */

import type { VscodeButton } from '@vscode-elements/elements/dist/vscode-button/vscode-button.js';
import type { CandidateView, NotificationMap, PieceView } from '../src/protocol/messages';
import type { CandidateList } from './candidates';
import type { ComposeControls } from './composeControls';
import type { ResearchControls } from './researchControls';
import { RpcError } from './rpc';
import type { RpcClient } from './rpc';
import { generateParams, templateChoice, withRunSeed } from './state';
import type { Store } from './store';
import type { Theme } from './theme';

/** Shown on candidates after one of them was inserted (the host says the same). */
const INSERTED_STALE = 'One of these candidates was inserted, so the piece has changed: generate again for new ones.';

/** What a generation run works with. */
export interface GenerationDeps {
  store: Store;
  rpc: RpcClient;
  compose: ComposeControls;
  research: ResearchControls;
  candidates: CandidateList;
  piece: () => PieceView | undefined;
  theme: () => Theme;
  /** Tells the host what the view now shows. */
  rendered: () => void;
}

/** The view's generation run and Insert. */
export class GenerationRunner {
  private _run: { controller?: AbortController; requestId?: number; running: boolean } = { running: false };

  constructor(private readonly _d: GenerationDeps) {}

  /** Shows whether a run is going (Generate / Cancel) and whether candidates can be inserted. */
  render(): void {
    const { compose, candidates } = this._d;
    compose.setRunning(this._run.running, candidates.candidates.length > 0 && candidates.stale === undefined);
  }

  /** The host's progress of a run: shown when it is this view's run. */
  progress(params: NotificationMap['progress']): void {
    if (params.requestId === this._run.requestId) {
      const { done, total } = params;
      const pct = total > 0 ? ` ${Math.round((100 * done) / total)}%` : '';
      this._d.compose.setStatus(`Generating…${pct}${params.message ? ` ${params.message}` : ''}`);
    }
  }

  /** The host's word on a run: after a reload the view may not know a generation is running, so it shows it and allows Cancel. */
  hostRun(params: NotificationMap['generation']): void {
    if (params.running && !this._run.running) {
      this._run = { running: true, requestId: params.requestId };
      this._d.compose.setStatus('Generating…');
    } else if (!params.running && this._run.requestId === params.requestId && !this._run.controller) {
      this._run = { running: false };
    }
    this.render();
  }

  async generate(): Promise<void> {
    const { store, rpc, compose, research, candidates } = this._d;
    const invalid = [...compose.fields.invalid(), ...research.fields.invalid()];
    if (invalid.length > 0) {
      compose.setStatus(`Fix the highlighted field${invalid.length > 1 ? 's' : ''} first.`, true);
      return;
    }
    const state = store.state;
    if (state.templateKind === 'file' && !state.templateFile) {
      compose.setStatus('Choose a template file first, or pick another form.', true);
      return;
    }
    // Newest wins: a generation in flight is cancelled when a new one starts.
    this._run.controller?.abort();
    const controller = new AbortController();
    this._run = { controller, running: true };
    this.render();
    compose.setStatus('Generating…');
    const piece = this._d.piece();
    // A fresh seed per Generate unless the user fixed one; the field shows the seed used.
    const seeded = withRunSeed(state, () => crypto.getRandomValues(new Uint32Array(1))[0]);
    if (seeded !== state) {
      store.update(() => seeded);
      research.showSeed();
    }
    const params = generateParams(seeded, templateChoice(state, piece ? { bars: piece.ssm.bars, ssm: piece.ssm } : undefined));
    try {
      const result = await rpc.request('generate', params, { signal: controller.signal }, (id) => {
        this._run.requestId = id;
      });
      if (this._run.controller !== controller) {
        return;
      }
      candidates.render(result.candidates, undefined, this._d.theme());
      const n = result.candidates.length;
      compose.setStatus(n > 0 ? `${n} candidate${n > 1 ? 's' : ''} ready.` : 'The model returned no candidate.');
      this._d.rendered();
    } catch (e) {
      if (this._run.controller !== controller) {
        return;
      }
      const code = e instanceof RpcError ? e.code : 'failed';
      compose.setStatus(code === 'cancelled' ? 'Generation cancelled.' : e instanceof Error ? e.message : String(e), code !== 'cancelled');
    } finally {
      if (this._run.controller === controller) {
        this._run = { running: false };
        this.render();
      }
    }
  }

  cancel(): void {
    const { controller, requestId } = this._run;
    if (controller) {
      controller.abort();
    } else if (requestId !== undefined) {
      // A generation started before this view reloaded: only the host knows it.
      this._d.rpc.command('cancel', { requestId });
      this._run = { running: false };
      this.render();
      this._d.compose.setStatus('Generation cancelled.');
    }
  }

  async insert(candidate: CandidateView, _button: VscodeButton): Promise<void> {
    const { rpc, compose, candidates } = this._d;
    if (candidates.stale !== undefined) {
      compose.setStatus(candidates.stale, true);
      return;
    }
    candidates.setInserting(true);
    try {
      const result = await rpc.request('insert', { candidateId: candidate.id });
      compose.setStatus(result.message);
      candidates.markStale(INSERTED_STALE);
    } catch (e) {
      compose.setStatus(e instanceof Error ? e.message : String(e), true);
      if (e instanceof RpcError && (e.code === 'stale' || e.code === 'not-found')) {
        candidates.markStale(e.message);
      }
    } finally {
      candidates.setInserting(false);
      candidates.draw(this._d.theme());
      this.render();
    }
  }
}
