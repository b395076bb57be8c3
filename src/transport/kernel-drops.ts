/**
 * Replies the kernel dropped because a raw socket's receive queue was full.
 *
 * Linux counts them per socket in the last column ("drops") of
 * `/proc/net/raw` and `/proc/net/raw6`. The counter finds this process's
 * raw sockets there by inode (from `/proc/self/fd`) and sums their drops.
 * Reading is one `pread` of each small file (a few microseconds), so the
 * engine can ask whenever probes time out. Elsewhere (not Linux) nothing is
 * known and the count stays 0.
 *
 * @module
 */
import { closeSync, openSync, readdirSync, readlinkSync, readSync } from 'node:fs';

const FILES = ['/proc/net/raw', '/proc/net/raw6'] as const;

/**
 * This process's raw sockets' drop counts, summed.
 *
 * @example
 * ```ts
 * const drops = new KernelDropCounter();
 * drops.adoptSockets(); // after opening raw sockets
 * drops.read(); // 0 while every reply found room
 * ```
 */
export class KernelDropCounter {
  private readonly fds: (number | undefined)[] = [];
  private readonly buffer = Buffer.alloc(64 * 1024);
  /** Inodes of this process's raw sockets, with the drops last seen on each (kept after a socket closes). */
  private readonly own = new Map<string, number>();
  private closedTotal = 0;

  constructor() {
    for (const file of FILES) {
      try {
        this.fds.push(openSync(file, 'r'));
      } catch {
        this.fds.push(undefined);
      }
    }
  }

  /** Whether drop counts can be read here. */
  get available(): boolean {
    return this.fds.some((fd) => fd !== undefined);
  }

  /** Looks up which raw sockets are this process's (call after opening or closing one). */
  adoptSockets(): void {
    if (!this.available) return;
    const mine = new Set<string>();
    try {
      for (const name of readdirSync('/proc/self/fd')) {
        let link: string;
        try {
          link = readlinkSync(`/proc/self/fd/${name}`);
        } catch {
          continue;
        }
        if (link.startsWith('socket:[')) mine.add(link.slice(8, -1));
      }
    } catch {
      return;
    }
    const lines = this.lines();
    for (const [inode] of lines) if (mine.has(inode) && !this.own.has(inode)) this.own.set(inode, lines.get(inode) ?? 0);
    // Sockets that closed keep the drops they had.
    for (const [inode, drops] of this.own) {
      if (!lines.has(inode)) {
        this.closedTotal += drops;
        this.own.delete(inode);
      }
    }
  }

  /** Drops of this process's raw sockets so far (a count that only grows). */
  read(): number {
    if (this.own.size === 0) return this.closedTotal;
    let total = this.closedTotal;
    const lines = this.lines();
    for (const [inode, last] of this.own) {
      const now = lines.get(inode);
      const drops = now === undefined ? last : now;
      this.own.set(inode, drops);
      total += drops;
    }
    return total;
  }

  /** Closes the files. */
  close(): void {
    for (const fd of this.fds) if (fd !== undefined) closeSync(fd);
    this.fds.length = 0;
  }

  /** Inode to drops, for every raw socket of this network namespace. */
  private lines(): Map<string, number> {
    const out = new Map<string, number>();
    for (const fd of this.fds) {
      if (fd === undefined) continue;
      let length = 0;
      try {
        length = readSync(fd, this.buffer, 0, this.buffer.length, 0);
      } catch {
        continue;
      }
      const text = this.buffer.toString('latin1', 0, length);
      let start = text.indexOf('\n') + 1;
      while (start > 0 && start < text.length) {
        let end = text.indexOf('\n', start);
        if (end < 0) end = text.length;
        const fields = text.slice(start, end).trim().split(/\s+/);
        // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
        if (fields.length >= 13) out.set(fields[9] as string, Number(fields[12]));
        start = end + 1;
      }
    }
    return out;
  }
}
