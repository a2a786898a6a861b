import type { ScenarioResult } from '../../../node-app/src/scenarios';
import { checkScenarioFigures } from './figures';

/** The figures of a real run (test/vagrant/results/2026-12-05T09-02-cold-cache/run.log), as run-scenarios.sh --json writes them. */
function realRun(): ScenarioResult[] {
  const result = (name: ScenarioResult['name'], figures: Record<string, string | number>): ScenarioResult => ({ name, status: 'passed', durationMs: 1, figures, problems: [], log: [] });
  return [
    result('normal', {
      clients: 6,
      'messages acknowledged': '180 of 180 in 4.9 s',
      'deliveries (message x member)': '1080 of 1080, duplicates 0, out of order 0',
    }),
    result('failure', {
      "survivors' sends during the outage": '154 of 154 acknowledged; send -> ack p50 15 ms, p95 107 ms, max 138 ms (n=154)',
      'survivor deliveries': '324 of 324, duplicates 0, out of order 0; send -> delivery p50 17 ms, p95 95 ms, max 149 ms (n=162)',
    }),
    { ...result('partition', {}), status: 'skipped', problems: ['needs a way to cut node2 off the network and heal it (--cut-cmd and --heal-cmd)'] },
    result('rolling', {
      'client on node1': 'sent 169, acknowledged 169, refused 0; disconnects 1; acknowledged messages of its rooms it never received: 0',
      'client on node2': 'sent 167, acknowledged 167, refused 0; disconnects 1; acknowledged messages of its rooms it never received: 0',
      'all clients: acknowledged messages not received': '0 of 1500 deliveries',
    }),
  ];
}

function edited(name: string, key: string, value: string): ScenarioResult[] {
  return realRun().map((r) => (r.name === name ? { ...r, figures: { ...r.figures, [key]: value } } : r));
}

describe('the vagrant run judges run-scenarios.sh by its figures', () => {
  it('accepts a run where every scenario passed with nothing lost (a skipped partition is fine: the script has no cut command)', () => {
    expect(checkScenarioFigures(realRun())).toEqual([]);
  });

  it('names a scenario that did not pass or did not run', () => {
    const runs = realRun().map((r) => (r.name === 'failure' ? { ...r, status: 'failed' as const, problems: ['node2 never came back'] } : r));
    expect(checkScenarioFigures(runs)).toEqual(['failure: failed: node2 never came back']);
    expect(checkScenarioFigures(realRun().filter((r) => r.name !== 'rolling'))).toEqual(['rolling: no result']);
  });

  it('names unacknowledged sends, incomplete or disordered deliveries and lost acknowledged messages', () => {
    expect(checkScenarioFigures(edited('normal', 'messages acknowledged', '179 of 180 in 4.9 s'))).toEqual(['normal: "messages acknowledged": only 179 of 180 acknowledged']);
    expect(checkScenarioFigures(edited('failure', 'survivor deliveries', '324 of 324, duplicates 0, out of order 2'))).toEqual([
      'failure: "survivor deliveries": 0 duplicates, 2 out of order',
    ]);
    expect(checkScenarioFigures(edited('normal', 'deliveries (message x member)', '1079 of 1080, duplicates 0, out of order 0'))).toEqual([
      'normal: "deliveries (message x member)": 1079 of 1080 delivered',
    ]);
    expect(checkScenarioFigures(edited('rolling', 'all clients: acknowledged messages not received', '3 of 1500 deliveries'))).toEqual([
      'rolling: 3 of 1500 acknowledged deliveries never arrived',
    ]);
    expect(checkScenarioFigures(edited('rolling', 'client on node2', 'sent 0, acknowledged 0, refused 0'))).toEqual([
      'rolling: client on node2: nothing acknowledged ("sent 0, acknowledged 0, refused 0")',
    ]);
  });

  it('names a figure that is missing or reads differently, rather than passing without it', () => {
    const runs = realRun().map((r) => (r.name === 'normal' ? { ...r, figures: {} } : r));
    expect(checkScenarioFigures(runs)).toEqual([
      'normal: figure "messages acknowledged" missing or not "N of M" (undefined)',
      'normal: figure "deliveries (message x member)" missing or not "N of M" (undefined)',
    ]);
  });
});
