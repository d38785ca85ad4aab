// Make docs/screenshot.png for the README: the page's top after the SGD cell has trained.
// Usage: cargo xtask build && node tools/screenshot.mjs   (needs tests/e2e/node_modules)
import { serve, launch } from '../tests/e2e/helpers.mjs';

const server = await serve();
const browser = await launch();
const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
const page = await context.newPage();
await page.goto(server.url + '#sgd');
await page.waitForSelector('body[data-ready]');
await page.click('#sgd-run');
await page.waitForSelector('#sgd-status[data-state="finished"]', { timeout: 120_000 });
await page.evaluate(() => document.querySelector('#sgd').scrollIntoView());
await page.screenshot({ path: 'docs/screenshot.png' });
await browser.close();
await server.close();
console.log('wrote docs/screenshot.png');
