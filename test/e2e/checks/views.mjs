// The MIDI editor, the inline ghost text, the views in the light and high-contrast themes, the
// bundled model at 1280x800, the walkthrough, and the logs left clean.
import { join } from 'node:path';
import { FIXTURES } from '../lib/fixtures.mjs';
import { brightness, expectDrawn, writtenBars, panelHeader, showPanelForReel, switchTheme, insertFirstCard } from '../lib/checkSteps.mjs';
import {
  check,
  dominantColour,
  focusActiveEditor,
  languageStatus,
  quickOpen,
  runCommand,
  viewFrame,
  waitFor,
} from '../lib/workbench.mjs';
import { sleep } from '../lib/processes.mjs';

/** @type {{ name: string, needs?: string[], run: (ctx: object) => Promise<void> }[]} */
export const VIEW_CHECKS = [
  {
    name: 'a .mid file opens in the Refrain MIDI editor, which draws its roll and heatmap',
    async run(ctx) {
      await runCommand(ctx.page, 'View: Focus First Editor Group');
      await quickOpen(ctx.page, 'harbour-lights.mid');
      const frame = await viewFrame(ctx.page, 'midi');
      const header = await waitFor('the MIDI editor header', async () => {
        const h = await panelHeader(frame);
        return /\b\d+ bars\b/.test(h.subtitle) ? h : undefined;
      });
      check(header.subtitle.includes('harbour-lights.mid'), `the subtitle should name the file: "${header.subtitle}"`);
      await expectDrawn(frame, 'canvas.roll');
      await expectDrawn(frame, 'canvas.ssm');
      await ctx.shot('midi-editor-dark', frame);
    },
  },
  {
    name: 'typing a bar at the end of a tune shows the inline continuation as ghost text, and Tab accepts it',
    async run(ctx) {
      const { page } = ctx;
      await runCommand(page, 'View: Focus First Editor Group');
      await quickOpen(page, FIXTURES.air);
      await waitFor('the language status to say ABC notation', async () => (await languageStatus(page)) === 'ABC notation');
      const file = join(ctx.workspace, FIXTURES.air);
      const before = writtenBars(ctx, file);
      await focusActiveEditor(page);
      await page.keyboard.press('Control+End');
      await page.keyboard.type('d3|', { delay: 30 });
      const ghost = await waitFor('ghost text in the editor', () =>
        page.evaluate(() => {
          const found = document.querySelectorAll('.editor-group-container.active .monaco-editor .ghost-text-decoration, .editor-group-container.active .monaco-editor .ghost-text');
          const text = Array.from(found).map((e) => e.textContent ?? '').join(' ').trim();
          return found.length > 0 && text.length > 0 ? text : undefined;
        }),
      { timeoutMs: 120_000 });
      ctx.log(`ghost text: "${ghost}"`);
      check(/[A-Ga-gz]/.test(ghost), `the ghost text should hold notes: "${ghost}"`);
      await ctx.shot('inline-ghost-dark');
      await page.keyboard.press('Tab');
      // One bar typed, one accepted (refrain.inline.bars = 1).
      const after = await waitFor('the accepted bar to be saved', () => {
        const bars = writtenBars(ctx, file);
        return bars.written >= before.written + 2 ? bars : undefined;
      });
      check(after.written === before.written + 2, `expected ${before.written + 2} written bars after Tab, found ${after.written}`);
      ctx.log(`inline: ${before.written} written bars, ${before.written + 1} after typing, ${after.written} after Tab`);
    },
  },
  {
    name: 'the panel and the MIDI editor redraw in the light theme',
    needs: ['Refrain: Show Structure Panel opens the panel, which draws the tune\'s roll and AABB heatmap'],
    async run(ctx) {
      const panel = await showPanelForReel(ctx);
      const dark = { roll: await dominantColour(panel, 'canvas.roll'), ssm: await dominantColour(panel, 'canvas.ssm') };
      await switchTheme(ctx, 'Default Light Modern', 'vs', 'vscode-light', panel);
      // The canvases take their colours from the theme: their background must turn light too.
      let seen;
      const light = await waitFor('the piano roll and heatmap to redraw in light colours', async () => {
        seen = { roll: await dominantColour(panel, 'canvas.roll'), ssm: await dominantColour(panel, 'canvas.ssm') };
        return brightness(seen.roll) > brightness(dark.roll) + 100 && brightness(seen.ssm) > brightness(dark.ssm) + 100 ? seen : undefined;
      }, { timeoutMs: 20_000 }).catch((e) => {
        throw new Error(`${e.message}; backgrounds before ${JSON.stringify(dark)}, after ${JSON.stringify(seen)}`);
      });
      ctx.log(`background dark ${dark.roll} -> light ${light.roll}`);
      await expectDrawn(panel, 'canvas.roll');
      await expectDrawn(panel, 'canvas.ssm');
      await ctx.shot('panel-light', panel);
      await runCommand(ctx.page, 'View: Focus First Editor Group');
      await quickOpen(ctx.page, 'harbour-lights.mid');
      const midi = await viewFrame(ctx.page, 'midi');
      await waitFor('the MIDI editor body to be light', () => midi.evaluate(() => document.body.classList.contains('vscode-light')));
      await expectDrawn(midi, 'canvas.roll');
      await expectDrawn(midi, 'canvas.ssm');
      await ctx.shot('midi-editor-light', midi);
    },
  },
  {
    name: 'the panel redraws in the high-contrast theme',
    needs: ['Refrain: Show Structure Panel opens the panel, which draws the tune\'s roll and AABB heatmap'],
    async run(ctx) {
      const panel = await showPanelForReel(ctx);
      await switchTheme(ctx, 'Default High Contrast', 'hc-black', 'vscode-high-contrast', panel);
      await waitFor('the heatmap background to turn black', async () => brightness(await dominantColour(panel, 'canvas.ssm')) < 10, { timeoutMs: 20_000 });
      await expectDrawn(panel, 'canvas.roll');
      await expectDrawn(panel, 'canvas.ssm');
      await ctx.shot('panel-high-contrast', panel);
    },
  },
  {
    name: 'at 1280x800 Generate is in view without scrolling; the bundled model\'s candidates show notation, and Insert writes the card\'s ABC and leaves the cards stale (screenshots)',
    needs: ['Refrain: Show Structure Panel opens the panel, which draws the tune\'s roll and AABB heatmap'],
    async run(ctx) {
      await ctx.page.setViewportSize({ width: 1280, height: 800 });
      try {
        await switchTheme(ctx, 'Default Dark Modern', 'vs-dark', 'vscode-dark');
        const frame = await showPanelForReel(ctx);
        const research = () => frame.evaluate(() => document.querySelector('vscode-collapsible')?.open === true);
        if (await research()) {
          await frame.locator('vscode-collapsible .collapsible-header').first().click();
          await waitFor('the research section to close', async () => !(await research()));
        }
        await frame.evaluate(() => window.scrollTo(0, 0));
        const box = await frame.evaluate(() => {
          const b = document.querySelector('vscode-button.generate')?.getBoundingClientRect();
          return { bottom: b?.bottom ?? Infinity, height: window.innerHeight, width: window.innerWidth };
        });
        check(box.bottom <= box.height, `Generate should be in view without scrolling: its bottom at ${box.bottom} px of a ${box.width}x${box.height} panel`);
        ctx.log(`panel ${box.width}x${box.height}, Generate's bottom at ${Math.round(box.bottom)} px`);
        // The bundled model (not the random-weight test model) for the screenshots.
        const bundled = await frame.evaluate(() => {
          const select = document.querySelectorAll('vscode-collapsible vscode-single-select')[1];
          const ids = Array.from(select?.querySelectorAll('vscode-option') ?? []).map((o) => o.value);
          const id = ['folk-tsrope', 'folk-rope', 'folk-srope'].find((m) => ids.includes(m)) ?? ids.find((m) => m !== 'tiny-folk');
          if (select && id) {
            select.value = id;
            select.dispatchEvent(new Event('change'));
          }
          return id;
        });
        ctx.log(`screenshot model: ${bundled ?? 'none found, the test model'}`);
        await frame.locator('vscode-button.generate').click();
        await waitFor('the candidates of the bundled model', async () => {
          const s = await frame.evaluate(() => ({ text: document.querySelector('.status')?.textContent ?? '', error: document.querySelector('.status')?.classList.contains('error') }));
          if (s.error) {
            throw new Error(`the panel reports an error: ${s.text}`);
          }
          return /candidates? ready/.test(s.text);
        }, { timeoutMs: 180_000 });
        await waitFor('the candidates\' notation', () => frame.evaluate(() => document.querySelectorAll('.candidates .mini-notation svg').length > 0));
        await frame.evaluate(() => window.scrollTo(0, 0));
        await ctx.shot('panel-1280x800', frame, { docs: true });
        // The cards just below the sticky header, with the first card's ABC open.
        await frame.evaluate(() => {
          document.querySelector('.candidates details.abc-text')?.setAttribute('open', '');
          const title = document.querySelector('.candidates-title');
          const header = document.querySelector('.header');
          if (title) {
            window.scrollTo(0, title.getBoundingClientRect().top + window.scrollY - (header?.getBoundingClientRect().height ?? 0) - 4);
          }
        });
        await ctx.shot('panel-candidates-1280x800', frame, { docs: true });
        // The tune playing: its notation just below the sticky header, the note playing marked.
        await frame.evaluate(() => {
          const title = Array.from(document.querySelectorAll('h2')).find((e) => e.textContent === 'The tune');
          const header = document.querySelector('.header');
          if (title) {
            window.scrollTo(0, title.getBoundingClientRect().top + window.scrollY - (header?.getBoundingClientRect().height ?? 0) - 4);
          }
        });
        await frame.locator('.header .actions vscode-button', { hasText: 'Play' }).first().click();
        try {
          await waitFor('a note of the tune marked as playing', () => frame.evaluate(() => document.querySelectorAll('.notation .abcjs-note.note-playing').length > 0), { timeoutMs: 20_000 });
          await sleep(700);
          await ctx.shot('panel-playing-1280x800', frame, { docs: true });
        } finally {
          await frame.locator('.header .actions vscode-button', { hasText: 'Stop' }).first().click();
        }
        const cardAbc = await frame.evaluate(() => document.querySelector('.candidates article.card pre.abc')?.textContent ?? '');
        check(/[A-Ga-g]/.test(cardAbc), `the first card should show its ABC: "${cardAbc}"`);
        await frame.locator('vscode-collapsible .collapsible-header').first().click();
        await waitFor('the research section to open', research);
        await frame.evaluate(() => document.querySelector('vscode-collapsible')?.scrollIntoView());
        await ctx.shot('panel-research-1280x800', frame, { docs: true });
        await frame.locator('vscode-collapsible .collapsible-header').first().click();
        await waitFor('the research section to close', async () => !(await research()));
        // The real model's candidate: Insert writes exactly the card's ABC, then the cards are stale.
        await insertFirstCard(ctx, frame, cardAbc, 'candidates-stale-1280x800');
        // Leave the panel as the other checks expect it: the test model, research section closed.
        await frame.evaluate(() => {
          const select = document.querySelectorAll('vscode-collapsible vscode-single-select')[1];
          if (select && Array.from(select.querySelectorAll('vscode-option')).some((o) => o.value === 'tiny-folk')) {
            select.value = 'tiny-folk';
            select.dispatchEvent(new Event('change'));
          }
        });
      } finally {
        await ctx.page.setViewportSize({ width: 1600, height: 1000 });
      }
    },
  },
  {
    name: 'Refrain: Get Started opens the walkthrough "Compose with Refrain" with its five steps (screenshot)',
    async run(ctx) {
      await ctx.page.setViewportSize({ width: 1280, height: 800 });
      try {
        // The whole window, so the steps and the step's page show side by side.
        await runCommand(ctx.page, 'View: Close All Editors');
        await runCommand(ctx.page, 'Refrain: Get Started');
        const titles = ['Open the example tune', 'Show the structure panel', 'Pick a form and generate', 'Insert a candidate', 'Play it'];
        await waitFor('the five steps', () =>
          ctx.page.evaluate((want) => {
            const text = document.querySelector('.part.editor')?.textContent ?? '';
            return text.includes('Compose with Refrain') && want.every((t) => text.includes(t));
          }, titles),
        );
        // The first step's page is markdown in a webview: wait until its text and image are drawn.
        await waitFor('the first step\'s page', async () => {
          for (const frame of ctx.page.frames()) {
            const drawn = await frame
              .evaluate(() => (document.body?.textContent ?? '').includes('Refrain works on tunes') && Array.from(document.images).some((i) => i.complete && i.naturalWidth > 0))
              .catch(() => false);
            if (drawn) {
              return true;
            }
          }
          return false;
        });
        await sleep(500);
        await ctx.shot('walkthrough-1280x800', undefined, { docs: true });
      } finally {
        await runCommand(ctx.page, 'View: Close All Editors').catch(() => undefined);
        await ctx.page.setViewportSize({ width: 1600, height: 1000 });
      }
    },
  },
  {
    name: 'the webviews and the extension logged no error and no Content-Security-Policy violation',
    async run(ctx) {
      const bad = ctx.webviewConsole.filter((m) => m.type === 'error' || /Content.Security.Policy|Refused to/i.test(m.text));
      check(bad.length === 0, `webview console:\n  ${bad.map((m) => `[${m.type}] ${m.text}`).join('\n  ')}`);
      const log = ctx.extensionLog();
      check(/\[info\] \[activate\]/.test(log), 'the extension log was not found, or the extension never activated');
      // The browser's benign "ResizeObserver loop completed with undelivered notifications" notice
      // reaches the view's window error handler, which logs it as an error (reported; left aside).
      const errors = log.split('\n').filter((line) => /^\S+ \S+ \[error\]/.test(line) && !/ResizeObserver loop/.test(line));
      check(errors.length === 0, `the extension logged errors:\n  ${errors.join('\n  ')}`);
      const notices = log.split('\n').filter((line) => /ResizeObserver loop/.test(line)).length;
      if (notices > 0) {
        ctx.log(`${notices} "ResizeObserver loop" notice(s) logged as errors by the views`);
      }
    },
  },
];
