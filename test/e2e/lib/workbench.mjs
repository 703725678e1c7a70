// Helpers that drive the VS Code workbench in the page the way a user does (keyboard, command
// palette, Quick Open) and read Refrain's webviews. Every wait polls a condition with a deadline
// and reports the last thing it saw; nothing passes or fails on a fixed sleep.
import { sleep } from './processes.mjs';

const VERBOSE = process.env.REFRAIN_E2E_VERBOSE === '1';

/** Default deadline of a wait: generous, for a loaded two-core machine. */
export const WAIT_MS = Number(process.env.REFRAIN_E2E_WAIT_MS ?? '60000');

/**
 * Polls `probe` until it returns something other than `undefined`/`false`/`null` and resolves
 * with it. A probe that throws counts as "not yet" (frames come and go while views reload).
 * Rejects after `timeoutMs` with `what` and the last value or error seen.
 */
export async function waitFor(what, probe, { timeoutMs = WAIT_MS, intervalMs = 150 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last = 'nothing yet';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false && value !== null) {
        return value;
      }
      last = value;
    } catch (e) {
      const seen = `error: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`;
      if (VERBOSE && seen !== last) {
        process.stderr.write(`[e2e] (still waiting for ${what}: ${seen})\n`);
      }
      last = seen;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what} (last seen: ${typeof last === 'string' ? last : JSON.stringify(last)})`);
    }
    await sleep(intervalMs);
  }
}

/** Fails with `message` unless `condition` holds. */
export function check(condition, message) {
  if (!condition) {
    throw new Error(message);
  }
}

/** Waits until the workbench has loaded and the editor area exists. */
export async function waitForWorkbench(page) {
  await waitFor('the workbench to load', () => page.evaluate(() => !!document.querySelector('.monaco-workbench .part.editor')));
}

/** The colour theme kind of the workbench: `'vs'` (light), `'vs-dark'`, `'hc-black'` or `'hc-light'`. */
export function workbenchThemeKind(page) {
  return page.evaluate(() => {
    const cls = document.querySelector('.monaco-workbench')?.classList;
    return cls ? ['hc-black', 'hc-light', 'vs-dark', 'vs'].find((k) => cls.contains(k)) : undefined;
  });
}

async function quickInputVisible(page) {
  return page.evaluate(() => {
    const w = document.querySelector('.quick-input-widget');
    return !!w && getComputedStyle(w).display !== 'none';
  });
}

/** Labels of the rows the quick input lists now. */
function quickInputRows(page) {
  return page.evaluate(() => Array.from(document.querySelectorAll('.quick-input-widget .monaco-list-row')).map((r) => r.getAttribute('aria-label') ?? r.textContent ?? ''));
}

/**
 * Opens the quick input with `key` (F1: commands, Control+P: files), types `text`, waits for a
 * row whose label satisfies `accept`, and picks it. Unless `opensAnother`, waits for the quick
 * input to close. Retries the whole thing when the widget does not open or the row does not come
 * (a keystroke lost while the workbench was busy).
 */
async function pickInQuickInput(page, key, text, accept, what, opensAnother = false) {
  await waitFor(what, async () => {
    await closeQuickInput(page);
    await page.keyboard.press(key);
    await waitFor('the quick input to open', () => quickInputVisible(page), { timeoutMs: 10_000 });
    await pickRow(page, text, accept);
    if (!opensAnother) {
      await waitFor('the quick input to close', async () => !(await quickInputVisible(page)), { timeoutMs: 10_000 });
    }
    return true;
  }, { timeoutMs: WAIT_MS, intervalMs: 500 });
}

async function closeQuickInput(page) {
  if (await quickInputVisible(page)) {
    await page.keyboard.press('Escape');
    await waitFor('the quick input to close', async () => !(await quickInputVisible(page)), { timeoutMs: 5000 });
  }
}

/**
 * In the open quick input: types `text`, waits for a row that `accept`s, moves the focus onto it
 * with the arrow keys, checks that the focused row is the one, and presses Enter.
 */
async function pickRow(page, text, accept) {
  await page.keyboard.type(text, { delay: 10 });
  const index = await waitFor(`a row for "${text}"`, async () => {
    const k = (await quickInputRows(page)).findIndex(accept);
    return k >= 0 ? k : undefined;
  }, { timeoutMs: 15_000 });
  if (VERBOSE && index > 0) {
    process.stderr.write(`[e2e] (row ${index} of ${JSON.stringify(await quickInputRows(page))})\n`);
  }
  for (let k = 0; k < index; k++) {
    await page.keyboard.press('ArrowDown');
  }
  // The list may still change while results come in: Enter only on the right row.
  await waitFor(`the row for "${text}" to be focused`, async () => accept((await focusedRow(page)) ?? ''), { timeoutMs: 3000 });
  await page.keyboard.press('Enter');
}

/** The label of the quick input's focused row. */
function focusedRow(page) {
  return page.evaluate(() => document.querySelector('.quick-input-widget .monaco-list-row.focused')?.getAttribute('aria-label'));
}

/** Whether a command palette row (aria-label "Title[, keybinding][, similar commands]") is the command `title`. */
function commandRowIs(row, title) {
  return row === title || row.startsWith(`${title},`);
}

/** Runs a command by its palette title, through F1 as a user would. */
export async function runCommand(page, title) {
  await pickInQuickInput(page, 'F1', title, (row) => commandRowIs(row, title), `the command palette to run "${title}"`);
}

/**
 * Picks a colour theme the way a user does (Preferences: Color Theme, then the theme by name)
 * and waits until the workbench shows its kind (`'vs'`, `'vs-dark'`, `'hc-black'`, `'hc-light'`).
 */
export async function selectColorTheme(page, label, kind) {
  await waitFor(`the workbench to switch to ${label}`, async () => {
    await pickInQuickInput(page, 'F1', 'Preferences: Color Theme', (row) => commandRowIs(row, 'Preferences: Color Theme'), 'the theme picker to open', true);
    await waitFor('the theme list', async () => (await quickInputRows(page)).some((r) => r.includes('Default')), { timeoutMs: 15_000 });
    // A theme row reads "Light Modern, Default Light Modern[, light themes]": the theme id is one of its parts.
    await pickRow(page, label, (row) => row.split(', ').includes(label));
    await waitFor('the theme picker to close', async () => !(await quickInputVisible(page)), { timeoutMs: 10_000 });
    return waitFor(`the workbench to turn ${kind}`, async () => (await workbenchThemeKind(page)) === kind, { timeoutMs: 15_000 });
  }, { timeoutMs: WAIT_MS, intervalMs: 500 });
}

/** Opens a workspace file by name through Quick Open (Ctrl+P) and waits for its tab to be active. */
export async function quickOpen(page, fileName) {
  await pickInQuickInput(page, 'Control+P', fileName, (row) => row.startsWith(fileName), `Quick Open to open ${fileName}`);
  await waitFor(`the tab of ${fileName} to be active`, () => activeTabIs(page, fileName));
}

/** Whether the active tab of the active editor group shows `fileName`. */
export function activeTabIs(page, fileName) {
  return page.evaluate((name) => {
    const tab = document.querySelector('.part.editor .editor-group-container.active .tab.active .label-name');
    return tab?.textContent === name;
  }, fileName);
}

/** The text of the status bar's language indicator ("ABC notation" once Refrain's language is known). */
export function languageStatus(page) {
  return page.evaluate(() => document.getElementById('status.editor.mode')?.textContent?.trim() ?? '');
}

/** Focuses the text editor of the active group by clicking into its text. */
export async function focusActiveEditor(page) {
  const lines = page.locator('.part.editor .editor-group-container.active .monaco-editor .view-lines').first();
  await lines.click({ position: { x: 5, y: 5 } });
  await waitFor('the editor to have focus', () =>
    page.evaluate(() => !!document.activeElement?.closest('.editor-group-container.active .monaco-editor')),
  );
}

/**
 * The frame of a Refrain webview (`'panel'` or `'midi'`) once its page has built its UI.
 * Webview content lives two iframes deep (`iframe.webview.ready` > `iframe#active-frame`); the
 * page marks its kind on `<body data-view>`.
 */
