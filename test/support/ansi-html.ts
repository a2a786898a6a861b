/**
 * Turns a `tmux capture-pane -e` screen (text with SGR color escapes) into an HTML page, so a
 * headless browser can render the terminal UI to a PNG for the README.
 */
const PALETTE = ['#1e1e1e', '#e06c75', '#98c379', '#e5c07b', '#61afef', '#c678dd', '#56b6c2', '#dcdfe4'];
const BRIGHT = ['#5c6370', '#ff7a85', '#b5e890', '#ffd68a', '#7cc4ff', '#dd96f5', '#6fd4e0', '#ffffff'];
const FG = '#dcdfe4';
const BG = '#1e1e1e';

interface Style { fg?: string; bg?: string; bold?: boolean; dim?: boolean; italic?: boolean; underline?: boolean; inverse?: boolean }

function color256(n: number): string {
  if (n < 8) return PALETTE[n];
  if (n < 16) return BRIGHT[n - 8];
  if (n < 232) {
    const i = n - 16;
    const c = (v: number): number => (v === 0 ? 0 : 55 + v * 40);
    return `rgb(${c(Math.floor(i / 36))},${c(Math.floor(i / 6) % 6)},${c(i % 6)})`;
  }
  const g = 8 + (n - 232) * 10;
  return `rgb(${g},${g},${g})`;
}

function apply(style: Style, params: number[]): Style {
  const s = { ...style };
  for (let i = 0; i < params.length; i++) {
    const p = params[i];
    if (p === 0) Object.keys(s).forEach((k) => delete (s as Record<string, unknown>)[k]);
    else if (p === 1) s.bold = true;
    else if (p === 2) s.dim = true;
    else if (p === 3) s.italic = true;
    else if (p === 4) s.underline = true;
    else if (p === 7) s.inverse = true;
    else if (p === 22) s.bold = s.dim = false;
    else if (p === 23) s.italic = false;
    else if (p === 24) s.underline = false;
    else if (p === 27) s.inverse = false;
    else if (p >= 30 && p <= 37) s.fg = PALETTE[p - 30];
    else if (p === 39) delete s.fg;
    else if (p >= 40 && p <= 47) s.bg = PALETTE[p - 40];
    else if (p === 49) delete s.bg;
    else if (p >= 90 && p <= 97) s.fg = BRIGHT[p - 90];
    else if (p >= 100 && p <= 107) s.bg = BRIGHT[p - 100];
    else if ((p === 38 || p === 48) && params[i + 1] === 5) {
      s[p === 38 ? 'fg' : 'bg'] = color256(params[i + 2]);
      i += 2;
    } else if ((p === 38 || p === 48) && params[i + 1] === 2) {
      s[p === 38 ? 'fg' : 'bg'] = `rgb(${params[i + 2]},${params[i + 3]},${params[i + 4]})`;
      i += 4;
    }
  }
  return s;
}

function css(s: Style): string {
  let fg = s.fg ?? FG;
  let bg = s.bg ?? 'transparent';
  if (s.inverse) [fg, bg] = [s.bg ?? BG, s.fg ?? FG];
  const parts = [`color:${fg}`, `background:${bg}`];
  if (s.bold) parts.push('font-weight:700');
  if (s.dim) parts.push('opacity:.6');
  if (s.italic) parts.push('font-style:italic');
  if (s.underline) parts.push('text-decoration:underline');
  return parts.join(';');
}

const escapeHtml = (t: string): string => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function ansiToHtml(screen: string, title: string): string {
  let style: Style = {};
  let out = '';
  // eslint-disable-next-line no-control-regex
  const re = /\x1b\[([0-9;]*)m|\x1b\[[0-9;?]*[A-Za-z]|([^\x1b]+)/g;
  for (let m = re.exec(screen); m; m = re.exec(screen)) {
    if (m[1] !== undefined) style = apply(style, m[1] === '' ? [0] : m[1].split(';').map(Number));
    else if (m[2] !== undefined) out += `<span style="${css(style)}">${escapeHtml(m[2])}</span>`;
  }
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>
body{margin:0;background:${BG};}
.term{display:inline-block;padding:14px 16px;background:${BG};border-radius:8px;}
pre{margin:0;font:14px "DejaVu Sans Mono","Liberation Mono",monospace;line-height:normal;color:${FG};}
</style></head><body><div class="term"><pre>${out}</pre></div></body></html>`;
}
