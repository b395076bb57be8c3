/**
 * Copies of received datagrams, carved from shared slabs.
 *
 * raw-socket reads every datagram into one reused buffer, so each must be
 * copied before anything keeps a view of it. A fresh `Uint8Array` per
 * datagram costs an allocation of its own memory per packet; a slab (as
 * Node's Buffer pool does) costs one allocation per few hundred packets. A
 * slab is never written twice: a full slab is left to the garbage collector
 * (with the views still using it) and a new one started.
 *
 * @module
 */

/** Bytes per slab. A view kept by a consumer keeps its whole slab alive, so slabs stay small. */
const SLAB_BYTES = 16 * 1024;
/** Datagrams larger than this get memory of their own. */
const LARGEST_SHARED = 2048;

/**
 * Hands out copies of datagrams in memory that is never overwritten.
 *
 * @example
 * ```ts
 * const slab = new DatagramSlab();
 * const copy = slab.copy(receiveBuffer, bytesRead); // receiveBuffer may now be reused
 * ```
 */
export class DatagramSlab {
  private slab = new Uint8Array(SLAB_BYTES);
  private used = 0;

  /** A copy of the first `length` bytes of `source`. */
  copy(source: Uint8Array, length: number = source.length): Uint8Array {
    if (length > LARGEST_SHARED) return source.slice(0, length);
    if (this.used + length > SLAB_BYTES) {
      this.slab = new Uint8Array(SLAB_BYTES);
      this.used = 0;
    }
    const start = this.used;
    const slab = this.slab;
    for (let i = 0; i < length; i++) slab[start + i] = source[i] as number;
    this.used = start + length;
    return slab.subarray(start, start + length);
  }
}
