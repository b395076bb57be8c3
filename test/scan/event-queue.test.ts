/** The bounded queue between a scan's producer and its consumer. */
import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../src/scan/event-queue.js';

async function read<T>(queue: EventQueue<T>): Promise<{ items: T[]; error?: unknown }> {
  const items: T[] = [];
  try {
    for await (const item of queue.drain()) items.push(item);
    return { items };
  } catch (error) {
    return { items, error };
  }
}

describe('EventQueue', () => {
  it('delivers items in order, then ends when closed', async () => {
    const queue = new EventQueue<number>(4);
    queue.push(1);
    queue.push(2);
    queue.close();
    queue.push(3); // after close: dropped
    expect(await read(queue)).toEqual({ items: [1, 2] });
  });

  it('closed with an error (a failure), delivers what is queued, then throws it', async () => {
    const queue = new EventQueue<number>(4);
    queue.push(1);
    queue.push(2);
    const failure = new Error('raw socket closed');
    queue.close(failure);
    expect(await read(queue)).toEqual({ items: [1, 2], error: failure });
  });

  it('aborted, drops what is queued and throws the reason at the next read', async () => {
    const queue = new EventQueue<number>(4);
    queue.push(1);
    queue.push(2);
    const reason = new Error('aborted');
    queue.abort(reason);
    expect(await read(queue)).toEqual({ items: [], error: reason });
  });

  it('an abort while the consumer is reading ends the stream after the item in hand', async () => {
    const queue = new EventQueue<number>(4);
    const seen: number[] = [];
    for (let i = 1; i <= 3; i++) queue.push(i);
    const reason = new Error('aborted');
    await expect(
      (async () => {
        for await (const item of queue.drain()) {
          seen.push(item);
          if (item === 1) queue.abort(reason);
        }
      })(),
    ).rejects.toBe(reason);
    expect(seen).toEqual([1]);
  });

  it('tells the producer when there is room again', async () => {
    const queue = new EventQueue<number>(2);
    queue.push(1);
    queue.push(2);
    expect(queue.hasRoom()).toBe(false);
    let roomAgain = false;
    const waiting = queue.waitForRoom().then(() => (roomAgain = true));
    const iterator = queue.drain();
    await iterator.next();
    await iterator.next();
    await waiting;
    expect(roomAgain).toBe(true);
    expect(queue.hasRoom()).toBe(true);
  });
});
