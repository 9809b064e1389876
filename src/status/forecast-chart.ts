import { DAY_MS } from '../domain/certificate.js';
import type { Thresholds } from '../domain/types.js';
import type { Forecast } from './fleet-summary.js';
import { html, type Html } from './html.js';

const WIDTH = 720;
const HEIGHT = 220;
const TOP = 18;
const BOTTOM = 34;
const LEFT = 20;
const GAP = 3;

/**
 * The expiry forecast as inline SVG: one bar for the overdue certificates, then one per week.
 * Bars are coloured by the state their week starts in; each carries a title with its count.
 */
export function forecastChart(forecast: Forecast, now: number, thresholds: Thresholds): Html {
  const bars = [
    { label: 'overdue', title: 'overdue (expired, not renewed)', count: forecast.overdue, kind: 'overdue' },
    ...forecast.weeks.map((count, week) => {
      const start = now + week * 7 * DAY_MS;
      const day = new Date(start).toISOString().slice(0, 10);
      return { label: day.slice(5), title: `week from ${day}`, count, kind: weekKind(week * 7, thresholds) };
    }),
  ];
  const max = Math.max(1, ...bars.map((bar) => bar.count));
  const slot = (WIDTH - LEFT * 2) / bars.length;
  const plot = HEIGHT - TOP - BOTTOM;
  const total = bars.reduce((sum, bar) => sum + bar.count, 0);
  return html`<svg class="forecast" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-labelledby="forecast-title" preserveAspectRatio="xMidYMid meet">
<title id="forecast-title">Certificates expiring per week for the next ${forecast.weeks.length} weeks, plus overdue: ${total} in all</title>
<line class="axis" x1="${LEFT}" y1="${TOP + plot}" x2="${WIDTH - LEFT}" y2="${TOP + plot}"/>
${bars.map((bar, index) => {
  const height = bar.count === 0 ? 0 : Math.max(2, Math.round((bar.count / max) * plot));
  const x = round(LEFT + index * slot + GAP / 2);
  const width = round(slot - GAP);
  // Every fourth week, starting clear of the overdue bar's label.
  const labelled = index === 0 || index % 4 === 3;
  return html`<g class="bar bar-${bar.kind}" data-count="${bar.count}"><title>${bar.title}: ${bar.count}</title>
<rect x="${x}" y="${TOP + plot - height}" width="${width}" height="${height}"/>
${bar.count > 0 ? html`<text class="count" x="${round(x + width / 2)}" y="${TOP + plot - height - 4}">${bar.count}</text>` : ''}
${labelled ? html`<text class="tick" x="${round(x + width / 2)}" y="${HEIGHT - BOTTOM + 16}">${bar.label}</text>` : ''}</g>
`;
})}</svg>`;
}

function weekKind(daysAhead: number, thresholds: Thresholds): string {
  if (daysAhead < thresholds.criticalDays) return 'critical';
  if (daysAhead < thresholds.warningDays) return 'warning';
  return 'ok';
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
