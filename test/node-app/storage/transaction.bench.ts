/**
 * What a transaction's wrapper costs, measured (not asserted), in one process on an in-memory
 * SQLite database: better-sqlite3's `db.transaction(fn)` built per call (what RoomLogStore did)
 * against one wrapper built once (what it does), each running the same one-row insert, and the
 * store's own `transaction()` around the same insert. Medians of 5 rounds; compare the ratios.
 * Run after a build:  node dist/test/node-app/storage/transaction.bench.js [--n N]
 */
import Database from 'better-sqlite3';
import { RoomLogStore } from '../../../node-app/src/storage/room-log-store';
import { intOptions, median } from '../../support/bench-args';

const { n: N } = intOptions({ n: 50_000 });

function nsPerCall(once: (k: number) => void): number {
  const t0 = process.hrtime.bigint();
  for (let k = 0; k < N; k++) once(k);
  return Number(process.hrtime.bigint() - t0) / N;
}

function main(): void {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (a INTEGER)');
  const insert = db.prepare('INSERT INTO t VALUES (?)');
  const once = db.transaction((fn: () => unknown) => fn());
  const store = RoomLogStore.open({ file: ':memory:' });
  const rounds = { perCall: [] as number[], once: [] as number[], store: [] as number[] };
  for (let r = 0; r < 5; r++) {
    rounds.perCall.push(nsPerCall((k) => db.transaction(() => insert.run(k))()));
    rounds.once.push(nsPerCall((k) => once(() => insert.run(k))));
    rounds.store.push(nsPerCall((k) => store.transaction(() => insert.run(k))));
  }
  const perCall = median(rounds.perCall);
  const built = median(rounds.once);
  const viaStore = median(rounds.store);
  console.log(`one-row insert in a transaction, ns per call (median of 5 x ${N}):`);
  console.log(`  wrapper built per call  ${perCall.toFixed(0)}`);
  console.log(`  wrapper built once      ${built.toFixed(0)}  (${(perCall / built).toFixed(2)}x faster)`);
  console.log(`  RoomLogStore.transaction ${viaStore.toFixed(0)}`);
  store.close();
  db.close();
}

main();
