/**
 * The raw baseline of a local actor call: a per-key promise chain. Calls to one key run one at a
 * time in order; different keys run independently. No activation, no call context, no timeouts,
 * no reentrancy: what is left is the unavoidable cost of serializing async calls per key.
 */
export class BareMailbox<T> {
  readonly #tails = new Map<string, Promise<unknown>>();
  readonly #actors = new Map<string, T>();
  readonly #create: (key: string) => T;

  constructor(create: (key: string) => T) {
    this.#create = create;
  }

  call<R>(key: string, method: (actor: T) => Promise<R>): Promise<R> {
    let actor = this.#actors.get(key);
    if (actor === undefined) {
      actor = this.#create(key);
      this.#actors.set(key, actor);
    }
    const target = actor;
    const tail = this.#tails.get(key);
    const next = tail === undefined ? method(target) : tail.then(() => method(target));
    this.#tails.set(key, next.then(noop, noop));
    return next;
  }

  get size(): number {
    return this.#actors.size;
  }
}

function noop(): void {}
