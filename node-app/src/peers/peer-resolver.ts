/**
 * Name resolution for one peer link: at most one lookup in flight per host name, and the last
 * good answer served while a fresh one is fetched.
 *
 * Why: Node's `dns.lookup` (getaddrinfo) runs on libuv's thread pool, 4 threads shared by the
 * whole process (DNS, fs, zlib, crypto). In a Swarm with `endpoint_mode: dnsrr`, a peer whose task
 * is gone has no name any more, and the embedded resolver may take seconds to say so. The default
 * HTTP agent starts one lookup per new connection and a timed-out request does not cancel its
 * lookup, so a dead peer called every 100 ms piles up lookups until they hold every pool thread;
 * then the lookup for a healthy peer's next connection waits behind them, its calls time out and
 * the healthy peer was declared "Node unreachable" (issue 5, node2 down 150 s). With this resolver a
 * dead peer's name costs at most one pool thread, and a peer we reached before keeps its address.
 */
import dns from 'node:dns';
import net from 'node:net';

export type LookupFn = (
  hostname: string,
  options: dns.LookupAllOptions,
  callback: (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void,
) => void;

interface Entry {
  addresses?: dns.LookupAddress[];
  /** when `addresses` was fetched */
  at: number;
  inflight?: Promise<dns.LookupAddress[]>;
  /** a lookup started by `refreshNow`, beside a regular one that may hang */
  rescue?: Promise<dns.LookupAddress[]>;
}

export interface PeerResolverOptions {
  /** an answer younger than this is used without asking again. Default 2000 ms. */
  freshMs?: number;
  /** the resolver itself (default `dns.lookup`, i.e. getaddrinfo: /etc/hosts and DNS) */
  lookup?: LookupFn;
}

export class PeerResolver {
  private readonly entries = new Map<string, Entry>();
  private readonly freshMs: number;
  private readonly resolve: LookupFn;
  /** lookups started (for tests and metrics) */
  lookups = 0;

  constructor(opts: PeerResolverOptions = {}) {
    this.freshMs = opts.freshMs ?? 2000;
    this.resolve = opts.lookup ?? (dns.lookup as unknown as LookupFn);
  }

  /** Addresses of `host`: cached (fresh, or stale while a refresh runs), else the one shared lookup. */
  addresses(host: string): Promise<dns.LookupAddress[]> {
    const family = net.isIP(host);
    if (family) return Promise.resolve([{ address: host, family }]);
    const e = this.entryFor(host);
    if (Date.now() - e.at >= this.freshMs && !e.inflight) {
      e.inflight = this.lookupInto(host, e).finally(() => {
        e.inflight = undefined;
      });
      // a background refresh nobody awaits must not be an unhandled rejection
      e.inflight.catch(() => undefined);
    }
    if (e.addresses) return Promise.resolve(e.addresses);
    return e.inflight as Promise<dns.LookupAddress[]>;
  }

  /**
   * Looks `host` up now, even while a regular lookup is in flight, and serves its answer: for a
   * peer that has just called us, so its name exists again. Why: in a Swarm (dnsrr) a replaced
   * task's name is gone for the seconds of a stop-first update, and the embedded DNS forwards the
   * unknown name to the upstream resolvers, so the one regular lookup started in that gap hangs
   * (~10 s in the lab) while we keep calling the old task's address; the restarted node heard from
   * no admin and sat at its 10 s catch-up cap. At most one such lookup per name is in flight, and
   * it is only asked for on evidence the name resolves, so it cannot pile up pool threads.
   * Resolves to the addresses (undefined if the lookup failed or one was already running).
   */
  refreshNow(host: string): Promise<dns.LookupAddress[] | undefined> {
    if (net.isIP(host)) return Promise.resolve(undefined);
    const e = this.entryFor(host);
    if (e.rescue) return Promise.resolve(undefined);
    e.rescue = this.lookupInto(host, e).finally(() => {
      e.rescue = undefined;
    });
    return e.rescue.catch(() => undefined);
  }

  private entryFor(host: string): Entry {
    let e = this.entries.get(host);
    if (!e) this.entries.set(host, (e = { at: 0 }));
    return e;
  }

  /** One lookup of `host`; a good answer becomes what `entry` serves, a failure leaves it as it was. */
  private lookupInto(host: string, entry: Entry): Promise<dns.LookupAddress[]> {
    this.lookups++;
    return new Promise<dns.LookupAddress[]>((resolve, reject) => {
      this.resolve(host, { all: true }, (err, addrs) => {
        if (err || !addrs || addrs.length === 0) {
          // The name may be gone only for now (a task being replaced): keep the old answer.
          reject(err ?? Object.assign(new Error(`no address for ${host}`), { code: 'ENOTFOUND' }));
          return;
        }
        entry.addresses = addrs;
        entry.at = Date.now();
        resolve(addrs);
      });
    });
  }

  /** The first address currently served for `host`, if any (for logs). */
  cached(host: string): string | undefined {
    return this.entries.get(host)?.addresses?.[0]?.address;
  }

  /**
   * Serves `address` for `host` from now on (until a later lookup answers): the address an
   * authenticated call from that peer came from, while its name still resolves to nothing or to
   * its old task. Ignored unless `address` is an IP literal of the family the name had.
   */
  learn(host: string, address: string): boolean {
    const family = net.isIP(address);
    if (!family || net.isIP(host)) return false;
    let e = this.entries.get(host);
    if (!e) this.entries.set(host, (e = { at: 0 }));
    if (e.addresses?.length === 1 && e.addresses[0].address === address) return false;
    if (e.addresses && !e.addresses.some((a) => a.family === family)) return false;
    e.addresses = [{ address, family }];
    e.at = Date.now();
    return true;
  }

  /** A `lookup` for `http.request` / `net.connect` (both the `all` and the single-address form). */
  readonly lookup = (
    hostname: string,
    options: dns.LookupOptions | number | undefined,
    callback: (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void,
  ): void => {
    const opts = typeof options === 'object' && options !== null ? options : {};
    const wanted = typeof options === 'number' ? options : opts.family === 'IPv4' ? 4 : opts.family === 'IPv6' ? 6 : opts.family ?? 0;
    this.addresses(hostname).then(
      (all) => {
        const list = wanted === 4 || wanted === 6 ? all.filter((a) => a.family === wanted) : all;
        if (list.length === 0) {
          callback(Object.assign(new Error(`no IPv${wanted} address for ${hostname}`), { code: 'ENOTFOUND' }), opts.all ? [] : '');
          return;
        }
        if (opts.all) callback(null, list);
        else callback(null, list[0].address, list[0].family);
      },
      (err: NodeJS.ErrnoException) => callback(err, opts.all ? [] : ''),
    );
  };
}
