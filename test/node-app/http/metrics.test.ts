import { MetricsRegistry } from '../../../node-app/src/http/metrics';

describe('Prometheus text registry', () => {
  it('renders counters with labels, gauges read at scrape time and cumulative histograms', () => {
    const reg = new MetricsRegistry();
    const c = reg.counter('x_total', 'Things.');
    c.inc({ type: 'a' });
    c.inc({ type: 'a' }, 2);
    c.inc({ type: 'q"uote' });
    let live = 1;
    reg.gauge('live', 'Live things.', () => live);
    const h = reg.histogram('lat_seconds', 'Latency.', [0.01, 0.1]);
    h.observe(0.005);
    h.observe(0.05);
    h.observe(5);
    live = 7;
    const text = reg.render();
    expect(text).toContain('# TYPE x_total counter\nx_total{type="a"} 3\nx_total{type="q\\"uote"} 1');
    expect(text).toContain('# TYPE live gauge\nlive 7');
    expect(text).toContain('lat_seconds_bucket{le="0.01"} 1\nlat_seconds_bucket{le="0.1"} 2\nlat_seconds_bucket{le="+Inf"} 3\nlat_seconds_sum 5.055\nlat_seconds_count 3');
    expect(text.endsWith('\n')).toBe(true);
  });
});