export async function viewFrame(page, kind, timeoutMs = WAIT_MS) {
  return waitFor(`the ${kind} webview to load`, async () => {
    for (const frame of page.frames()) {
      if (frame.isDetached() || frame.parentFrame() === null) {
        continue;
      }
      const built = await frame
        .evaluate((k) => document.body?.dataset.view === k && !!document.querySelector('#app .header'), kind)
        .catch(() => false);
      if (built) {
        return frame;
      }
    }
    return undefined;
  }, { timeoutMs });
}

/**
 * What a canvas shows: its size, the share of pixels that differ from its top-left pixel (the
 * background), and how many distinct colours a sample of its pixels holds.
 */
export function canvasInk(frame, selector) {
  return frame.evaluate((sel) => {
    const c = document.querySelector(sel);
    if (!(c instanceof HTMLCanvasElement) || c.width === 0 || c.height === 0) {
      return { width: 0, height: 0, inked: 0, colours: 0 };
    }
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const [r0, g0, b0, a0] = data;
    let differ = 0;
    const colours = new Set();
    const pixels = data.length / 4;
    for (let p = 0; p < pixels; p++) {
      const k = p * 4;
      if (data[k] !== r0 || data[k + 1] !== g0 || data[k + 2] !== b0 || data[k + 3] !== a0) {
        differ++;
      }
      if (p % 7 === 0) {
        colours.add((data[k] << 16) | (data[k + 1] << 8) | data[k + 2]);
      }
    }
    return { width: c.width, height: c.height, inked: differ / pixels, colours: colours.size };
  }, selector);
}

/** The RGBA of the centre of cell (row, col) of an n x n heatmap drawn over the whole canvas. */
export function heatmapCell(frame, selector, n, row, col) {
  return frame.evaluate(({ sel, n, row, col }) => {
    const c = document.querySelector(sel);
    const x = Math.floor(((col + 0.5) * c.width) / n);
    const y = Math.floor(((row + 0.5) * c.height) / n);
    return Array.from(c.getContext('2d').getImageData(x, y, 1, 1).data);
  }, { sel: selector, n, row, col });
}

