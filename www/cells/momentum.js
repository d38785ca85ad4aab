// Cell "Momentum": SGD with and without momentum on a conditioned quadratic or Rosenbrock's
// valley, animated a few steps per frame over a contour map drawn once and reused.
import { Landscape } from '../../pkg/descent.js';
import { bind } from '../state.js';
import { sizeCanvas, readNumber, showError } from '../ui.js';

const $ = (id) => document.getElementById(id);
/** An animation lasts about this many frames, whatever the number of steps. */
const FRAMES = 150;

/** Settings that suit each surface, loaded when the surface changes. */
const SURFACE_DEFAULTS = {
  quadratic: { lr: '0.035', mu: '0.8', steps: '300', x: '-4', y: '1.5' },
  rosenbrock: { lr: '0.001', mu: '0.95', steps: '1500', x: '-1.2', y: '1' },
};

/** The preset links: values to set, then run. */
const PRESETS = {
  round: { surface: 'quadratic', kappa: '1', angle: '0', lr: '0.3', mu: '0.8', steps: '120', x: '-4', y: '1.5', nesterov: false },
  narrow: { surface: 'quadratic', kappa: '100', angle: '0', lr: '0.019', mu: '0.8', steps: '600', x: '-4', y: '1.5', nesterov: false },
  'too-big': { surface: 'quadratic', kappa: '50', angle: '0', lr: '0.045', mu: '0.8', steps: '300', x: '-4', y: '1.5', nesterov: false },
  tilted: { surface: 'quadratic', kappa: '50', angle: '30', lr: '0.035', mu: '0.8', steps: '300', x: '-4', y: '1.5', nesterov: false },
  nesterov: { surface: 'quadratic', kappa: '50', angle: '0', lr: '0.02', mu: '0.8', steps: '450', x: '-4', y: '1.5', nesterov: true },
  rosenbrock: { surface: 'rosenbrock', ...SURFACE_DEFAULTS.rosenbrock, nesterov: true },
};

const fmt = (v) => (v === 0 ? '0' : Math.abs(v) >= 0.01 && Math.abs(v) < 1e4 ? v.toPrecision(3).replace(/\.?0+$/, '') : v.toExponential(1));

