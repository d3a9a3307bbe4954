// In-process concurrency primitives of the oracle: a per-key async mutex
// (requests on one record are serialized, different records run concurrently)
// and a counting semaphore (max_kids: requests processed at once).

/** One FIFO mutex per key; entries vanish when nobody holds or waits for them. */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  /** Resolves with a release function once `key` is ours. */
  async lock(key: string): Promise<() => void> {
    const prev = this.tails.get(key);
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev ? prev.then(() => mine) : mine;
    this.tails.set(key, tail);
    if (prev) await prev;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
  }

  /** Run `fn` holding `key`. */
  async with<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const release = await this.lock(key);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** Keys currently held or waited for (tests). */
  get size(): number {
    return this.tails.size;
  }
}

/** Counting semaphore with FIFO waiters. */
export class Semaphore {
  private free: number;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`semaphore capacity must be >= 1: ${capacity}`);
    this.free = capacity;
  }

  get available(): number {
    return this.free;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise<void>((res) => this.waiters.push(res));
  }

  /** Take a slot only if one is free now. */
  tryAcquire(): boolean {
    if (this.free > 0) {
      this.free--;
      return true;
    }
    return false;
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else if (this.free < this.capacity) this.free++;
  }
}