/** A short fingerprint of a canvas's pixels, to see whether a redraw changed it. */
export function canvasHash(frame, selector) {
  return frame.evaluate((sel) => {
    const c = document.querySelector(sel);
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let h = 2166136261;
    for (let k = 0; k < data.length; k++) {
      h = Math.imul(h ^ data[k], 16777619);
    }
    return (h >>> 0).toString(16);
  }, selector);
}

/** The RGBA of canvas pixel (x, y), in canvas pixels. */
export function canvasPixel(frame, selector, x, y) {
  return frame.evaluate(({ sel, x, y }) => Array.from(document.querySelector(sel).getContext('2d').getImageData(x, y, 1, 1).data), { sel: selector, x, y });
}

/** The most frequent colour of a canvas (its background, for the views' drawings), as RGBA. */
export function dominantColour(frame, selector) {
  return frame.evaluate((sel) => {
    const c = document.querySelector(sel);
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const counts = new Map();
    for (let k = 0; k < data.length; k += 4) {
      const key = `${data[k]},${data[k + 1]},${data[k + 2]},${data[k + 3]}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    let best = '';
    let most = -1;
    for (const [key, n] of counts) {
      if (n > most) {
        best = key;
        most = n;
      }
    }
    return best.split(',').map(Number);
  }, selector);
}

/**
 * The rows of a quick pick that a command opened (not the palette): waits for it to show a row
 * that `accept`s (its aria-label; the text of each row is returned too) and resolves with them.
 */
export async function openQuickPickRows(page, accept, what, timeoutMs = WAIT_MS) {
  return waitFor(what, async () => {
    if (!(await quickInputVisible(page))) {
      return undefined;
    }
    const rows = await page.evaluate(() =>
      Array.from(document.querySelectorAll('.quick-input-widget .monaco-list-row')).map((r) => ({
        label: r.getAttribute('aria-label') ?? '',
        text: (r.textContent ?? '').replace(/\u00a0/g, ' '),
      })),
    );
    return rows.some((r) => accept(r.label)) ? rows : undefined;
  }, { timeoutMs });
}

/** In a quick pick already open: focuses the first row that `accept`s (by aria-label) and presses Enter. */
export async function pickOpenRow(page, accept, what) {
  const index = await waitFor(what, async () => {
    const k = (await quickInputRows(page)).findIndex(accept);
    return k >= 0 ? k : undefined;
  }, { timeoutMs: 15_000 });
  // The first row starts focused; move down to the one wanted.
  for (let k = 0; k < index; k++) {
    await page.keyboard.press('ArrowDown');
  }
  await waitFor(`${what}: its row focused`, async () => accept((await focusedRow(page)) ?? ''), { timeoutMs: 3000 });
  await page.keyboard.press('Enter');
  await waitFor('the quick pick to close', async () => !(await quickInputVisible(page)), { timeoutMs: 10_000 });
}

/**
 * The workbench's modal dialog (a `{ modal: true }` message): waits for it, returns its message,
 * and clicks the button labelled `button` (or none when `button` is undefined).
 */
export async function answerDialog(page, button, timeoutMs = WAIT_MS) {
  const message = await waitFor('a modal dialog', () =>
    page.evaluate(() => {
      const box = document.querySelector('.monaco-dialog-box');
      if (!box) {
        return undefined;
      }
      const text = box.querySelector('.dialog-message-text, .dialog-message')?.textContent;
      return text ?? Array.from(box.querySelectorAll('.dialog-buttons')).reduce((t, b) => t.replace(b.textContent ?? '', ''), box.textContent ?? '');
    }),
  { timeoutMs });
  if (button !== undefined) {
    await page.locator('.monaco-dialog-box .dialog-buttons .monaco-button', { hasText: button }).first().click();
    await waitFor('the dialog to close', () => page.evaluate(() => !document.querySelector('.monaco-dialog-box')), { timeoutMs: 10_000 });
  }
  return message;
}

/** Moves the active editor's cursor to `line`:`column` (1-based) through Go to Line, as a user does. */
export async function goToLine(page, line, column) {
  await waitFor(`the cursor to reach ${line}:${column}`, async () => {
    await closeQuickInput(page);
    await page.keyboard.press('Control+G');
    await waitFor('the quick input to open', () => quickInputVisible(page), { timeoutMs: 10_000 });
    await page.keyboard.type(`${line}:${column}`, { delay: 10 });
    await page.keyboard.press('Enter');
    await waitFor('the quick input to close', async () => !(await quickInputVisible(page)), { timeoutMs: 10_000 });
    const status = await page.evaluate(() => document.getElementById('status.editor.selection')?.textContent?.trim() ?? '');
    return status.startsWith(`Ln ${line}, Col ${column}`) ? status : undefined;
  }, { timeoutMs: WAIT_MS, intervalMs: 500 });
}