export function setup() {
  const surface = bind($('momentum-surface'), 'momentum.surface');
  const kappa = bind($('momentum-kappa'), 'momentum.kappa');
  const kappaOut = $('momentum-kappa-out');
  const angle = bind($('momentum-angle'), 'momentum.angle');
  const lr = bind($('momentum-lr'), 'momentum.lr');
  const mu = bind($('momentum-mu'), 'momentum.mu');
  const nesterov = bind($('momentum-nesterov'), 'momentum.nesterov');
  const steps = bind($('momentum-steps'), 'momentum.steps');
  const startX = bind($('momentum-x'), 'momentum.x');
  const startY = bind($('momentum-y'), 'momentum.y');
  const tol = bind($('momentum-tol'), 'momentum.tol');
  const map = $('momentum-map');
  const dist = $('momentum-distance');
  const status = $('momentum-status');
  const errorBox = $('momentum-error');
  const fields = { surface, kappa, angle, lr, mu, steps, x: startX, y: startY };

  // The contour map is slow to paint, so it is painted once onto a spare canvas and copied
  // under each frame; `bgKey` says what it shows.
  const bg = document.createElement('canvas');
  let bgKey = '';
  // Likewise the distance plot's axes and legend, which depend on the runs as well.
  const distBg = document.createElement('canvas');
  let distKey = '';
  let built = 0; // counts rebuilds, so a new set of runs gets new axes
  let frame = null; // where the map's plotting area is, for clicks
  let land = null;
  let runs = [];
  let shown = 0;
  let playing = false;
  let generation = 0; // each Run starts a new animation; older frames see a stale number and stop

  function syncSurfaceControls() {
    const quad = surface.value === 'quadratic';
    kappa.disabled = !quad;
    angle.disabled = !quad;
    kappaOut.textContent = kappa.value;
  }

  // While settings are filled in programmatically, 'change' events only save them to the URL.
  let filling = false;
  function fill(values) {
    filling = true;
    for (const [k, v] of Object.entries(values)) {
      const el = k === 'nesterov' ? nesterov : fields[k];
      if (el.type === 'checkbox') el.checked = v;
      else el.value = v;
      el.dispatchEvent(new Event('change'));
    }
    filling = false;
    syncSurfaceControls();
  }

  function config() {
    const quad = surface.value === 'quadratic';
    const learningRate = readNumber(lr, 'learning rate', { min: 0, max: 100 });
    const momentum = readNumber(mu, 'momentum', { min: 0, max: 0.999 });
    const list = [
      { key: 'sgd', name: 'SGD, no momentum', color: 0, options: { lr: learningRate } },
      { key: 'momentum', name: `momentum ${momentum}`, color: 1, options: { lr: learningRate, momentum } },
    ];
    if (nesterov.checked) {
      list.push({ key: 'nesterov', name: `Nesterov ${momentum}`, color: 2, options: { lr: learningRate, momentum, nesterov: momentum > 0 } });
    }
    runs = list;
    return {
      surface: surface.value,
      kappa: quad ? readNumber(kappa, 'condition number', { min: 1, max: 10000 }) : 1,
      angle: quad ? readNumber(angle, 'tilt', { min: -90, max: 90 }) : 0,
      start: [readNumber(startX, 'start x', { min: -1e3, max: 1e3 }), readNumber(startY, 'start y', { min: -1e3, max: 1e3 })],
      steps: readNumber(steps, 'steps', { min: 1, max: 5000, integer: true }),
      tol: Number(tol.value),
      runs: list.map(({ name, color, options }) => ({ name, color, options })),
    };
  }

  /** Recompute every path from the controls; false (with a message) if they are invalid. */
  function rebuild() {
    showError(errorBox, null);
    try {
      const next = new Landscape(config());
      land?.free();
      land = next;
      built += 1;
      return true;
    } catch (e) {
      showError(errorBox, e);
      return false;
    }
  }

  function draw() {
    if (!land) return;
    const dpr = sizeCanvas(map);
    sizeCanvas(dist);
    const key = [surface.value, kappa.value, angle.value, map.width, map.height].join('|');
    if (key !== bgKey) {
      bg.width = map.width;
      bg.height = map.height;
      frame = land.drawBackground(bg, dpr);
      bgKey = key;
    }
    const dKey = [built, dist.width, dist.height].join('|');
    if (dKey !== distKey) {
      distBg.width = dist.width;
      distBg.height = dist.height;
      land.drawDistanceAxes(distBg, dpr);
      distKey = dKey;
    }
    map.getContext('2d').drawImage(bg, 0, 0);
    land.drawPaths(map, shown, dpr);
    dist.getContext('2d').drawImage(distBg, 0, 0);
    land.drawDistanceCurves(dist, shown, dpr);
  }

  function report() {
    if (!land) return;
    const total = land.steps;
    const summary = land.summary();
    const tolText = tol.value;
    const parts = summary.map((s, i) => {
      const run = runs[i];
      let text;
      if (s.reached !== undefined && s.reached !== null && s.reached <= shown) {
        text = `within ${tolText} of the minimum from step <b>${s.reached}</b> on`;
      } else if (s.divergedAt !== undefined && s.divergedAt !== null && s.divergedAt <= shown) {
        text = `<span class="bad">diverged</span> (step ${s.divergedAt})`;
      } else if (shown >= total) {
        text = `not within ${tolText} in ${total} steps (distance ${fmt(s.finalDistance)})`;
      } else {
        text = '…';
      }
      const done = shown >= total || text !== '…';
      const reached = s.reached !== undefined && s.reached !== null && s.reached <= shown ? s.reached : '';
      const diverged = s.divergedAt !== undefined && s.divergedAt !== null && s.divergedAt <= shown ? s.divergedAt : '';
      return `<span data-run="${run.key}" data-reached="${reached}" data-diverged="${diverged}" data-done="${done}">` +
        `<span class="swatch c${run.color}"></span><span class="run-name">${s.name}</span>: ${text}</span>`;
    });
    status.innerHTML = `step ${Math.min(shown, total)} / ${total} · ${parts.join(' · ')}`;
    status.dataset.state = playing ? 'running' : shown >= total ? 'done' : 'idle';
  }

  function tick(gen) {
    if (!playing || gen !== generation) return;
    const t0 = performance.now();
    const total = land.steps;
    shown = Math.min(total, shown + Math.max(1, Math.ceil(total / FRAMES)));
    if (shown >= total) playing = false;
    try {
      draw();
    } catch (e) {
      playing = false;
      showError(errorBox, e);
    }
    report();
    window.__frameTimes?.push(performance.now() - t0); // set by the end-to-end tests
    if (playing) requestAnimationFrame(() => tick(gen));
  }

  function run() {
    playing = false;
    if (!rebuild()) return;
    shown = 0;
    playing = true;
    const gen = ++generation;
    report();
    requestAnimationFrame(() => tick(gen));
  }

  function reset() {
    playing = false;
    if (!rebuild()) return;
    shown = 0;
    draw();
    report();
  }

  surface.addEventListener('change', () => {
    if (filling) return;
    fill(SURFACE_DEFAULTS[surface.value]);
    run();
  });
  kappa.addEventListener('input', () => { kappaOut.textContent = kappa.value; });
  for (const el of [kappa, angle, lr, mu, nesterov, steps, startX, startY, tol]) {
    el.addEventListener('change', () => { if (!filling) run(); });
  }
  for (const b of document.querySelectorAll('#momentum .presets button')) {
    b.addEventListener('click', () => {
      fill(PRESETS[b.dataset.preset]);
      run();
    });
  }
  $('momentum-run').addEventListener('click', run);
  $('momentum-reset').addEventListener('click', reset);

  // A click on the map starts the runs from that point.
  map.addEventListener('click', (ev) => {
    if (!frame) return;
    const r = map.getBoundingClientRect();
    const px = ((ev.clientX - r.left) / r.width) * map.width - frame.left;
    const py = ((ev.clientY - r.top) / r.height) * map.height - frame.top;
    if (px < 0 || py < 0 || px > frame.width || py > frame.height) return;
    const x = frame.x0 + (px / frame.width) * (frame.x1 - frame.x0);
    const y = frame.y1 - (py / frame.height) * (frame.y1 - frame.y0);
    fill({ x: x.toFixed(2), y: y.toFixed(2) });
    run();
  });

  syncSurfaceControls();
  rebuild();
  return {
    render() {
      bgKey = ''; // the canvas may have been resized
      distKey = '';
      try {
        if (!land) rebuild();
        draw();
        report();
      } catch (e) {
        showError(errorBox, e);
      }
    },
  };
}
