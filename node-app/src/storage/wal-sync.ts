/**
 * Syncs of SQLite's write-ahead log to disk: group commit off the event loop (`whenSynced`), and a
 * sync on the event loop for who must not return before its write is on disk (`syncNow`).
 *
 * The connection runs with `synchronous=NORMAL`: a commit writes its WAL frames (the page cache
 * has them: they survive a process crash) without an fsync; SQLite still syncs the WAL before
 * every checkpoint copies it into the database, and the WAL header after every restart of the
 * log. What NORMAL gives up is power-loss durability of the latest commits; this module gives it
 * back to whoever needs it, without blocking the event loop: `whenSynced(cb)` calls `cb` once an
 * `fdatasync` of the `-wal` file that started after the caller's commit has completed.
 *
 * One `fdatasync` is in flight at a time, on libuv's thread pool; the commits that happen while it
 * runs are covered by the next one, which starts as soon as it returns (group commit that adapts
 * to load: one sync per commit when idle, one sync per many commits under load, never a timer).
 *
 * Why the covering is sound: `fdatasync` on Linux flushes every page of the file written before
 * the call, whatever descriptor wrote it. Frames are only ever overwritten after a checkpoint has
 * copied them into the database, and a checkpoint syncs the WAL before copying and the database
 * after, so a commit whose frames were overwritten before our sync ran is already on disk in the
 * database file. The WAL file itself is only deleted when the last connection closes, and this
 * object's descriptor is opened after the store's connection is, and closed before it is.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** `fs.fdatasync`'s shape; tests may wrap the real call to observe or hold its completion. */
export type SyncCall = (fd: number, done: (err: NodeJS.ErrnoException | null) => void) => void;
/** `fs.fdatasyncSync`'s shape; tests may wrap the real call to count or fail it. */
export type SyncNowCall = (fd: number) => void;

type Waiter = { gen: number; done: (err?: Error) => void };

export class WalSync {
  private fd: number | null;
  /** Commits noted so far; a waiter needs a sync that started after its generation was reached. */
  private written = 0;
  /** Every commit up to this generation is on disk. */
  private synced = 0;
  private inFlight = false;
  private waiters: Waiter[] = [];
  /** Once a sync fails the kernel may have dropped the dirty pages: nothing is trusted to be on disk again. */
  private failure: Error | null = null;
  private closing = false;
  /** Syncs completed, on and off the event loop (each covers every commit noted before it started). */
  syncs = 0;

  /**
   * `walFile` must exist (SQLite creates it when a WAL-mode connection first reads or writes).
   * The directory is synced once so that the WAL file's own entry survives a power loss.
   */
  constructor(
    walFile: string,
    private readonly sync: SyncCall = fs.fdatasync,
    private readonly syncNowCall: SyncNowCall = fs.fdatasyncSync,
  ) {
    this.fd = fs.openSync(walFile, 'r');
    // What an earlier process wrote may be only in the page cache (it died between a commit and
    // its sync): once synced here, all the log holds at start is on disk, as the replication layer
    // assumes when it loads a room (an admin counts its own copy up to its last index).
    this.syncNowCall(this.fd);
    const dir = fs.openSync(path.dirname(walFile), 'r');
    try {
      fs.fsyncSync(dir);
    } finally {
      fs.closeSync(dir);
    }
  }

  /** A commit just wrote WAL frames (called after the transaction commits). */
  noteWrite(): void {
    this.written++;
  }

  /**
   * `done()` once everything committed so far is on disk, or `done(err)` when that cannot be
   * promised (a sync failed, or the store is closing). Called synchronously when nothing is pending.
   */
  whenSynced(done: (err?: Error) => void): void {
    if (this.failure) {
      done(this.failure);
      return;
    }
    if (this.closing) {
      done(new Error('wal sync: the store is closing'));
      return;
    }
    if (this.synced >= this.written) {
      done();
      return;
    }
    this.waiters.push({ gen: this.written, done });
    this.start();
  }

  /**
   * Syncs the WAL before returning (the event loop waits): every commit noted so far is on disk
   * afterwards. Throws when it cannot be promised (the sync failed, now or before; the store is
   * closing). Waiters of `whenSynced` it covered are answered when the sync in flight returns.
   */
  syncNow(): void {
    if (this.failure) throw this.failure;
    if (this.closing || this.fd === null) throw new Error('wal sync: the store is closing');
    const gen = this.written;
    try {
      this.syncNowCall(this.fd);
    } catch (err) {
      this.failure = new Error(`wal sync: fdatasync of the write-ahead log failed: ${(err as Error).message}`);
      this.failAll(this.failure);
      throw this.failure;
    }
    this.syncs++;
    this.synced = Math.max(this.synced, gen);
  }

  /** Commits noted but not yet known to be on disk (0 when every waiter could be answered now). */
  get pending(): number {
    return this.written - this.synced;
  }

  private start(): void {
    if (this.inFlight || this.waiters.length === 0 || this.fd === null) return;
    const gen = this.written;
    this.inFlight = true;
    this.sync(this.fd, (err) => {
      this.inFlight = false;
      if (err) {
        this.failure = new Error(`wal sync: fdatasync of the write-ahead log failed: ${err.message}`);
        this.failAll(this.failure);
      } else {
        this.syncs++;
        this.synced = Math.max(this.synced, gen);
        const due = this.waiters.filter((w) => w.gen <= this.synced);
        this.waiters = this.waiters.filter((w) => w.gen > this.synced);
        for (const w of due) w.done();
      }
      if (this.closing) this.closeFd();
      else this.start();
    });
  }

  private failAll(err: Error): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w.done(err);
  }

  /**
   * Fails whoever still waits and closes the descriptor (after the sync in flight, if any: its
   * number must not be reused under it). Call before closing the SQLite connection.
   */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.failAll(new Error('wal sync: the store is closing'));
    if (!this.inFlight) this.closeFd();
  }

  private closeFd(): void {
    if (this.fd === null) return;
    fs.closeSync(this.fd);
    this.fd = null;
  }
}
