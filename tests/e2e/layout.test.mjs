// The page reads well from a phone to a desktop: nothing sticks out past a narrow viewport,
// the desktop keeps its sidebar, and the charts redraw to the width they are given.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { serve, launch, openPage, screenshot, OUT } from './helpers.mjs';

let server;
let browser;
before(async () => {
  server = await serve();
  browser = await launch();
  await mkdir(OUT, { recursive: true });
});
after(async () => {
  await browser?.close();
  await server?.close();
});

/**
 * How wide the document is, and every element whose right edge passes the viewport, except
 * those inside a box that scrolls on its own (overflow-x auto or scroll: a table, a formula).
 */
function overflow(page) {
  return page.evaluate(() => {
    const vw = window.innerWidth;
    const scrollsOnItsOwn = (el) => {
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const o = getComputedStyle(p).overflowX;
        if (o === 'auto' || o === 'scroll') return true;
      }
      return false;
    };
    const name = (el) => {
      let s = el.tagName.toLowerCase();
      if (el.id) s += `#${el.id}`;
      if (typeof el.className === 'string' && el.className.trim()) s += `.${el.className.trim().split(/\s+/).join('.')}`;
      const cell = el.closest('section.cell');
      return cell && cell !== el ? `#${cell.id} ${s}` : s;
    };
    const offenders = [];
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue; // not rendered
      if (r.right > vw + 0.5 && !scrollsOnItsOwn(el)) {
        offenders.push(`${name(el)} (right ${r.right.toFixed(1)}, width ${r.width.toFixed(1)})`);
      }
    }
    return {
      innerWidth: vw,
      docWidth: document.documentElement.scrollWidth,
      bodyWidth: document.body.scrollWidth,
      offenders,
    };
  });
}

async function fitsPhone(width, height) {
  const { page, errors, context } = await openPage(browser, server.url, { width, height });
  const o = await overflow(page);
  const list = o.offenders.slice(0, 40).join('\n  ') + (o.offenders.length > 40 ? `\n  … and ${o.offenders.length - 40} more` : '');
  assert.ok(o.docWidth <= o.innerWidth && o.bodyWidth <= o.innerWidth,
    `at ${width}×${height} the document is ${o.docWidth} px wide (body ${o.bodyWidth}) for a ${o.innerWidth}-px viewport; ` +
    `elements past the right edge:\n  ${list}`);
  assert.deepEqual(o.offenders, [], `at ${width}×${height}, elements past the right edge:\n  ${list}`);
  // Charts take their cell's width (one per row on a phone), inside the viewport.
  const charts = await page.$$eval('.plots canvas', (cs) => cs
    .map((c) => ({ id: c.id, w: c.getBoundingClientRect().width, cell: c.parentElement.getBoundingClientRect().width }))
    .filter((c) => c.w > 0));
  for (const c of charts) {
    assert.ok(c.w >= 0.95 * c.cell, `#${c.id} is ${c.w.toFixed(1)} px wide in a ${c.cell.toFixed(1)}-px grid: not full width`);
  }
  await page.screenshot({ path: join(OUT, `layout-${width}.png`), fullPage: true });
  // The header and the first cell, as a student first sees them.
  const box = await page.evaluate(() => {
    const r = document.querySelector('section.cell').getBoundingClientRect();
    return { x: 0, y: 0, width: window.innerWidth, height: Math.ceil(r.bottom + window.scrollY + 8) };
  });
  await page.screenshot({ path: join(OUT, `layout-${width}-top.png`), clip: box, fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
}

test('at 390×844 (a phone) nothing is wider than the viewport', () => fitsPhone(390, 844));

test('at 360×740 (a small phone) nothing is wider than the viewport', () => fitsPhone(360, 740));

test('at 1400×1000 the contents sit beside the cells, as before', async () => {
  const { page, errors, context } = await openPage(browser, server.url, { width: 1400, height: 1000 });
  const [toc, main] = await page.$$eval('.layout > .toc, .layout > main', (els) => els.map((e) => {
    const r = e.getBoundingClientRect();
    return { left: r.left, right: r.right, top: r.top, width: r.width };
  }));
  assert.ok(toc.right <= main.left, `the contents (right ${toc.right}) should be left of main (left ${main.left})`);
  assert.ok(Math.abs(toc.top - main.top) < 1, `the contents (top ${toc.top}) and main (top ${main.top}) should start level`);
  assert.ok(main.width > 900, `main is ${main.width} px wide at 1400`);
  const o = await overflow(page);
  assert.ok(o.docWidth <= o.innerWidth, `the document is ${o.docWidth} px wide at 1400`);
  assert.deepEqual(o.offenders, []);
  await screenshot(page, 'layout-1400');
  assert.deepEqual(errors, []);
  await context.close();
});

test('shrinking the window from 1400 to 390 wide redraws the charts to the new width', async () => {
  const { page, errors, context } = await openPage(browser, server.url, { width: 1400, height: 1000 });
  const before = await page.$eval('#sgd-loss', (c) => c.getBoundingClientRect().width);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(400); // main.js redraws 150 ms after the last resize event
  // Every drawn chart's backing store is its new CSS box times devicePixelRatio (2 here).
  const stale = () => page.$$eval('section.cell canvas', (cs) => cs
    .map((c) => ({ id: c.id, w: c.width, css: c.getBoundingClientRect().width * window.devicePixelRatio }))
    .filter((c) => c.css > 0 && Math.abs(c.w - c.css) > 2)
    .map((c) => `#${c.id}: backing ${c.w} for ${c.css.toFixed(1)} device px`));
  // A busy machine may run the timer late: allow a little more before judging.
  for (let i = 0; i < 20 && (await stale()).length > 0; i++) await page.waitForTimeout(100);
  assert.deepEqual(await stale(), []);
  const [w, cssW, dpr] = await page.$eval('#sgd-loss', (c) => [c.width, c.getBoundingClientRect().width, window.devicePixelRatio]);
  assert.equal(dpr, 2);
  assert.ok(cssW < 390 && cssW < before, `#sgd-loss is ${cssW} CSS px wide at 390 (was ${before} at 1400)`);
  assert.ok(Math.abs(w - dpr * cssW) <= 2, `#sgd-loss: backing width ${w} for CSS width ${cssW}`);
  await screenshot(await page.$('#sgd'), 'layout-390-sgd-resized');
  assert.deepEqual(errors, []);
  await context.close();
});
