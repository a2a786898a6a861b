/**
 * Waiting on a room's state: a condition on one room, re-checked whenever the engine says the
 * room changed (`notify`), with a deadline on the injected clock. Used for "wait until committed /
 * caught up / the admin changed / the room exists".
 */
import type { Clock } from './clock';

export interface Watch {
  promise: Promise<boolean>;
  /** Resolves false now and leaves nothing behind (for the loser of a race). */
  cancel(): void;
}

export class RoomWatch {
  private readonly watchers = new Map<string, Set<() => void>>();

  constructor(private readonly clock: Clock) {}

  /** The room changed: re-check every condition waiting on it. */
  notify(roomId: string): void {
    const set = this.watchers.get(roomId);
    if (!set) return;
    for (const fn of [...set]) fn();
  }

  /** True once `cond` holds, false if it still does not after `timeoutMs`. */
  waitFor(roomId: string, timeoutMs: number, cond: () => boolean): Promise<boolean> {
    return this.watch(roomId, timeoutMs, cond).promise;
  }

  watch(roomId: string, timeoutMs: number, cond: () => boolean): Watch {
    if (cond()) return { promise: Promise.resolve(true), cancel: () => undefined };
    if (timeoutMs <= 0) return { promise: Promise.resolve(false), cancel: () => undefined };
    let cancel: () => void = () => undefined;
    const promise = new Promise<boolean>((resolve) => {
      let set = this.watchers.get(roomId);
      if (!set) this.watchers.set(roomId, (set = new Set()));
      const watchers = set;
      const done = (v: boolean) => {
        timer.cancel();
        watchers.delete(check);
        if (watchers.size === 0 && this.watchers.get(roomId) === watchers) this.watchers.delete(roomId);
        resolve(v);
      };
      const check = () => {
        if (cond()) done(true);
      };
      const timer = this.clock.after(timeoutMs, () => done(cond()));
      watchers.add(check);
      cancel = () => done(false);
    });
    return { promise, cancel };
  }
}
