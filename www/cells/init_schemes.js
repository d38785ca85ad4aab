// Cell "Random, Xavier, He": a deep network's forward activations and backward gradients,
// layer by layer, for one init (lab::probe); then every init trained from the same seed, side
// by side (lab::init_runs).
import { LayerProbe, SchemeRuns } from '../../pkg/descent.js';
import { defineCell } from '../cell.js';
import { sizeCanvas, readNumber, showError, pct } from '../ui.js';

const $ = (id) => document.getElementById(id);
/** Digits pushed through the network for the probes. */
export const PROBE_BATCH = 64;

/** "0.62 → 0.00031 (×0.33 per layer)": the first and last layer's std, and the mean factor. */
export function trend(stds) {
  const ok = stds.filter((v) => Number.isFinite(v));
  if (ok.length < 2) return ok.map((v) => v.toPrecision(2)).join('');
  const first = ok[0];
  const last = ok[ok.length - 1];
  const per = first > 0 && last > 0 ? ` (×${Math.pow(last / first, 1 / (ok.length - 1)).toPrecision(2)} per layer)` : '';
  return `${first.toPrecision(2)} → ${last.toPrecision(2)}${per}`;
}

/** A loss for the read-outs: 3 decimals, or powers of ten once it has blown up. */
export const fmtLoss = (v) => (!Number.isFinite(v) ? String(v) : Math.abs(v) < 1000 ? v.toFixed(3) : v.toExponential(1));

export function setup(ctx) {
  const errBox = $('schemes-error');
  const probeOut = $('schemes-probe');
  const ctl = (name, extra = {}) => ({ el: `schemes-${name}`, key: `schemes.${name}`, ...extra });
  const cell = defineCell('init-schemes', {
    controls: {
      depth: ctl('depth', { label: 'hidden layers' }),
      width: ctl('width', { label: 'width' }),
      act: ctl('act'),
      scheme: ctl('scheme'),
      a: ctl('a', { label: 'a', max: 100 }),
      std: ctl('std', { label: 'std', max: 100 }),
      n: ctl('n', { label: 'training digits', max: (c) => c.data.trainSize }),
      epochs: ctl('epochs', { label: 'epochs' }),
      lr: ctl('lr', { label: 'learning rate', max: 100 }),
    },
    run: 'schemes-train',
    stop: 'schemes-stop',
    status: 'schemes-status',
    error: 'schemes-error',
    build: (v, c) => new SchemeRuns(c.data, {
      hidden: Array(v.depth).fill(v.width), activation: v.act, seed: c.seed(), lr: v.lr, epochs: v.epochs, trainDigits: v.n, a: v.a, std: v.std,
    }),
    charts: {
      loss: {
        canvas: 'schemes-loss',
        empty: () => ({ title: 'training loss per scheme (smoothed)', xLabel: 'step', yLabel: 'cross-entropy', xMax: 100, yRange: [0, 3], series: [] }),
      },
    },
    readout(r) {
      const rows = r.runs.map((run) => {
        let text = `<span class="swatch c${run.color}"></span><b>${run.label}</b>: step ${run.steps}/${run.totalSteps}`;
        if (run.loss != null) text += `, loss ${fmtLoss(run.loss)}`;
        if (run.valError != null) text += `, validation error ${pct(run.valError)}`;
        if (run.status === 'diverged') text += ` — <span class="bad">${run.message}</span>`;
        return text;
      });
      return { html: rows.join('<br>'), data: { curves: String(r.curves) } };
    },
  }, ctx);
  // defineCell puts Export after the cell's first plots (the probe's); it exports the training
  $('schemes-loss').closest('.plots').after($('init-schemes').querySelector('details.export'));

  /** One probe control (the training controls do not hold up a probe). */
  const read = (name, integer = false) => {
    const c = cell.controls[name];
    return readNumber(c.el, c.label, { min: c.min, max: c.max, integer });
  };

  /** Forward and backward one batch for the chosen scheme; draw the three per-layer pictures. */
  function probe() {
    showError(errBox, null);
    let p;
    try {
      const hidden = Array(read('depth', true)).fill(read('width', true));
      const act = cell.controls.act.el.value;
      const start = { from: 'scheme', key: cell.controls.scheme.el.value, a: read('a'), std: read('std') };
      p = new LayerProbe(ctx.data, { hidden, activation: act, seed: ctx.seed(), batch: PROBE_BATCH, starts: [start] });
      for (const [name, id] of [['activations', 'schemes-act-violin'], ['gradients', 'schemes-grad-violin'], ['stds', 'schemes-std-plot']]) {
        p.draw(name, $(id), sizeCanvas($(id)));
      }
      const s = p.report().starts[0];
      const zeros = s.zeroFraction;
      const dead = act === 'relu' ? ` · exactly zero after ReLU: ${pct(zeros[0])} in layer 1, ${pct(zeros[zeros.length - 1])} in layer ${zeros.length}` : '';
      probeOut.innerHTML = `<b>${s.label}</b>, ${hidden.length} × ${hidden[0]} ${act}, ${PROBE_BATCH} digits · loss ${fmtLoss(s.loss)}` +
        `<br>activation std: ${trend(s.activationStd)} · gradient std: ${trend(s.gradientStd)}${dead}`;
      probeOut.dataset.actStd = JSON.stringify(s.activationStd);
      probeOut.dataset.gradStd = JSON.stringify(s.gradientStd);
    } catch (e) {
      showError(errBox, e);
    } finally {
      p?.free();
    }
  }

  for (const name of ['depth', 'width', 'act', 'scheme', 'a', 'std']) cell.controls[name].el.addEventListener('change', probe);
  $('schemes-probe-run').addEventListener('click', probe);
  // these presets set the probe's activation and scheme (they probe; they do not train)
  for (const b of document.querySelectorAll('#init-schemes .presets button')) {
    b.addEventListener('click', () => {
      for (const k of ['act', 'scheme']) {
        if (b.dataset[k]) {
          cell.controls[k].el.value = b.dataset[k];
          cell.controls[k].el.dispatchEvent(new Event('change'));
        }
      }
    });
  }
  return {
    render() {
      probe();
      cell.render();
    },
  };
}
