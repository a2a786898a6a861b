/**
 * A small Prometheus text-format registry: counters, gauges read at scrape time, and histograms.
 * Small enough that a client library (prom-client pulls in a dozen modules and global state) does
 * not pay for itself here.
 */

type Labels = Record<string, string>;

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const labelText = (l: Labels) => {
  const keys = Object.keys(l);
  return keys.length === 0 ? '' : `{${keys.map((k) => `${k}="${esc(l[k])}"`).join(',')}}`;
};

interface Family {
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  render(name: string): string[];
}

export class Counter {
  // Keyed by the label values alone (cheap on the hot path); the text form is built when scraped.
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  inc(labels: Labels = {}, by = 1): void {
    const key = valuesKey(labels);
    const cur = this.values.get(key);
    if (cur) cur.value += by;
    else this.values.set(key, { labels: { ...labels }, value: by });
  }
  get(labels: Labels = {}): number {
    return this.values.get(valuesKey(labels))?.value ?? 0;
  }
  lines(name: string): string[] {
    return [...this.values.values()].map((v) => `${name}${labelText(v.labels)} ${v.value}`);
  }
}

/** Label names are fixed per call site, so keys and values in order identify a series. */
function valuesKey(labels: Labels): string {
  let key = '';
  for (const k in labels) key += k + '\u0001' + labels[k] + '\u0002';
  return key;
}

export class Histogram {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(private readonly bounds: number[]) {}
  observe(value: number, labels: Labels = {}): void {
    const key = valuesKey(labels);
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { labels: { ...labels }, counts: this.bounds.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < this.bounds.length; i++) if (value <= this.bounds[i]) s.counts[i]++;
    s.sum += value;
    s.count++;
  }
  lines(name: string): string[] {
    const out: string[] = [];
    for (const s of this.series.values()) {
      this.bounds.forEach((b, i) => out.push(`${name}_bucket${labelText({ ...s.labels, le: String(b) })} ${s.counts[i]}`));
      out.push(`${name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.count}`);
      out.push(`${name}_sum${labelText(s.labels)} ${s.sum}`);
      out.push(`${name}_count${labelText(s.labels)} ${s.count}`);
    }
    return out;
  }
}

export class MetricsRegistry {
  private readonly families = new Map<string, Family>();

  counter(name: string, help: string): Counter {
    const c = new Counter();
    this.families.set(name, { help, type: 'counter', render: (n) => c.lines(n) });
    return c;
  }

  histogram(name: string, help: string, bounds: number[]): Histogram {
    const h = new Histogram(bounds);
    this.families.set(name, { help, type: 'histogram', render: (n) => h.lines(n) });
    return h;
  }

  /** A gauge computed when scraped, so it can never drift from the state it reports. */
  gauge(name: string, help: string, read: () => number | Array<[Labels, number]>): void {
    this.families.set(name, {
      help,
      type: 'gauge',
      render: (n) => {
        const v = read();
        return typeof v === 'number' ? [`${n} ${v}`] : v.map(([l, x]) => `${n}${labelText(l)} ${x}`);
      },
    });
  }

  render(): string {
    const out: string[] = [];
    for (const [name, f] of this.families) {
      out.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`, ...f.render(name));
    }
    return out.join('\n') + '\n';
  }
}
