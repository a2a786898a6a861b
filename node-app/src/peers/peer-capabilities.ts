/**
 * What one peer speaks, learnt by asking it once (`swarmchat_hello`): our nodes answer with a struct
 * naming their protocol and capabilities (`batch-json-v1`); an original Python node answers with a
 * fault (`method "swarmchat_hello" is not supported`). The node chooses between our additive
 * methods (`swarmchat_*`) and the original's with `isOriginal()` / `supports()`; the stream chooses
 * batching with it. A peer that gives no answer within the wait is handled as an original node:
 * the original's methods are the ones every node understands.
 */
import { type PeerLogger } from './logger';
import { BATCH_CAPABILITY } from './batch-format';
import { isStruct } from './rpc-params';
import { XmlRpcFault, type XmlRpcValue } from './xmlrpc-codec';

/** `ours`: answered the hello probe; `original`: a DS-G1-SMS node (faulted on it, or configured so); `unknown`: not (yet) answered. */
export type PeerKind = 'ours' | 'original' | 'unknown';

/** `swarmchat`: our additive `swarmchat_*` methods; `batch`: the `swarmchat_batch` stream extension. */
export type PeerFeature = 'swarmchat' | 'batch';

export interface PeerCapabilitiesOptions {
  /** the hello call (with its own deadline); rejects with XmlRpcFault when the peer faults on it */
  hello: () => Promise<XmlRpcValue>;
  /** known from configuration (LEGACY_PEERS) to be an original node: never probed */
  original: boolean;
  /** how long isOriginal()/supports() wait for a probe by default */
  waitMs: number;
  log: PeerLogger;
}

export class PeerCapabilities {
  private _kind: PeerKind;
  private features = new Set<string>();
  private probing: Promise<PeerKind> | undefined;
  /** bumped by reset(), so a probe that started before it cannot record a stale answer */
  private epoch = 0;

  constructor(private readonly o: PeerCapabilitiesOptions) {
    this._kind = o.original ? 'original' : 'unknown';
  }

  /** What is known now, without asking. */
  get kind(): PeerKind {
    return this._kind;
  }

  /**
   * Asks the peer if nobody has yet (one probe shared by all callers). Resolves with its kind; a
   * transport failure rejects (the kind stays unknown and the next call asks again).
   */
  resolve(): Promise<PeerKind> {
    if (this._kind !== 'unknown') return Promise.resolve(this._kind);
    if (!this.probing) {
      const epoch = this.epoch;
      this.probing = this.o
        .hello()
        .then(
          (hello) => {
            const caps = isStruct(hello) && Array.isArray(hello.capabilities) ? hello.capabilities : [];
            if (epoch === this.epoch) this.record('ours', caps.filter((c): c is string => typeof c === 'string'));
            return this._kind;
          },
          (e: unknown) => {
            if (!(e instanceof XmlRpcFault)) throw e;
            if (epoch === this.epoch) this.record('original', []);
            return this._kind;
          },
        )
        .finally(() => {
          if (epoch === this.epoch) this.probing = undefined;
        });
    }
    return this.probing;
  }

  /** The kind known within `waitMs` (probing if needed); `unknown` when the peer has not answered by then. */
  async within(waitMs = this.o.waitMs): Promise<PeerKind> {
    if (this._kind !== 'unknown') return this._kind;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<PeerKind>((r) => {
      timer = setTimeout(() => r('unknown'), waitMs);
    });
    try {
      return await Promise.race([this.resolve().catch((): PeerKind => 'unknown'), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Whether to call it as an original node: it is one, or it did not answer the probe within the wait. */
  async isOriginal(waitMs?: number): Promise<boolean> {
    return (await this.within(waitMs)) !== 'ours';
  }

  async supports(feature: PeerFeature, waitMs?: number): Promise<boolean> {
    if ((await this.within(waitMs)) !== 'ours') return false;
    return feature === 'swarmchat' || this.features.has(BATCH_CAPABILITY);
  }

  /** Known and batching (no probe). */
  get batches(): boolean {
    return this._kind === 'ours' && this.features.has(BATCH_CAPABILITY);
  }

  /** The peer went down: it may come back as another version, so ask again then (unless configured). */
  reset(): void {
    if (this.o.original) return;
    this.epoch++;
    this.probing = undefined;
    this._kind = 'unknown';
    this.features.clear();
  }

  private record(kind: PeerKind, features: string[]): void {
    const changed = kind !== this._kind;
    this._kind = kind;
    this.features = new Set(features);
    if (changed) this.o.log.info('peer capabilities', { kind, features });
  }
}
