/* charts.js — time-series charts over uPlot (loaded as a classic script,
 * window.uPlot).
 *
 * A chart holds several series of /api/v1/metrics/history; load(range)
 * fetches the history of each series (the average of each step), push()
 * appends one live sample.  The container carries data-points (the number of
 * points shown) so that tests and people can see it move.  uPlot sizes its
 * canvas through element.style from script (CSSOM), which the console's CSP
 * allows; it never writes style attributes in markup.
 *
 * The legend shows each series' latest value whenever the pointer is not
 * over the chart (and the value under it when it is), so the numbers are
 * there without hovering.  The y axis is as wide as its longest label. */
import { get } from './api.js';
import { h, bytes } from './ui.js';

const COLORS = ['#1f4e79', '#c0392b', '#2e7d32', '#8e44ad', '#b9770e'];

export const RANGES = [
  { id: '1h', label: '1 h', seconds: 3600 },
  { id: '24h', label: '24 h', seconds: 86400 },
  { id: '7d', label: '7 d', seconds: 7 * 86400 },
  { id: '30d', label: '30 d', seconds: 30 * 86400 },
];

function formatter(unit) {
  if (unit === 'bytes') return (v) => (v === null ? '–' : bytes(v));
  if (unit === 'bytes/s') return (v) => (v === null ? '–' : bytes(v) + '/s');
  if (unit === 'percent') return (v) => (v === null ? '–' : v.toFixed(1) + ' %');
  return (v) => (v === null ? '–' : String(Math.round(v * 100) / 100));
}

export class Chart {
  /* series: [{name: 'cpu.busy', label: 'busy'}], unit: 'percent' | 'bytes' | 'bytes/s' */
  constructor(title, series, unit) {
    this.title = title;
    this.series = series;
    this.unit = unit;
    this.range = RANGES[0];
    this.data = [[], ...series.map(() => [])];
    this.plot = null;
    this.plotEl = h('div.plot', { role: 'img', 'aria-label': `${title} chart` });
    this.status = h('p.muted.chart-status', { 'aria-live': 'polite' });
    this.el = h(
      'section.panel.chart',
      { 'aria-label': title, 'data-chart': title.toLowerCase(), 'data-points': '0' },
      h('h3', title),
      this.plotEl,
      this.status,
    );
    this.resize = new ResizeObserver(() => this.fit());
    this.resize.observe(this.plotEl);
  }

  width() {
    return Math.max(240, this.plotEl.clientWidth || 400);
  }

  build() {
    if (this.plot) this.plot.destroy();
    const fmt = formatter(this.unit);
    const axisFmt = (u, vals) => vals.map((v) => fmt(v));
    /* Wide enough for the longest label ("11.5 MiB/s"), measured in the
     * axis's own font. */
    const axisSize = (u, values, i, cycle) => {
      const axis = u.axes[i];
      if (cycle > 1 && axis._size) return axis._size;
      let w = 0;
      if (values && values.length) {
        u.ctx.font = axis.font[0];
        for (const v of values) w = Math.max(w, u.ctx.measureText(String(v)).width / (window.devicePixelRatio || 1));
      }
      return Math.ceil(w + axis.ticks.size + axis.gap + 6);
    };
    /* Outside the chart the legend shows the latest values. */
    const showLatest = (u) => {
      if (u.cursor.idx === null || u.cursor.idx === undefined) {
        const n = u.data[0].length;
        if (n) u.setLegend({ idx: n - 1 });
      }
    };
    this.plot = new window.uPlot(
      {
        width: this.width(),
        height: 200,
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: this.unit === 'percent' ? { range: [0, 100] } : { auto: true } },
        axes: [{}, { values: axisFmt, size: axisSize }],
        series: [
          {},
          ...this.series.map((s, i) => ({
            label: s.label,
            stroke: COLORS[i % COLORS.length],
            width: 1.5,
            value: (u, v) => fmt(v),
          })),
        ],
        legend: { live: true },
        hooks: { setCursor: [showLatest], ready: [showLatest], setData: [showLatest] },
      },
      this.data,
      this.plotEl,
    );
  }

  fit() {
    if (this.plot && Math.abs(this.plot.width - this.width()) > 2) this.plot.setSize({ width: this.width(), height: 200 });
  }

  setData() {
    if (!this.plot) this.build();
    else this.plot.setData(this.data);
    this.el.dataset.points = String(this.data[0].length);
  }

  async load(range) {
    this.range = range;
    this.status.textContent = '';
    const answers = await Promise.all(
      this.series.map((s) =>
        get(`/api/v1/metrics/history?series=${encodeURIComponent(s.name)}&range=${range.id}`).then(
          (r) => r,
          (e) => ({ error: e }),
        ),
      ),
    );
    const failed = answers.find((a) => a.error);
    if (failed) {
      const e = failed.error;
      this.status.textContent =
        e.status === 400 && e.field === 'range'
          ? `The ${range.label} range is not available on this server.`
          : e.status === 404
            ? 'History is not available on this server.'
            : `History could not be loaded: ${e.message}`;
      this.data = [[], ...this.series.map(() => [])];
      this.setData();
      return;
    }
    const times = answers[0].points.map((p) => p[0]);
    this.data = [times, ...answers.map((a) => a.points.map((p) => p[1]))];
    this.setData();
  }

  /* One live sample: {time, values: {name: v}}. */
  push(sample) {
    if (!sample || typeof sample.time !== 'number' || !sample.values) return;
    const t = this.data[0];
    if (t.length && sample.time <= t[t.length - 1]) return;
    t.push(sample.time);
    this.series.forEach((s, i) => {
      const v = sample.values[s.name];
      this.data[i + 1].push(typeof v === 'number' ? v : null);
    });
    const cutoff = sample.time - this.range.seconds;
    while (t.length && t[0] < cutoff) {
      for (const col of this.data) col.shift();
    }
    this.setData();
  }

  destroy() {
    this.resize.disconnect();
    if (this.plot) this.plot.destroy();
    this.plot = null;
  }
}
