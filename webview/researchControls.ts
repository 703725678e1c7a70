/**
 * The research section below the musical controls: related bars, mask scales, the model picker
 * with each model's measured form compliance, top-p and seed, which the panel remembers open or
 * closed. It renders from the one store.
 */

import type { VscodeCheckbox } from '@vscode-elements/elements/dist/vscode-checkbox/vscode-checkbox.js';
import type { VscodeCollapsible } from '@vscode-elements/elements/dist/vscode-collapsible/vscode-collapsible.js';
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/vscode-single-select.js';
import { MAX_RELATED_OFFSET } from '../src/protocol/messages';
import type { ModelChoice } from '../src/protocol/messages';
import { button, h, option } from './dom';
import { LAYER_WINDOW_CHOICES, addOffsets, parseIntField, parseNumberField, suggestOffsets, toggleOffset, withLayers } from './state';
import type { Store } from './store';
import { modelLine, modelOptionText, peName } from './words';

import { Fields, setNumber } from './fields';

/** What the research section asks of the view. */
export interface ResearchActions {
  /** Offsets or model changed: redraw the L_t chart. */
  structureChanged(): void;
  status(text: string): void;
}

/** Related bars, mask scales, model picker, top-p and seed, in one collapsible section. */
export class ResearchControls {
  readonly element = document.createElement('vscode-collapsible') as VscodeCollapsible;
  readonly fields = new Fields();
  private readonly _body = h('div', { className: 'section-body research' });
  private readonly _offsetBox = h('div', { className: 'offsets' });
  private readonly _suggestion = h('div', { className: 'hint' });
  /** Unticked: every Generate draws a fresh seed (shown in the field); ticked: the seed is kept. */
  private readonly _keepSeed = this._keepSeedBox();
  private readonly _layerBox = h('div', { className: 'layers' });
  private readonly _peSelect = document.createElement('vscode-single-select') as VscodeSingleSelect;
  private readonly _modelSelect = document.createElement('vscode-single-select') as VscodeSingleSelect;
  private readonly _modelInfo = h('div', { className: 'hint model-line' });
  private _models: readonly ModelChoice[] = [];
  private _modelError: string | undefined;

  constructor(
    private readonly _store: Store,
    private readonly _actions: ResearchActions,
    /** Extra content at the end of the section (the L_t chart, the template preview). */
    extra: HTMLElement[],
  ) {
    const s = _store.state;
    this.element.heading = 'Structure controls (research)';
    this.element.description = 'related bars, mask scales, model, L_t';
    this.element.open = s.researchOpen;
    this.element.addEventListener('vsc-collapsible-toggle', (e) => {
      const open = (e as CustomEvent<{ open: boolean }>).detail?.open ?? this.element.open;
      _store.update((st) => ({ ...st, researchOpen: open }));
    });
    this._peSelect.addEventListener('change', () => {
      _store.update((st) => ({ ...st, positionalEncoding: this._peSelect.value === '*' ? '' : this._peSelect.value }));
      this.renderModels();
    });
    this._modelSelect.addEventListener('change', () => {
      const model = this._models.find((m) => m.id === this._modelSelect.value);
      _store.update((st) => (model ? withLayers({ ...st, modelId: model.id }, model.layers) : { ...st, modelId: '' }));
      this._renderLayers();
      this._renderModelInfo();
      _actions.structureChanged();
    });
    this._body.append(
      h('h3', {}, 'Model'),
      h('div', { className: 'grid2' }, h('label', { className: 'field' }, h('span', {}, 'Positional encoding'), this._peSelect), h('label', { className: 'field' }, h('span', {}, 'Model'), this._modelSelect)),
      this._modelInfo,
      h('h3', {}, 'Related bars'),
      h('div', { className: 'label' }, 'Each new bar attends in full to the bars this many bars back (Museformer)'),
      this._offsetBox,
      h(
        'div',
        { className: 'row' },
        button('Use peaks of this piece', () => this._applySuggestion(), true),
        this.fields.field('addOffset', 'Add', '', (t) => t.trim() === '' || parseIntField(t, 1, MAX_RELATED_OFFSET) !== undefined),
        button('+', () => this._addOffset(), true, 'Add this offset'),
      ),
      this._suggestion,
      h('h3', {}, 'Attention window per layer (mask scales) · experimental'),
      h(
        'p',
        { className: 'hint' },
        'Experimental: on 100 held-out tunes, multi-scale windows changed neither form compliance nor SE measurably (docs/EVALUATION.md).',
      ),
      this._layerBox,
      h('h3', {}, 'Sampling details'),
      h(
        'div',
        { className: 'grid2' },
        this.fields.field('topP', 'Top-p', String(s.topP), (t) => setNumber(_store, 'topP', parseNumberField(t, 0, 1))),
        this.fields.field('seed', 'Seed', String(s.seed), (t) => this._typeSeed(t), 'The seed of the latest Generate: type one (or tick "Keep this seed") to hear the same music again'),
        h('div', { className: 'field' }, h('span', {}, ' '), button('New seed', () => this._newSeed(), true)),
      ),
      this._keepSeed,
      ...extra,
    );
    this.element.append(this._body);
    this.render();
  }

