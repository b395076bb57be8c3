/**
 * Fault: a TCP self-connect is not an open port. When the kernel picks local
 * port P for a connection to 127.0.0.1:P, the simultaneous open succeeds
 * with nothing listening. The test makes that certain in a network namespace
 * of its own (root only) whose one ephemeral port is the port it connects
 * to, and checks every attempt path: this thread, a worker with Node's TCP
 * handle, a worker with net.Socket, and a whole connect scan.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const PORT = 40_001;
const canUnshare = process.getuid?.() === 0 && spawnSync('unshare', ['-n', 'true']).status === 0;

/** Runs the child in a fresh namespace with only loopback up and one ephemeral port. */
function inNamespace(mode: string): { mode: string; reading: unknown } {
  const script = [
    'ip link set lo up',
    `sysctl -q -w net.ipv4.ip_local_port_range="${PORT} ${PORT}"`,
    `exec node --import tsx test/support/self-connect-child.ts ${mode} ${PORT}`,
  ].join(' && ');
  const child = spawnSync('unshare', ['-n', 'sh', '-c', script], { encoding: 'utf8', timeout: 20_000 });
  expect(child.status, child.stderr).toBe(0);
  return JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as { mode: string; reading: unknown };
}

describe.skipIf(!canUnshare)('TCP self-connects (in a network namespace of the test)', () => {
  for (const mode of ['thread', 'handle', 'socket'] as const) {
    it(`an attempt on ${mode === 'thread' ? 'this thread' : `a worker (${mode})`} that connects to itself is not open`, () => {
      const { reading } = inNamespace(mode);
      expect(reading).not.toMatchObject({ kind: 'open' });
      // The kernel had no other port to give: the retry finds none, or connects to itself again.
      expect(reading).toMatchObject({ kind: 'error', code: expect.stringMatching(/^(EADDRNOTAVAIL|ESELFCONNECT)$/) });
    });
  }

  it('a connect scan reports no open port, and says the attempt failed', () => {
    const { reading } = inNamespace('scan');
    const events = reading as { type: string; state?: string; message?: string }[];
    expect(events.filter((e) => e.state === 'open')).toEqual([]);
    expect(events.some((e) => e.type === 'warning')).toBe(true);
  });
});
