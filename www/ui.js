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
    coreFailed(el, err);
    return;
  }
  el.textContent = err instanceof Error ? err.message : String(err);
}

/**
 * The last line of defence: the wasm core trapped (a bug: every bad input is meant to be an
 * Error). Its memory can no longer be trusted, so no cell may call it again: the cell that
 * hit it says so, every Run button is disabled, and a banner offers a reload, which loses
 * nothing but the runs in progress (every setting is in the link).
 */
function coreFailed(el, err) {
  const where = el.closest('.cell')?.querySelector('h2')?.textContent ?? 'a cell';
  el.textContent = `Descent's core stopped on an internal error here (${err.message}). This is a bug in Descent, not in your settings; reload the page to go on.`;
  if (document.body.dataset.core === 'failed') return;
  document.body.dataset.core = 'failed';
  for (const b of document.querySelectorAll('button.run')) b.disabled = true;
  const banner = document.getElementById('core-error');
  banner.hidden = false;
  banner.textContent = `Descent's core stopped on an internal error in “${where}”, so every cell is paused. Your settings are all in the link: `;
  const reload = document.createElement('button');
  reload.className = 'small';
  reload.textContent = 'Reload';
  reload.addEventListener('click', () => location.reload());
  banner.append(reload);
}

export const pct = (x) => `${(100 * x).toFixed(1)}%`;

/** Text made safe to put inside HTML (what a student typed or named never becomes markup). */
export const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
