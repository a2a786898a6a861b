/**
 * A real `fs.fdatasync` whose completion the test decides: the sync runs on the thread pool as in
 * production, but its callback is held until `release()`, so a test can check what waits for it.
 */
import * as fs from 'node:fs';
import type { SyncCall } from '../../../node-app/src/storage/wal-sync';

export class HeldSync {
  /** Syncs started so far (each a real fdatasync). */
  started = 0;
  /** Syncs running or done on disk whose completion is held. */
  private held: (() => void)[] = [];
  private inFlight = 0;
  maxInFlight = 0;
  /** While false, syncs complete as soon as the kernel returns. */
  holding = true;

  readonly call: SyncCall = (fd, done) => {
    this.started++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    fs.fdatasync(fd, (err) => {
      const finish = () => {
        this.inFlight--;
        done(err);
      };
      if (this.holding) this.held.push(finish);
      else finish();
    });
  };

  /** Syncs that returned from the kernel and wait for `release`. */
  get waiting(): number {
    return this.held.length;
  }

  /** Completes every held sync (in order); `holding` stays as it is unless `stopHolding`. */
  release(stopHolding = false): void {
    if (stopHolding) this.holding = false;
    const h = this.held;
    this.held = [];
    for (const f of h) f();
  }
}
