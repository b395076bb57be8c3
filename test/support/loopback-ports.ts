/**
 * Loopback ports for tests that make real connections without root: one with
 * a listener that accepts and closes, and one that nothing listens on.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll } from 'vitest';

const LOOPBACK = '127.0.0.1';

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') reject(new Error('no port'));
      else resolve(address.port);
    });
  });
}

/** An open port (a server that accepts and closes), a closed port, and a close() for the server. */
export interface LoopbackPorts {
  readonly open: number;
  readonly closed: number;
  close(): Promise<void>;
}

/**
 * Opens a listener on 127.0.0.1 and finds a port nothing listens on (bound
 * once by the kernel's choice, then released).
 *
 * @example
 * ```ts
 * const ports = await loopbackPorts();
 * try { ... ports.open ... ports.closed ... } finally { await ports.close(); }
 * ```
 */
export async function loopbackPorts(): Promise<LoopbackPorts> {
  const server = createServer((socket) => socket.destroy());
  const open = await listen(server);
  const probe = createServer();
  const closed = await listen(probe);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return { open, closed, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/**
 * Registers a {@link loopbackPorts} fixture for the enclosing `describe`: the
 * ports are there from `beforeAll` on, the listener closes in `afterAll`.
 *
 * @example
 * ```ts
 * const ports = useLoopbackPorts();
 * it('...', () => connect(ports.open));
 * ```
 */
export function useLoopbackPorts(): { readonly open: number; readonly closed: number } {
  let ports: LoopbackPorts | undefined;
  beforeAll(async () => {
    ports = await loopbackPorts();
  });
  afterAll(async () => {
    await ports?.close();
  });
  const get = (): LoopbackPorts => {
    if (!ports) throw new Error('loopback ports are only there once beforeAll ran');
    return ports;
  };
  return {
    get open() {
      return get().open;
    },
    get closed() {
      return get().closed;
    },
  };
}
