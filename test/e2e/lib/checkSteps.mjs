// Steps the browser checks share: a drawn canvas, the panel's header, showing the panel for the
// reel, switching themes, inserting the first candidate card, choosing the model.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, GENERATION } from './fixtures.mjs';
import { canvasInk, check, openQuickPickRows, pickOpenRow, quickOpen, runCommand, selectColorTheme, viewFrame, waitFor } from './workbench.mjs';
import { sleep } from './processes.mjs';

export function brightness([r, g, b]) {
  return (r + g + b) / 3;
}

export function sameColour(a, b) {
  return a.length === b.length && a.every((v, k) => Math.abs(v - b[k]) <= 2);
}

/** A canvas must be sized and show a drawing, not a blank fill. */
export async function expectDrawn(frame, selector, minColours = 3) {
  return waitFor(`${selector} to be drawn`, async () => {
    const s = await canvasInk(frame, selector);
    return s.width > 0 && s.height > 0 && s.inked > 0.01 && s.colours >= minColours ? s : undefined;
  });
}

/** Written bars of the first tune of an ABC file on disk, read with Refrain's own CLI. */
export function writtenBars(ctx, file) {
  const out = execFileSync(process.execPath, [join(ctx.repoRoot, 'bin', 'refrain.js'), 'analyze', file, '--json'], { encoding: 'utf8' });
  const report = JSON.parse(out);
  return { written: report.writtenBars, performed: report.bars };
}

/** The panel's header: title and subtitle text. */
export function panelHeader(frame) {
  return frame.evaluate(() => ({
    title: document.querySelector('h1.title')?.textContent ?? '',
    subtitle: document.querySelector('.subtitle')?.textContent ?? '',
  }));
}

/** Shows the structure panel for the reel: the reel's editor in front, then the command. */
export async function showPanelForReel(ctx) {
  await runCommand(ctx.page, 'View: Focus First Editor Group');
  await quickOpen(ctx.page, FIXTURES.reel);
  await runCommand(ctx.page, 'Refrain: Show Structure Panel');
  const frame = await viewFrame(ctx.page, 'panel');
  await waitFor('the panel to show Harbour Wall', async () => (await panelHeader(frame)).title === 'Harbour Wall');
  await frame.evaluate(() => window.scrollTo(0, 0));
  return frame;
}

/** Picks a colour theme (as a user does) and waits for the workbench and, when given, a view to follow. */
export async function switchTheme(ctx, theme, kind, bodyClass, frame) {
  await selectColorTheme(ctx.page, theme, kind);
  if (frame) {
    await waitFor(`the webview body to get ${bodyClass}`, () => frame.evaluate((c) => document.body.classList.contains(c), bodyClass));
  }
}

/**
 * Presses Insert on the panel's first card and checks the result: the card's ABC is exactly what
 * the file gains, the cards turn stale (Insert disabled, with the reason, and a forced click on it
 * writes nothing), the panel counts the new bars, and one Undo gives the file back byte for byte.
 */
export async function insertFirstCard(ctx, frame, cardAbc, shotName) {
  const file = join(ctx.workspace, FIXTURES.reel);
  const textBefore = readFileSync(file, 'utf8');
  const before = writtenBars(ctx, file);
  await frame.locator('.candidates article.card').first().locator('vscode-button', { hasText: 'Insert' }).click();
  const status = await waitFor('the panel to confirm the insertion', () =>
    frame.evaluate(() => {
      const s = document.querySelector('.status');
      if (s?.classList.contains('error')) {
        throw new Error(`the panel reports an error: ${s.textContent}`);
      }
      return /^Inserted \d+ bars/.test(s?.textContent ?? '') ? s.textContent : undefined;
    }),
  );
  check(status.startsWith(`Inserted ${GENERATION.bars} bars`), `status: "${status}"`);
  // The editor's text reaches the disk through auto save; read it back with Refrain's own reader.
  const after = await waitFor(`the saved tune to have ${before.written + GENERATION.bars} written bars`, () => {
    const text = readFileSync(file, 'utf8');
    if (text === textBefore) {
      return undefined;
    }
    const bars = writtenBars(ctx, file);
    return bars.written === before.written + GENERATION.bars ? { text, bars } : undefined;
  });
  const body = textBefore.trimEnd();
  check(after.text.startsWith(body.slice(0, body.lastIndexOf('|'))), 'the text before the insertion point changed');
  check(after.text.includes(cardAbc), `the card's ABC should be exactly what Insert wrote:\n${cardAbc}\n--- file ---\n${after.text}`);
  // Stale candidates: shown, but Insert is impossible, with the reason.
  const stale = await waitFor('the candidates to be marked stale', () =>
    frame.evaluate(() => {
      const buttons = Array.from(document.querySelectorAll('.candidates .card-actions vscode-button')).filter((b) => b.textContent === 'Insert');
      const note = document.querySelector('.candidates .stale-note')?.textContent ?? '';
      return buttons.length > 0 && buttons.every((b) => b.disabled) && note !== '' ? { note, title: buttons[1]?.title ?? buttons[0].title } : undefined;
    }),
  );
  check(stale.title.length > 0, 'a disabled Insert should say why');
  ctx.log(`stale: ${stale.note}`);
  await ctx.shot(shotName, frame);
  // A click on a stale Insert (forced past its disabled state) writes nothing and says nothing new.
  const statusBefore = await frame.evaluate(() => document.querySelector('.status')?.textContent ?? '');
  await frame.locator('.candidates article.card').last().locator('vscode-button', { hasText: 'Insert' }).click({ force: true });
  await sleep(1500);
  check(readFileSync(file, 'utf8') === after.text, 'an Insert on a stale candidate changed the file');
  const statusNow = await frame.evaluate(() => document.querySelector('.status')?.textContent ?? '');
  check(statusNow === statusBefore, `a stale Insert should do nothing: status "${statusBefore}" -> "${statusNow}"`);
  // The panel follows the edit: more bars in its header.
  await waitFor('the panel to count the new bars', async () => {
    const m = /\b(\d+) bars\b/.exec((await panelHeader(frame)).subtitle);
    return m && Number(m[1]) === after.bars.performed;
  });
  ctx.log(`inserted: ${before.written} -> ${after.bars.written} written bars (${after.bars.performed} performed)`);
  // The insertion is one edit: one Undo in the editor gives the file back byte for byte.
  await runCommand(ctx.page, 'View: Focus First Editor Group');
  await ctx.page.keyboard.press('Control+Z');
  await waitFor('one Undo to restore the saved tune', () => readFileSync(file, 'utf8') === textBefore);
  await waitFor('the panel to count 32 bars again', async () => /\b32 bars\b/.test((await panelHeader(frame)).subtitle));
}

/** Chooses the generation model as a user does (Refrain: Choose Model, then the model's row). */
export async function chooseModel(ctx, id) {
  await runCommand(ctx.page, 'Refrain: Choose Model');
  await openQuickPickRows(ctx.page, (row) => row.startsWith(id), `the model picker to list ${id}`);
  await pickOpenRow(ctx.page, (row) => row.startsWith(id), `the row of ${id}`);
}
