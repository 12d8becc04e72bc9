/**
 * @module inference/pipeline/lruCache
 * A least-recently-used map bounded by the byte size of its values (image features and KV caches are tens to
 * hundreds of MB each, so a count bound would be meaningless). Evicted values get `dispose` called.
 */

export interface Sized {
  /** Bytes this value keeps alive. */
  readonly bytes: number;
}

export class ByteLru<V extends Sized> {
  private readonly map = new Map<string, V>();
  private used = 0;
  /** Evictions since creation (tests and logs read it). */
  evictions = 0;

  constructor(
    readonly maxBytes: number,
    private readonly dispose: (value: V) => void = () => {},
  ) {}

  get(key: string): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }

  /** Stores a value; the oldest entries go until the total fits (a value larger than the bound is not kept). */
  set(key: string, value: V): void {
    this.delete(key);
    if (value.bytes > this.maxBytes) {
      this.dispose(value);
      return;
    }
    this.map.set(key, value);
    this.used += value.bytes;
    while (this.used > this.maxBytes) {
      const oldest = this.map.keys().next().value as string;
      this.delete(oldest);
      this.evictions++;
    }
  }

  delete(key: string): void {
    const value = this.map.get(key);
    if (value === undefined) return;
    this.map.delete(key);
    this.used -= value.bytes;
    this.dispose(value);
  }

  clear(): void {
    for (const key of [...this.map.keys()]) this.delete(key);
  }

  get size(): number {
    return this.map.size;
  }

  get bytes(): number {
    return this.used;
  }
}
