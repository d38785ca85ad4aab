// The page's whole state lives in the URL's query string (?seed=1&sgd.lr=0.1…), so any
// experiment is a link. The hash stays free for the table of contents' anchors.

const params = new URLSearchParams(location.search);
/** The keys a control is bound to; the others are dropped once the page is set up. */
const bound = new Set();

/** The saved value of `key`, or `fallback`. */
export function get(key, fallback) {
  const v = params.get(key);
  return v === null ? fallback : v;
}

/** Save `key` (or remove it when `value` equals `fallback`) without reloading the page. */
export function set(key, value, fallback) {
  if (value === undefined || value === null || String(value) === String(fallback)) params.delete(key);
  else params.set(key, String(value));
  const q = params.toString();
  history.replaceState(null, '', `${location.pathname}${q ? '?' + q : ''}${location.hash}`);
}

/** Drop `key` from the link (a value no control could hold). */
export function forget(key) {
  set(key, null, null);
}

/** Every key a control is bound to. */
export function boundKeys() {
  return [...bound];
}

/**
 * Bind a form control to the URL: restore it now, save it on every change.
 * The control's initial value in the HTML is the default.
 */
export function bind(el, key) {
  bound.add(key);
  const isCheck = el.type === 'checkbox';
  const fallback = isCheck ? el.checked : el.value;
  const saved = get(key, null);
  if (saved !== null) {
    if (isCheck) el.checked = saved === 'true';
    else el.value = saved;
  }
  el.addEventListener('change', () => set(key, isCheck ? el.checked : el.value, fallback));
  return el;
}

/**
 * Drop every URL key no control is bound to (a stale or tampered link), keeping `also`;
 * returns the keys dropped.
 */
export function dropUnknown(also = []) {
  const extra = [...params.keys()].filter((k) => !bound.has(k) && !also.includes(k));
  for (const k of extra) params.delete(k);
  if (extra.length > 0) {
    const q = params.toString();
    history.replaceState(null, '', `${location.pathname}${q ? '?' + q : ''}${location.hash}`);
  }
  return extra;
}
