import { describe, expect, it } from 'vitest';
import { DatagramSlab } from '../../src/transport/datagram-slab.js';

describe('DatagramSlab', () => {
  it('keeps every copy intact while the source buffer is reused, across many slabs', () => {
    const slab = new DatagramSlab();
    const receive = new Uint8Array(1500);
    const copies: { bytes: Uint8Array; fill: number; length: number }[] = [];
    // 3000 datagrams of 40 to 1100 bytes: well over one slab's worth.
    for (let i = 0; i < 3000; i++) {
      const length = 40 + ((i * 37) % 1061);
      receive.fill(i & 0xff);
      copies.push({ bytes: slab.copy(receive, length), fill: i & 0xff, length });
      receive.fill(0xa5); // the socket reuses its buffer
    }
    for (const { bytes, fill, length } of copies) {
      expect(bytes.length).toBe(length);
      expect(bytes.every((b) => b === fill)).toBe(true);
    }
  });

  it('gives large datagrams memory of their own, and copies all of the source by default', () => {
    const slab = new DatagramSlab();
    const big = new Uint8Array(9000).fill(7);
    const copy = slab.copy(big);
    big.fill(0);
    expect(copy.length).toBe(9000);
    expect(copy.byteOffset).toBe(0);
    expect(copy.buffer.byteLength).toBe(9000);
    expect(copy.every((b) => b === 7)).toBe(true);
  });

  it('copies of one slab never overlap', () => {
    const slab = new DatagramSlab();
    const a = slab.copy(new Uint8Array([1, 2, 3]));
    const b = slab.copy(new Uint8Array([4, 5, 6, 7]));
    expect(a.buffer).toBe(b.buffer);
    expect(b.byteOffset).toBeGreaterThanOrEqual(a.byteOffset + a.length);
    expect([...a]).toEqual([1, 2, 3]);
    expect([...b]).toEqual([4, 5, 6, 7]);
  });
});