  private _keepSeedBox(): VscodeCheckbox {
    const box = document.createElement('vscode-checkbox') as VscodeCheckbox;
    box.label = 'Keep this seed (unticked: a fresh seed each Generate)';
    box.id = 'keep-seed';
    box.addEventListener('change', () => {
      this._store.update((s) => ({ ...s, seedFixed: box.checked }));
    });
    return box;
  }

  /** Renders everything from the store. */
  render(): void {
    this._renderOffsets();
    this._renderLayers();
    this.renderModels();
    this.fields.setValues(this._store.state, ['topP', 'seed']);
    this._keepSeed.checked = this._store.state.seedFixed;
  }

  /** The models the host offers (or why there are none). */
  setModels(models: readonly ModelChoice[], error?: string): void {
    this._models = models;
    this._modelError = error;
    this.renderModels();
  }

  /** The chosen model. */
  get selectedModel(): ModelChoice | undefined {
    return this._models.find((m) => m.id === this._store.state.modelId);
  }

  /** Shows the piece's L_t peaks as a suggestion. */
  renderSuggestion(peaks: readonly { interval: number; value: number }[]): void {
    this._suggestion.textContent = peaks.length > 0
      ? `Peaks of this piece's L_t: ${peaks.slice(0, 5).map((p) => `${p.interval} (${p.value.toFixed(2)})`).join(', ')}`
      : 'This piece has no clear L_t peaks yet.';
    this._peaks = peaks;
  }

  private _peaks: readonly { interval: number; value: number }[] = [];

  private _renderOffsets(): void {
    const s = this._store.state;
    this._offsetBox.replaceChildren();
    for (const o of s.offsetChoices) {
      const box = document.createElement('vscode-checkbox') as VscodeCheckbox;
      box.label = String(o);
      box.checked = s.offsets.includes(o);
      box.title = `Attend in full to the bar ${o} bar${o === 1 ? '' : 's'} back`;
      box.addEventListener('change', () => {
        this._store.update((st) => toggleOffset(st, o, box.checked));
        this._actions.structureChanged();
      });
      this._offsetBox.append(box);
    }
  }

  private _applySuggestion(): void {
    const offsets = suggestOffsets(this._peaks);
    if (offsets.length === 0) {
      this._actions.status('No peaks to suggest for this piece.');
      return;
    }
    this._store.update((s) => addOffsets(s, offsets));
    this._renderOffsets();
    this._actions.structureChanged();
    this._actions.status(`Switched on offsets ${offsets.join(', ')} from this piece's L_t peaks.`);
  }

