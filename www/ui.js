// Small helpers shared by the cells: canvas sizing, number parsing, messages.

/** Size a canvas's backing store to its CSS box times devicePixelRatio; returns the ratio. */
export function sizeCanvas(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const r = canvas.getBoundingClientRect();
  const w = Math.max(1, Math.round(r.width * dpr));
  const h = Math.max(1, Math.round(r.height * dpr));
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  return dpr;
}

/** "128, 64" → Uint32Array [128, 64]; throws a readable Error otherwise. Empty is allowed. */
export function parseSizes(text, what = 'hidden sizes') {
  const parts = text.split(/[,\s]+/).filter((s) => s.length > 0);
  const sizes = parts.map((s) => Number(s));
  if (sizes.some((v) => !Number.isInteger(v) || v < 1 || v > 4096)) {
    throw new Error(`${what}: "${text}" should be whole numbers from 1 to 4096, separated by commas`);
  }
  return Uint32Array.from(sizes);
}

/** A number input's value, checked against [min, max]. */
export function readNumber(el, what, { min = -Infinity, max = Infinity, integer = false } = {}) {
  const v = Number(el.value);
  if (el.value.trim() === '' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    const kind = integer ? 'a whole number' : 'a number';
    throw new Error(`${what}: "${el.value}" is not ${kind} between ${min} and ${max}`);
  }
  return v;
}

/** Show (or with null, hide) an error message box. */
export function showError(el, err) {
  if (!err) {
    el.hidden = true;
    el.textContent = '';
    return;
  }
  el.hidden = false;
  if (err instanceof WebAssembly.RuntimeError) {
    coreTrapped(el, err);
    return;
  }
  el.textContent = err instanceof Error ? err.message : String(err);
}

/** The page's way back from a trap (main.js sets it): re-instantiates the core, resets the cells. */
let recovery = null;
export function onCoreTrap(recover) {
  recovery = recover;
}

/**
 * The last line of defence: the wasm core trapped (a bug: every bad input is meant to be an
 * Error). Its memory can no longer be trusted, so the page throws the instance away: the cell
 * that hit it says so, `body[data-core=restarting]` stops every frame loop, and `recovery`
 * (main.js) makes a fresh instance of the same module and sets every cell back to idle. A
 * notice says the core restarted. Should that fail, or trap again before it is done, nothing
 * may call the core any more: every Run button is disabled and a banner offers a reload, which
 * loses nothing but the runs in progress (every setting is in the link).
 */
function coreTrapped(el, err) {
  const where = el.closest('.cell')?.querySelector('h2')?.textContent ?? 'a cell';
  const state = document.body.dataset.core;
  if (state === 'failed') {
    el.textContent = `Descent's core stopped on an internal error here (${err.message}). This is a bug in Descent, not in your settings; reload the page to go on.`;
    return;
  }
  el.textContent = `Descent's core stopped on an internal error here (${err.message}). This is a bug in Descent, not in your settings; the core was restarted, so press Run to start again.`;
  if (state === 'restarting' || !recovery) {
    coreFailed(el, err, where);
    return;
  }
  document.body.dataset.core = 'restarting';
  let done;
  try {
    done = recovery({ where, errorBox: el });
  } catch (e) {
    done = Promise.reject(e);
  }
  Promise.resolve(done).then(
    () => {
      if (document.body.dataset.core !== 'restarting') return; // a second trap meanwhile
      delete document.body.dataset.core;
      restartedNotice(where);
    },
    (e) => {
      console.error(e);
      coreFailed(el, err, where);
    },
  );
}

/** Recovery failed: every cell stays paused and a banner offers a reload. */
function coreFailed(el, err, where) {
  el.textContent = `Descent's core stopped on an internal error here (${err.message}). This is a bug in Descent, not in your settings; reload the page to go on.`;
  if (document.body.dataset.core === 'failed') return;
  document.body.dataset.core = 'failed';
  for (const b of document.querySelectorAll('button.run')) b.disabled = true;
  const banner = document.getElementById('core-error');
  banner.className = 'error';
  banner.hidden = false;
  banner.textContent = `Descent's core stopped on an internal error in “${where}” and could not be restarted, so every cell is paused. Your settings are all in the link: `;
  const reload = document.createElement('button');
  reload.className = 'small';
  reload.textContent = 'Reload';
  reload.addEventListener('click', () => location.reload());
  banner.append(reload);
}

/** How long the "core restarted" notice stays (it can be dismissed before). */
const NOTICE_MS = 20_000;
let noticeTimer;

function restartedNotice(where) {
  const banner = document.getElementById('core-error');
  banner.className = 'notice';
  banner.hidden = false;
  banner.textContent = `Descent's core stopped on an internal error in “${where}” and was restarted; the runs in progress were reset. `;
  const dismiss = document.createElement('button');
  dismiss.className = 'small';
  dismiss.textContent = 'Dismiss';
  dismiss.addEventListener('click', () => {
    banner.hidden = true;
  });
  banner.append(dismiss);
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => {
    if (banner.className === 'notice') banner.hidden = true;
  }, NOTICE_MS);
}

export const pct = (x) => `${(100 * x).toFixed(1)}%`;

/** Text made safe to put inside HTML (what a student typed or named never becomes markup). */
export const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
