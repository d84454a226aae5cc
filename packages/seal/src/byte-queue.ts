/**
 * A FIFO of bytes fed by network reads of any size. Reads take bytes off the front without
 * re-concatenating everything still queued, and consumed parts are dropped by moving an index rather
 * than `Array.shift()`, so even a peer that trickles a large chunk one byte per read costs linear time.
 */
export class ByteQueue {
  #parts: Uint8Array[] = [];
  /** Index of the first part still holding unread bytes. */
  #first = 0;
  /** Bytes already read from `#parts[#first]`. */
  #head = 0;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#parts.push(bytes);
    this.#length += bytes.length;
  }

  /** The byte at `index` from the front; `index` must be below `length`. */
  byteAt(index: number): number {
    let i = index + this.#head;
    for (let p = this.#first; p < this.#parts.length; p++) {
      const part = this.#parts[p]!;
      if (i < part.length) return part[i]!;
      i -= part.length;
    }
    throw new RangeError("ByteQueue index out of range");
  }

  /** Removes and returns the first `count` bytes (`count` ≤ `length`) as a fresh array. */
  take(count: number): Uint8Array {
    if (count > this.#length) throw new RangeError("ByteQueue underflow");
    const out = new Uint8Array(count);
    let filled = 0;
    while (filled < count) {
      const part = this.#parts[this.#first]!;
      const available = part.length - this.#head;
      const n = Math.min(available, count - filled);
      out.set(part.subarray(this.#head, this.#head + n), filled);
      filled += n;
      if (n === available) {
        this.#first++;
        this.#head = 0;
      } else {
        this.#head += n;
      }
    }
    this.#length -= count;
    if (this.#first > 64 && this.#first * 2 > this.#parts.length) {
      this.#parts = this.#parts.slice(this.#first);
      this.#first = 0;
    }
    return out;
  }

  /** Removes and returns everything. */
  takeAll(): Uint8Array {
    return this.take(this.#length);
  }
}