  private _addOffset(): void {
    const field = this.fields.get('addOffset');
    const value = field ? parseIntField(field.value, 1, MAX_RELATED_OFFSET) : undefined;
    if (value === undefined || !field) {
      if (field) {
        field.invalid = true;
      }
      return;
    }
    field.value = '';
    this._store.update((s) => addOffsets(s, [value]));
    this._renderOffsets();
    this._actions.structureChanged();
  }

  private _newSeed(): void {
    const seed = crypto.getRandomValues(new Uint32Array(1))[0];
    this._store.update((s) => ({ ...s, seed, seedFixed: true }));
    this.showSeed();
  }

  /** A typed seed is kept for the following runs (same seed, same music). */
  private _typeSeed(text: string): boolean {
    const ok = setNumber(this._store, 'seed', parseIntField(text, 0, 0xffffffff));
    if (ok) {
      this._store.update((s) => ({ ...s, seedFixed: true }));
      this._keepSeed.checked = true;
    }
    return ok;
  }

  /** Shows the seed a Generate drew (and whether it is kept). */
  showSeed(): void {
    this.fields.setValues(this._store.state, ['seed']);
    this._keepSeed.checked = this._store.state.seedFixed;
  }

  private _renderLayers(): void {
    this._layerBox.replaceChildren();
    this._store.state.layerWindows.forEach((w, layer) => {
      const select = document.createElement('vscode-single-select') as VscodeSingleSelect;
      const choices = LAYER_WINDOW_CHOICES.includes(w) ? LAYER_WINDOW_CHOICES : [...LAYER_WINDOW_CHOICES, w];
      for (const c of choices) {
        select.append(option(String(c), c === 0 ? 'all tokens' : `last ${c}`));
      }
      select.value = String(w);
      select.addEventListener('change', () => {
        this._store.update((s) => {
          const windows = [...s.layerWindows];
          windows[layer] = Number(select.value) || 0;
          return { ...s, layerWindows: windows };
        });
      });
      this._layerBox.append(h('label', { className: 'field' }, h('span', {}, `Layer ${layer + 1}`), select));
    });
  }

  /** The encoding filter and the model picker, each model labelled with its measured compliance. */
  renderModels(): void {
    const s = this._store.state;
    const pes = [...new Set(this._models.map((m) => m.positionalEncoding))];
    this._peSelect.replaceChildren(option('*', 'Any'), ...pes.map((pe) => option(pe, peName(pe))));
    const filter = pes.includes(s.positionalEncoding) ? s.positionalEncoding : '';
    this._peSelect.value = filter === '' ? '*' : filter;
    const models = this._models.filter((m) => !filter || m.positionalEncoding === filter);
    this._modelSelect.replaceChildren();
    if (models.length === 0) {
      this._modelSelect.append(option('', this._models.length === 0 ? 'No model installed' : 'No model with this encoding'));
      this._modelSelect.value = '';
      this._modelSelect.disabled = true;
      this._peSelect.disabled = this._models.length === 0;
    } else {
      this._modelSelect.disabled = false;
      this._peSelect.disabled = false;
      for (const m of models) {
        this._modelSelect.append(option(m.id, modelOptionText(m)));
      }
      const chosen = models.find((m) => m.id === s.modelId) ?? models[0];
      this._modelSelect.value = chosen.id;
      if (chosen.id !== s.modelId || chosen.layers !== s.layerWindows.length) {
        this._store.update((st) => withLayers({ ...st, modelId: chosen.id }, chosen.layers));
        this._renderLayers();
      }
    }
    this._renderModelInfo();
    this._actions.structureChanged();
  }

  private _renderModelInfo(): void {
    const model = this.selectedModel;
    if (this._modelError !== undefined) {
      this._modelInfo.textContent = this._modelError;
    } else if (this._models.length === 0) {
      this._modelInfo.textContent = 'No generation model is installed; Generate will say so.';
    } else if (model) {
      this._modelInfo.textContent = modelLine(model);
    }
  }
}
