/** Small DOM helpers the view's components share. */

import type { VscodeButton } from '@vscode-elements/elements/dist/vscode-button/vscode-button.js';

/** Creates an element with properties, attributes (`attrs`) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<Record<string, unknown>> & { className?: string; attrs?: Record<string, string> } = {},
  ...children: (Node | string | undefined)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'attrs') {
      for (const [a, v] of Object.entries(value as Record<string, string>)) {
        el.setAttribute(a, v);
      }
    } else if (value !== undefined) {
      (el as unknown as Record<string, unknown>)[key] = value;
    }
  }
  for (const c of children) {
    if (c !== undefined) {
      el.append(c);
    }
  }
  return el;
}

/** A `vscode-button` with a label, a click handler and an optional tooltip. */
export function button(label: string, onClick: () => void, secondary = false, title?: string): VscodeButton {
  const b = document.createElement('vscode-button') as VscodeButton;
  b.textContent = label;
  b.secondary = secondary;
  if (title) {
    b.title = title;
  }
  b.addEventListener('click', onClick);
  return b;
}

/** A `vscode-option` for a single select. */
export function option(value: string, label: string, description?: string): HTMLElement {
  const o = document.createElement('vscode-option');
  o.value = value;
  o.textContent = label;
  if (description) {
    o.description = description;
  }
  return o;
}
