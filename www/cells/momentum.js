// Cell "Momentum" (lab::landscape): plain SGD, momentum and (ticked) Nesterov from one start on
// a conditioned quadratic or Rosenbrock's valley, revealed over a contour map. The wasm class
// keeps the map's and the distance plot's still parts between frames. A click on the map
// starts the runs there; switching the surface loads its option's data-defaults; any change
// runs again; Reset shows step 0 (as on load).
import { Landscape } from '../../pkg/descent.js';
import { defineCell } from '../cell.js';

const $ = (id) => document.getElementById(id);
const fmt = (v) => (v == null ? '–' : v === 0 ? '0' : Math.abs(v) >= 0.01 && Math.abs(v) < 1e4 ? v.toPrecision(3).replace(/\.?0+$/, '') : v.toExponential(1));

/** The read-out: the step shown and, per run, whether it has arrived or blown up so far. */
function text(r, tol) {
  const parts = r.runs.map((s) => {
    let what = '…';
    if (s.reached != null) what = `within ${tol} of the minimum from step <b>${s.reached}</b> on`;
    else if (s.divergedAt != null) what = `<span class="bad">diverged</span> (step ${s.divergedAt})`;
    else if (r.shown >= r.steps) what = `not within ${tol} in ${r.steps} steps (distance ${fmt(s.finalDistance)})`;
    const done = r.shown >= r.steps || what !== '…';
    return `<span data-run="${s.key}" data-reached="${s.reached ?? ''}" data-diverged="${s.divergedAt ?? ''}" data-done="${done}">` +
      `<span class="swatch c${s.color}"></span><span class="run-name">${s.name}</span>: ${what}</span>`;
  });
  return `step ${Math.min(r.shown, r.steps)} / ${r.steps} · ${parts.join(' · ')}`;
}

export function setup(ctx) {
  const status = $('momentum-status');
  const surface = $('momentum-surface');
  const kappa = $('momentum-kappa');
  const kappaOut = $('momentum-kappa-out');
  const map = $('momentum-map');
  let builds = 0; // counts builds, so the change events of one edit run the cell once
  let animate = true; // false while Reset builds

  const cell = defineCell('momentum', {
    error: 'momentum-error',
    controls: {
      surface: {},
      kappa: { label: 'condition number', kind: 'int' }, // a range input
      angle: { label: 'tilt', kind: 'number' },
      lr: { label: 'learning rate' },
      mu: { label: 'momentum', kind: 'number' },
      nesterov: {},
      steps: { label: 'steps' },
      x: { label: 'start x' },
      y: { label: 'start y' },
      tol: {},
    },
    build(v) {
      builds += 1;
      return new Landscape({
        surface: v.surface, kappa: v.kappa, angle: v.angle, lr: v.lr, momentum: v.mu, nesterov: v.nesterov,
        start: [v.x, v.y], steps: v.steps, tol: Number(v.tol), animate,
      });
    },
    charts: { map: { canvas: 'momentum-map' }, distance: { canvas: 'momentum-distance' } },
    readout: (r, phase, v) => text(r, v.tol),
    // Reset and load show step 0 without the "done in" tail of a finished run.
    update: (r, phase, v) => { if (phase === 'idle') status.innerHTML = text(r, v.tol); },
  }, ctx);

  function reset() {
    animate = false;
    cell.start();
    animate = true;
  }
  /** Run again once the current event's changes are all in (unless something ran already). */
  function rerun() {
    const seen = builds;
    queueMicrotask(() => { if (builds === seen) cell.start(); });
  }
  /** Set controls (saving them to the URL) by name. */
  function set(values) {
    for (const [name, v] of Object.entries(values)) {
      const el = cell.controls[name].el;
      if (el.type === 'checkbox') el.checked = Boolean(v);
      else el.value = String(v);
      el.dispatchEvent(new Event('change'));
    }
  }
  function syncSurface() {
    const quad = surface.value === 'quadratic';
    kappa.disabled = !quad;
    $('momentum-angle').disabled = !quad;
    kappaOut.textContent = kappa.value;
  }

  let shownSurface = surface.value;
  surface.addEventListener('change', () => {
    if (surface.value !== shownSurface) {
      shownSurface = surface.value;
      set(JSON.parse(surface.selectedOptions[0].dataset.defaults));
    }
    syncSurface();
    rerun();
  });
  for (const name of ['kappa', 'angle', 'lr', 'mu', 'nesterov', 'steps', 'x', 'y', 'tol']) cell.controls[name].el.addEventListener('change', rerun);
  for (const ev of ['input', 'change']) kappa.addEventListener(ev, () => { kappaOut.textContent = kappa.value; });
  $('momentum-reset').addEventListener('click', reset);

  // A click on the map starts the runs from that point.
  map.addEventListener('click', (ev) => {
    const r = map.getBoundingClientRect();
    const px = ((ev.clientX - r.left) / r.width) * map.width;
    const py = ((ev.clientY - r.top) / r.height) * map.height;
    const p = Landscape.pointAt(surface.value, map.width, map.height, window.devicePixelRatio || 1, px, py);
    if (!p) return;
    set({ x: p[0].toFixed(2), y: p[1].toFixed(2) });
    cell.start();
  });

  syncSurface();
  reset();
  return cell;
}
