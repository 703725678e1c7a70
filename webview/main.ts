// Entry of the webview bundle (dist/webview.js): the structure panel and the MIDI editor share it;
// the page's `data-view` says which one this is.
import { App } from './app';
import type { VsCodeApi } from './app';

declare function acquireVsCodeApi(): VsCodeApi;

function start(): void {
  const root = document.getElementById('app');
  if (!root) {
    return;
  }
  const view = document.body.dataset.view === 'midi' ? 'midi' : 'panel';
  new App(root, view, acquireVsCodeApi());
}

start();
