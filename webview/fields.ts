/** Text fields of the controls (`./composeControls`, `./researchControls`), keyed by the state they set. */

import type { VscodeTextfield } from '@vscode-elements/elements/dist/vscode-textfield/vscode-textfield.js';
import { h } from './dom';
import type { UiState } from './state';
import type { Store } from './store';

/** Number fields of the state. */
export type NumberKey = 'bars' | 'candidates' | 'temperature' | 'topP' | 'seed';

/** Text fields keyed by state name; `invalid` marks a value that was not taken. */
export class Fields {
  private readonly _fields = new Map<string, VscodeTextfield>();

  field(key: string, label: string, value: string, onValue: (text: string) => boolean, title?: string): HTMLElement {
    const field = document.createElement('vscode-textfield') as VscodeTextfield;
    field.value = value;
    field.id = `field-${key}`;
    field.className = 'narrow';
    field.addEventListener('input', () => {
      field.invalid = !onValue(field.value);
    });
    this._fields.set(key, field);
    return h('label', { className: 'field', htmlFor: field.id, ...(title ? { title } : {}) }, h('span', {}, label), field);
  }

  get(key: string): VscodeTextfield | undefined {
    return this._fields.get(key);
  }

  invalid(): string[] {
    return [...this._fields.entries()].filter(([k, f]) => k !== 'addOffset' && f.invalid).map(([k]) => k);
  }

  setValues(state: UiState, keys: readonly NumberKey[]): void {
    for (const key of keys) {
      const f = this._fields.get(key);
      if (f) {
        f.value = String(state[key]);
        f.invalid = false;
      }
    }
  }
}

/** Sets a number of the state; false (nothing set) for undefined, a value the field did not accept. */
export function setNumber(store: Store, key: NumberKey, value: number | undefined): boolean {
  if (value === undefined) {
    return false;
  }
  store.update((s) => ({ ...s, [key]: value }));
  return true;
}
