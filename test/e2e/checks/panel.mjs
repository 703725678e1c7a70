// The structure panel on the AABB reel: the ABC language, drawing, the notation, the structure
// controls, Generate, playback, Insert and Regenerate Selected Bars.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, EXAMPLES, BUNDLED_MODEL, GENERATION, DEFAULT_OFFSETS, TINY_LAYERS } from '../lib/fixtures.mjs';
import { sameColour, expectDrawn, writtenBars, panelHeader, insertFirstCard, chooseModel } from '../lib/checkSteps.mjs';
import {
  answerDialog,
  canvasHash,
  check,
  focusActiveEditor,
  goToLine,
  heatmapCell,
  languageStatus,
  openQuickPickRows,
  pickOpenRow,
  quickOpen,
  runCommand,
  viewFrame,
  waitFor,
} from '../lib/workbench.mjs';

/** @type {{ name: string, needs?: string[], run: (ctx: object) => Promise<void> }[]} */
export const PANEL_CHECKS = [
  {
    name: 'an ABC file opens as Refrain\'s "ABC notation" language',
    async run(ctx) {
      // More room for the panel: no side bar.
      await runCommand(ctx.page, 'View: Close Primary Side Bar');
      await quickOpen(ctx.page, FIXTURES.reel);
      await waitFor('the language status to say ABC notation', async () => (await languageStatus(ctx.page)) === 'ABC notation');
    },
  },
  {
    name: 'Refrain: Show Structure Panel opens the panel, which draws the tune\'s roll and AABB heatmap',
    needs: ['an ABC file opens as Refrain\'s "ABC notation" language'],
    async run(ctx) {
      await runCommand(ctx.page, 'Refrain: Show Structure Panel');
      const frame = await viewFrame(ctx.page, 'panel');
      ctx.panel = frame;
      const header = await waitFor('the panel header to name the tune', async () => {
        const h = await panelHeader(frame);
        return h.title === 'Harbour Wall' ? h : undefined;
      });
      // 16 written bars, both parts repeated: 32 performed.
      check(/\b32 bars\b/.test(header.subtitle), `the subtitle should count 32 bars: "${header.subtitle}"`);
      check(header.subtitle.includes('4/4') && header.subtitle.includes('D major'), `meter and key missing: "${header.subtitle}"`);
      await expectDrawn(frame, 'canvas.roll');
      await expectDrawn(frame, 'canvas.ssm');
      await expectDrawn(frame, 'canvas.chart');
      // The heatmap shows the form: bar 1 against its repeat (bar 9) looks like the diagonal,
      // bar 1 against the B part (bar 17) does not; likewise within B.
      const diag = await heatmapCell(frame, 'canvas.ssm', 32, 0, 0);
      const repeatA = await heatmapCell(frame, 'canvas.ssm', 32, 0, 8);
      const aVsB = await heatmapCell(frame, 'canvas.ssm', 32, 0, 16);
      const repeatB = await heatmapCell(frame, 'canvas.ssm', 32, 16, 24);
      check(sameColour(diag, repeatA), `bar 1 x bar 9 (a repeat) should look like the diagonal: ${diag} vs ${repeatA}`);
      check(sameColour(diag, repeatB), `bar 17 x bar 25 (a repeat) should look like the diagonal: ${diag} vs ${repeatB}`);
      check(!sameColour(diag, aVsB), `bar 1 x bar 17 (A against B) should not look like the diagonal: ${aVsB}`);
      await ctx.shot('panel-dark', frame);
    },
  },
  {
    name: 'the panel shows the tune as sheet music; a click on a bar selects it in the editor, the heatmap follows, and a heatmap or piano-roll click highlights the notation',
    needs: ['Refrain: Show Structure Panel opens the panel, which draws the tune\'s roll and AABB heatmap'],
    async run(ctx) {
      const frame = ctx.panel;
      const written = writtenBars(ctx, join(ctx.workspace, FIXTURES.reel)).written;
      // abcjs numbers the measures it draws (abcjs-mm0, 1, ...) on each note.
      const measures = await waitFor('the notation to be drawn', async () => {
        const m = await frame.evaluate(() => {
          const svgs = document.querySelectorAll('.notation svg').length;
          const numbers = new Set();
          for (const note of Array.from(document.querySelectorAll('.notation svg .abcjs-note'))) {
            for (const c of Array.from(note.classList)) {
              if (/^abcjs-mm\d+$/.test(c)) {
                numbers.add(c);
              }
            }
          }
          return { svgs, measures: numbers.size };
        });
        return m.svgs > 0 && m.measures > 0 ? m : undefined;
      });
      check(measures.measures === written, `the notation should draw the ${written} written bars: ${measures.measures}`);
      // Bar 5 (first bar of the second line) in the notation: the editor selects it (line 10 of the file).
      // abcjs picks the note nearest the pointer on its SVG (staff lines lie over the notes), and the
      // panel's header is sticky: bring the note to the middle, then click where it is.
      const note = frame.locator('.notation svg .abcjs-note.abcjs-mm4').first();
      await note.evaluate((n) => n.scrollIntoView({ block: 'center' }));
      await note.click({ force: true });
      await waitFor('the panel to say bar 5 is selected', () => frame.evaluate(() => document.querySelector('.status')?.textContent === 'Bar 5 selected.'));
      // The editor draws its selection even while the panel has focus: the selected text is on the
      // line whose top matches the selection's, and it is bar 5 as written.
      const selection = await waitFor('the editor to select bar 5', () =>
        ctx.page.evaluate(() => {
          const editor = document.querySelector('.part.editor .editor-group-container .monaco-editor');
          const selected = editor?.querySelector('.view-overlays .selected-text');
          if (!editor || !selected) {
            return undefined;
          }
          const top = selected.getBoundingClientRect().top;
          const line = Array.from(editor.querySelectorAll('.view-lines .view-line')).find((l) => Math.abs(l.getBoundingClientRect().top - top) < 2);
          const text = (line?.textContent ?? '').replace(/\u00a0/g, ' ');
          return text.startsWith('A2FA d2fd|edcB AGFE|') ? text : undefined;
        }),
      );
      ctx.log(`editor after a notation click: ${selection}`);
      const highlighted = await frame.evaluate(() => document.querySelectorAll('.notation .bar-selected').length);
      check(highlighted > 0, 'the clicked bar should be highlighted in the notation');
      // A heatmap click on bars 17 x 1: the notation highlights bar 17's written bar (first of the B part).
      const side = await frame.evaluate(() => document.querySelector('canvas.ssm').getBoundingClientRect().width);
      await frame.locator('canvas.ssm').click({ position: { x: (0.5 * side) / 32, y: (16.5 * side) / 32 } });
      await waitFor('the notation to highlight the B part\'s first bar', () =>
        frame.evaluate(() => Array.from(document.querySelectorAll('.notation svg .abcjs-note.abcjs-mm8')).some((n) => n.classList.contains('bar-selected'))),
      );
      // A piano-roll click on bar 13 (the A part's second pass, written bar 5): the notation follows.
      // The roll's bar columns line up with the heatmap's (the same side, 32 bars).
      const roll = frame.locator('canvas.roll');
      await roll.evaluate((c) => c.scrollIntoView({ block: 'center' }));
      await roll.click({ position: { x: (12.5 * side) / 32, y: 40 } });
      await waitFor('the panel to say bar 13 is selected', () => frame.evaluate(() => document.querySelector('.status')?.textContent === 'Bar 13 selected.'));
      await waitFor('the notation to highlight bar 13\'s written bar (bar 5)', () =>
        frame.evaluate(() => {
          const marked = Array.from(document.querySelectorAll('.notation svg .abcjs-note.bar-selected'));
          return marked.length > 0 && marked.every((n) => n.classList.contains('abcjs-mm4'));
        }),
      );
      await ctx.shot('panel-notation-dark', frame);
    },
  },
  {
    name: 'the related-offset toggles and mask-scale controls are shown and respond',
    needs: ['Refrain: Show Structure Panel opens the panel, which draws the tune\'s roll and AABB heatmap'],
    async run(ctx) {
      const frame = ctx.panel;
      // The research controls sit in a collapsible section below the music: open it as a user does.
      await frame.locator('vscode-collapsible .collapsible-header').first().click();
      await waitFor('the research section to open', () => frame.evaluate(() => document.querySelector('vscode-collapsible')?.open === true));
      const models = await frame.evaluate(() => Array.from(document.querySelectorAll('vscode-collapsible vscode-single-select')[1]?.querySelectorAll('vscode-option') ?? []).map((o) => o.textContent));
      check(models.length > 0 && models.every((m) => /follows the form: \d+%|not measured/.test(m)), `each model should be labelled with its measured compliance: ${models.join(' | ')}`);
      const line = await frame.evaluate(() => document.querySelector('.model-line')?.textContent ?? '');
      check(!/(\d+ layers?).*\1/.test(line), `the model line repeats itself: "${line}"`);
      const offsets = await waitFor('the related-offset toggles', async () => {
        const o = await frame.evaluate(() => Array.from(document.querySelectorAll('.offsets vscode-checkbox')).map((b) => ({ label: b.label, checked: b.checked })));
        return o.length > 0 ? o : undefined;
      });
      check(JSON.stringify(offsets.map((o) => Number(o.label))) === JSON.stringify(DEFAULT_OFFSETS), `offsets shown: ${offsets.map((o) => o.label).join(',')}`);
      check(offsets.every((o) => o.checked), 'every default offset should start switched on');
      // Switch offset 2 off with a click: the box unchecks and the L_t chart redraws its offset marks.
      const chartBefore = await canvasHash(frame, 'canvas.chart');
      const box = frame.locator('.offsets vscode-checkbox').nth(DEFAULT_OFFSETS.indexOf(2));
      await box.click();
      await waitFor('offset 2 to be switched off', () => box.evaluate((b) => b.checked === false));
      await waitFor('the L_t chart to redraw without offset 2', async () => (await canvasHash(frame, 'canvas.chart')) !== chartBefore);
      // One window select per model layer; choose "last 256" for layer 2 through the dropdown.
      const layers = frame.locator('.layers vscode-single-select');
      await waitFor(`${TINY_LAYERS} layer window selects (the tiny model's layers)`, async () => (await layers.count()) === TINY_LAYERS);
      const layer2 = layers.nth(1);
      check((await layer2.evaluate((s) => s.value)) === '0', 'layer 2 should start at "all tokens"');
      await layer2.click();
      const option = layer2.locator('li[role="option"]', { hasText: 'last 256' });
      await waitFor('the layer 2 dropdown to open', () => option.isVisible());
      await option.click();
      await waitFor('layer 2 to read "last 256"', () => layer2.evaluate((s) => s.value === '256'));
    },
  },
  {
    name: `Generate shows ${GENERATION.candidates} candidate cards (the candidates setting), each with metrics`,
    needs: ['the related-offset toggles and mask-scale controls are shown and respond'],
    async run(ctx) {
      const frame = ctx.panel;
      // Musical controls first: collapse the research section again (the panel remembers it).
      await frame.locator('vscode-collapsible .collapsible-header').first().click();
      await waitFor('the research section to close', () => frame.evaluate(() => document.querySelector('vscode-collapsible')?.open === false));
      const fields = await frame.evaluate(() => ({
        bars: document.getElementById('field-bars')?.value,
        candidates: document.getElementById('field-candidates')?.value,
      }));
      check(fields.candidates === String(GENERATION.candidates), `the Candidates field should start from the setting (${GENERATION.candidates}): ${fields.candidates}`);
      check(fields.bars === String(GENERATION.bars), `the Bars field should start from the setting (${GENERATION.bars}): ${fields.bars}`);
      await frame.locator('.generate-row vscode-button').first().click();
      const status = await waitFor('the candidates to be ready', async () => {
        const s = await frame.evaluate(() => ({ text: document.querySelector('.status')?.textContent ?? '', error: document.querySelector('.status')?.classList.contains('error') }));
        if (s.error) {
          throw new Error(`the panel reports an error: ${s.text}`);
        }
        return /candidates? ready/.test(s.text) ? s.text : undefined;
      }, { timeoutMs: 180_000 });
      const cards = await frame.evaluate(() =>
        Array.from(document.querySelectorAll('.candidates article.card')).map((card) => ({
          label: card.querySelector('header strong')?.textContent ?? '',
          newBars: card.querySelector('header .hint')?.textContent ?? '',
          metrics: Array.from(card.querySelectorAll('.metrics dt')).map((dt) => [dt.textContent, dt.nextElementSibling?.textContent ?? '']),
          words: Array.from(card.querySelectorAll('.words li')).map((li) => li.textContent ?? ''),
          tooltip: card.querySelector('.words')?.getAttribute('title') ?? '',
          abc: card.querySelector('pre.abc')?.textContent ?? '',
          notation: card.querySelectorAll('.mini-notation svg').length,
          insert: Array.from(card.querySelectorAll('.card-actions vscode-button')).some((b) => b.textContent === 'Insert'),
        })),
      );
      check(cards.length === GENERATION.candidates, `expected ${GENERATION.candidates} cards, got ${cards.length} (status "${status}")`);
      for (const [k, card] of cards.entries()) {
        check(card.newBars.includes(`+${GENERATION.bars} bars`), `card ${k + 1} should add ${GENERATION.bars} bars: "${card.newBars}"`);
        check(card.label === `Candidate ${k + 1}`, `card ${k + 1} label: "${card.label}"`);
        check(card.metrics.length >= 1, `card ${k + 1} has no metrics`);
        for (const [name, value] of card.metrics) {
          check(name.length > 0 && Number.isFinite(Number(value)), `card ${k + 1} metric "${name}" is not a number: "${value}"`);
        }
        check(card.metrics.some(([name]) => name === 'log-likelihood'), `card ${k + 1} lacks the log-likelihood`);
        check(card.insert, `card ${k + 1} has no Insert button`);
        check(card.words.some((w) => /^follows the form: \d+%$/.test(w)), `card ${k + 1} should say how it follows the form: ${card.words.join(' | ')}`);
        check(/log-likelihood/.test(card.tooltip), `card ${k + 1}'s tooltip should hold the raw figures: "${card.tooltip}"`);
        check(card.notation > 0, `card ${k + 1} should show its new bars as notation`);
        check(/\|/.test(card.abc) && /[A-Ga-g]/.test(card.abc), `card ${k + 1} should show its ABC: "${card.abc}"`);
        await expectDrawn(frame, `.candidates article.card:nth-of-type(${k + 1}) canvas.mini-ssm`, 2);
      }
      ctx.cardAbc = cards[0].abc;
      ctx.log(`candidates: ${cards.map((c) => `${c.label} [${c.words.join(', ')}; ${c.metrics.map(([n, v]) => `${n} ${v}`).join(', ')}]`).join('; ')}`);
      await frame.locator('.candidates article.card').first().scrollIntoViewIfNeeded();
      await ctx.shot('candidates-dark', frame);
    },
  },
  {
    name: 'during playback the note playing is highlighted in the notation, for the tune and for a candidate\'s new bars',
    needs: [`Generate shows ${GENERATION.candidates} candidate cards (the candidates setting), each with metrics`],
    async run(ctx) {
      const frame = ctx.panel;
      /** The notes marked as playing under `root`: their abcjs note and measure classes, and whether their bar is marked too. */
      const marked = (root) =>
        frame.evaluate((sel) => {
          const notes = Array.from(document.querySelectorAll(`${sel} .note-playing`));
          const bars = new Set(Array.from(document.querySelectorAll(`${sel} .bar-playing`)).flatMap((e) => Array.from(e.classList).filter((c) => /^abcjs-mm\d+$/.test(c))));
          const status = document.querySelector('.status');
          if (status?.classList.contains('error')) {
            throw new Error(`the panel reports an error: ${status.textContent}`);
          }
          return notes.map((n) => {
            const classes = Array.from(n.classList);
            const measure = classes.find((c) => /^abcjs-mm\d+$/.test(c)) ?? '';
            return { id: `${measure} ${classes.find((c) => /^abcjs-n\d+$/.test(c)) ?? ''}`, inBar: bars.has(measure), note: classes.includes('abcjs-note') };
          });
        }, root);
      const stop = () => frame.locator('.header .actions vscode-button', { hasText: 'Stop' }).first().click();
      try {
        // The tune: Play, then the marked note moves on, inside the bar marked as playing.
        await frame.evaluate(() => window.scrollTo(0, 0));
        // "Play" comes before "Play bars".
        await frame.locator('.header .actions vscode-button', { hasText: 'Play' }).first().click();
        const first = await waitFor('a note of the tune to be marked as playing', async () => {
          const m = await marked('.notation');
          return m.some((n) => n.note) ? m : undefined;
        }, { timeoutMs: 20_000 });
        check(first.every((n) => n.inBar), `the note playing should lie in the bar playing: ${JSON.stringify(first)}`);
        const firstId = first.map((n) => n.id).join(',');
        const next = await waitFor('the mark to move to a later note', async () => {
          const m = await marked('.notation');
          const id = m.map((n) => n.id).join(',');
          return m.some((n) => n.note) && id !== firstId ? id : undefined;
        }, { timeoutMs: 20_000 });
        ctx.log(`tune: playing ${firstId}, then ${next}`);
        await ctx.shot('notation-playing-dark', frame);
        await stop();
        await waitFor('the marks to clear when playback stops', async () => (await marked('.notation')).length === 0, { timeoutMs: 10_000 });
        // A candidate: its card's Play plays the piece's last bar, then the new bars drawn on the card.
        const card = frame.locator('.candidates article.card').first();
        await card.scrollIntoViewIfNeeded();
        await card.locator('.card-actions vscode-button', { hasText: 'Play' }).first().click();
        const inCard = await waitFor('a note of the candidate\'s notation to be marked as playing', async () => {
          const m = await marked('.candidates article.card:first-of-type .mini-notation');
          return m.some((n) => n.note) ? m : undefined;
        }, { timeoutMs: 30_000 });
        ctx.log(`candidate: playing ${inCard.map((n) => n.id).join(',')}`);
        await ctx.shot('candidate-playing-dark', frame);
        await stop();
        await waitFor('the candidate\'s mark to clear', async () => (await marked('.candidates .mini-notation')).length === 0, { timeoutMs: 10_000 });
      } finally {
        await stop().catch(() => undefined);
      }
    },
  },
  {
    name: 'Insert adds the candidate\'s bars to the tune in the editor, and one Undo takes them out',
    needs: [`Generate shows ${GENERATION.candidates} candidate cards (the candidates setting), each with metrics`],
    async run(ctx) {
      await insertFirstCard(ctx, ctx.panel, ctx.cardAbc, 'candidates-stale-dark');
    },
  },
  {
    name: 'Regenerate Selected Bars on the unmodified example tune: a bar inside |: :| is regenerated in every pass after a confirm, as one undo step (bundled model)',
    async run(ctx) {
      const { page } = ctx;
      const file = join(ctx.workspace, EXAMPLES);
      const textBefore = readFileSync(file, 'utf8');
      check(textBefore === readFileSync(join(ctx.repoRoot, 'examples', EXAMPLES), 'utf8'), 'the example tunes should be copied unmodified');
      // Bar 2 of The Lamplighter's Reel (after the pickup), inside the A part's |: ... :|.
      const lines = textBefore.split('\n');
      const lineNo = lines.findIndex((l) => l.startsWith('|:A2|"D"d2fd AdFA|"G"B2dB "D"AFDF|')) + 1;
      check(lineNo > 0, 'the example reel\'s first line of music was not found');
      const oldBar = '"G"B2dB "D"AFDF';
      const column = lines[lineNo - 1].indexOf(oldBar) + 1;
      const barStart = lines.slice(0, lineNo - 1).join('\n').length + 1 + lines[lineNo - 1].indexOf(oldBar);
      const before = writtenBars(ctx, file);
      await chooseModel(ctx, BUNDLED_MODEL);
      try {
        await runCommand(page, 'View: Focus First Editor Group');
        await quickOpen(page, EXAMPLES);
        await focusActiveEditor(page);
        // Select the bar's text as a user does (the whole bar, on a line of four).
        await goToLine(page, lineNo, column);
        for (let k = 0; k < oldBar.length; k++) {
          await page.keyboard.press('Shift+ArrowRight');
        }
        await waitFor('the bar to be selected', () =>
          page.evaluate((n) => (document.getElementById('status.editor.selection')?.textContent ?? '').includes(`(${n} selected)`), oldBar.length),
        );
        await runCommand(page, 'Refrain: Regenerate Selected Bars');
        // Asked before anything is generated: no progress notification yet.
        const message = await answerDialog(page, undefined);
        ctx.log(`confirm: ${message}`);
        check(/^Bar \d+ lies inside a repeat/.test(message.trim()) && /played 2 times/.test(message), `the confirm should name the one selected bar and say it is repeated: "${message}"`);
        const generating = await page.evaluate(() => /Refrain: regenerating/.test(document.querySelector('.notifications-toasts')?.textContent ?? ''));
        check(!generating, 'generation should wait for the confirm');
        await answerDialog(page, 'Regenerate in every pass');
        const rows = await openQuickPickRows(page, (row) => row.startsWith('Candidate 1'), 'the candidate picker', 180_000);
        ctx.log(`picker: ${rows.map((r) => r.text).join(' || ')}`);
        check(rows.length === GENERATION.candidates, `the picker should list ${GENERATION.candidates} candidates: ${rows.length}`);
        for (const r of rows) {
          check(/bar \d+ ·/.test(r.text) && !/bars (\d+)-\1\b/.test(r.text), `a one-bar candidate should be labelled "bar N": "${r.text}"`);
          check(/[A-Ga-g][,']*\d*/.test(r.text.replace(/^Candidate \d+/, '')), `the picker should show the candidate's ABC: "${r.text}"`);
        }
        await pickOpenRow(page, (row) => row.startsWith('Candidate 1'), 'candidate 1');
        const after = await waitFor('the regenerated bar to be saved', () => {
          const text = readFileSync(file, 'utf8');
          return text !== textBefore ? text : undefined;
        });
        // Only that bar's text changed: written once, it is played anew in both passes.
        const barEnd = barStart + oldBar.length;
        const suffix = textBefore.slice(barEnd);
        check(after.startsWith(textBefore.slice(0, barStart)) && after.endsWith(suffix), `only the bar should change:\n${after}`);
        const newBar = after.slice(barStart, after.length - suffix.length);
        ctx.log(`the repeated bar: ${oldBar} -> ${newBar}`);
        check(newBar !== oldBar && /[A-Ga-g]/.test(newBar) && !newBar.includes('\n'), `the new bar should hold new notes on the same line: "${newBar}"`);
        check(rows[0].text.includes(newBar.trim()), `the picker's item should show the ABC Insert writes ("${newBar}"): "${rows[0].text}"`);
        const bars = writtenBars(ctx, file);
        check(bars.written === before.written && bars.performed === before.performed, `bar counts changed: ${JSON.stringify(before)} -> ${JSON.stringify(bars)}`);
        // One undo step gives the file back byte for byte.
        await focusActiveEditor(page);
        await page.keyboard.press('Control+Z');
        await waitFor('one Undo to restore the example tunes', () => readFileSync(file, 'utf8') === textBefore);
      } finally {
        await chooseModel(ctx, 'tiny-folk');
      }
    },
  },
];
