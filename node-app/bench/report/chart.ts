/**
 * Latency against offered load as a standalone SVG: x = offered fan-out rate (one slot per step),
 * y = end-to-end latency on a log scale; p99 solid, p50 dashed, one colour per system. Steps that
 * did not deliver everything are drawn hollow.
 */
import type { BenchResult } from '../run';
import { mergedFanout } from './summary';

const COLORS: Record<string, string> = { ours: '#1f77b4', 'ours-mem': '#9467bd', 'ours-offloop': '#8c564b', 'ours-base': '#7f7f7f', socketio: '#d62728', ws: '#2ca02c' };
const NAMES: Record<string, string> = { ours: 'swarm-chat (3 nodes)', 'ours-mem': 'swarm-chat, no DATA_DIR', 'ours-offloop': 'swarm-chat, sync off the event loop', 'ours-base': 'swarm-chat, baseline build', socketio: 'Socket.IO+Redis (3 nodes)', ws: 'raw ws (1 process)' };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function renderLatencyChart(result: BenchResult): string {
  const fanout = mergedFanout(result);
  const W = 880;
  const H = 440;
  const L = 70;
  const R = 250;
  const T = 40;
  const B = 60;
  const rates = [...new Set(fanout.map((r) => r.offeredRate))].sort((a, b) => a - b);
  const values = fanout.flatMap((r) => [r.figures.e2e.p50Ms, r.figures.e2e.p99Ms]).filter((x) => Number.isFinite(x) && x > 0);
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...values, 1))));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...values, 10))));
  const x = (i: number): number => L + ((i + 0.5) * (W - L - R)) / Math.max(1, rates.length);
  const y = (ms: number): number => T + ((Math.log10(hi) - Math.log10(Math.max(ms, lo))) * (H - T - B)) / (Math.log10(hi) - Math.log10(lo));
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${(L + W - R) / 2}" y="22" font-size="15" text-anchor="middle">Fan-out end-to-end latency vs offered load (1 room, ${result.config.fanout.members} members)</text>`);
  for (let d = lo; d <= hi; d *= 10) {
    out.push(`<line x1="${L}" x2="${W - R}" y1="${y(d)}" y2="${y(d)}" stroke="#ddd"/>`);
    out.push(`<text x="${L - 6}" y="${y(d) + 4}" text-anchor="end">${d >= 1 ? d : d.toFixed(1)} ms</text>`);
  }
  out.push(`<line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" stroke="#333"/>`);
  out.push(`<line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="#333"/>`);
  rates.forEach((rate, i) => out.push(`<text x="${x(i)}" y="${H - B + 18}" text-anchor="middle">${rate}</text>`));
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 18}" text-anchor="middle">offered messages per second</text>`);
  out.push(`<line x1="${L}" x2="${W - R}" y1="${y(100)}" y2="${y(100)}" stroke="#999" stroke-dasharray="2,3"/>`);
  let legendY = T + 10;
  for (const sys of result.config.systems) {
    const rows = fanout.filter((r) => r.system === sys).sort((a, b) => a.offeredRate - b.offeredRate);
    if (!rows.length) continue;
    const color = COLORS[sys] ?? '#555';
    for (const [key, dash] of [['p99Ms', ''], ['p50Ms', '5,4']] as const) {
      const pts = rows
        .filter((r) => Number.isFinite(r.figures.e2e[key]))
        .map((r) => `${x(rates.indexOf(r.offeredRate)).toFixed(1)},${y(r.figures.e2e[key]).toFixed(1)}`);
      if (pts.length > 1) out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`);
      for (const r of rows) {
        const v = r.figures.e2e[key];
        if (!Number.isFinite(v)) continue;
        const ok = r.figures.complete && r.figures.inOrder;
        out.push(`<circle cx="${x(rates.indexOf(r.offeredRate)).toFixed(1)}" cy="${y(v).toFixed(1)}" r="4" fill="${ok ? color : 'white'}" stroke="${color}" stroke-width="2"/>`);
      }
    }
    out.push(`<line x1="${W - R + 15}" x2="${W - R + 40}" y1="${legendY}" y2="${legendY}" stroke="${color}" stroke-width="2"/>`);
    out.push(`<text x="${W - R + 46}" y="${legendY + 4}">${esc(NAMES[sys] ?? sys)}</text>`);
    legendY += 20;
  }
  legendY += 10;
  out.push(`<line x1="${W - R + 15}" x2="${W - R + 40}" y1="${legendY}" y2="${legendY}" stroke="#333" stroke-width="2"/><text x="${W - R + 46}" y="${legendY + 4}">p99</text>`);
  legendY += 18;
  out.push(`<line x1="${W - R + 15}" x2="${W - R + 40}" y1="${legendY}" y2="${legendY}" stroke="#333" stroke-width="2" stroke-dasharray="5,4"/><text x="${W - R + 46}" y="${legendY + 4}">p50</text>`);
  legendY += 18;
  out.push(`<circle cx="${W - R + 27}" cy="${legendY}" r="4" fill="white" stroke="#333" stroke-width="2"/><text x="${W - R + 46}" y="${legendY + 4}">incomplete or out of order</text>`);
  legendY += 18;
  out.push(`<line x1="${W - R + 15}" x2="${W - R + 40}" y1="${legendY}" y2="${legendY}" stroke="#999" stroke-dasharray="2,3"/><text x="${W - R + 46}" y="${legendY + 4}">100 ms</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
