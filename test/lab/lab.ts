/**
 * The namespace lab: a scanner namespace with no default route, joined by veth
 * pairs to two target namespaces running real services behind iptables rules.
 *
 * ```
 *   scan (198.18.1.1, fd00:1::1)  ── veth ──  t1 198.18.1.10-14, fd00:1::10
 *        (198.18.2.1, fd00:2::1)  ── veth ──  t2 198.18.2.10,    fd00:2::10  (loss, echo dropped)
 * ```
 *
 * {@link createLab} builds a fresh lab with unique names (`ps-<id>-scan`,
 * `ps-<id>-t1`, `ps-<id>-t2`) and {@link Lab.destroy} tears it down; a crashed run
 * is cleaned up by the process exit/signal handlers, and a killed one by the
 * next run's stale-namespace sweep.
 *
 * @module
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable, killGroup, runBounded, runChecked, type ExecResult } from './exec.js';
import { buildGroundTruth, type GroundTruth } from './ground-truth.js';
import { labSupport } from './support.js';
import {
  BANNERS,
  LAB_DNS_NAME,
  PREFIX_LENGTH,
  SCANNER_ADDRESSES,
  SWEEP_CIDR,
  T1_ADDRESSES,
  T2_ADDRESSES,
  UDP_7777_REPLY,
} from './topology.js';

/**
 * Options of {@link createLab}.
 *
 * @example
 * ```ts
 * const lab = await createLab({ loss: 0 } satisfies LabOptions);
 * ```
 */
export interface LabOptions {
  /** Probability (0..1) that t2 drops a packet, on INPUT and on OUTPUT each. Default 0.1; 0 disables loss. */
  readonly loss?: number;
}

/**
 * Options of {@link Lab.exec} and {@link Lab.spawnInScanner}.
 *
 * @example
 * ```ts
 * await lab.exec('t1', ['ss', '-ltn'], { timeoutMs: 5_000 } satisfies LabExecOptions);
 * ```
 */
export interface LabExecOptions {
  /** Kill the command after this many milliseconds. Default 60 000. */
  readonly timeoutMs?: number;
  /** Text written to the command's stdin. */
  readonly input?: string;
  /** Extra environment variables. */
  readonly env?: Readonly<Record<string, string>>;
  /** Working directory (default: the current one, so `--import tsx` resolves from the repository). */
  readonly cwd?: string;
}

/**
 * A non-empty address list: `[0]` is the primary address (typed `string` even with noUncheckedIndexedAccess).
 *
 * @example
 * ```ts
 * const primary: string = lab.t1.ipv4[0];
 * ```
 */
export type AddressList = readonly [string, ...string[]];

/**
 * Role of a namespace in the lab.
 *
 * @example
 * ```ts
 * const role: LabRole = 't1'; await lab.exec(role, ['ip', 'addr']);
 * ```
 */
export type LabRole = 'scan' | 't1' | 't2';

/**
 * A running lab.
 *
 * @example
 * ```ts
 * const lab: Lab = await createLab(); await lab.destroy();
 * ```
 */
export interface Lab {
  /** Short random id of this run; every namespace name starts with `ps-<id>-`. */
  readonly id: string;
  /** The scanner namespace: no default route, one veth leg per target. */
  readonly scanner: { readonly ns: string; readonly ipv4: AddressList; readonly ipv6: AddressList };
  /** Target t1: services, firewall rules, ICMP rate limit disabled, no loss. */
  readonly t1: {
    readonly ns: string;
    readonly ipv4: AddressList;
    readonly ipv6: AddressList;
    /** Secondary live IPv4 addresses for sweeps (198.18.1.11-14). */
    readonly extraIpv4: readonly string[];
  };
  /** Target t2: random loss, default ICMP rate limits, ICMP echo requests dropped. */
  readonly t2: { readonly ns: string; readonly ipv4: AddressList; readonly ipv6: AddressList; readonly loss: number };
  /**
   * The /24 for sweeps and its live target addresses (.10-.14). The scanner's own
   * 198.18.1.1 is inside the /24 too; nmap reports it up with reason `localhost-response`.
   */
  readonly sweep: { readonly cidr: typeof SWEEP_CIDR; readonly live: readonly string[]; readonly scannerOwn: string };
  /** Expected state and reason of every declared host and port, per scan type. */
  readonly groundTruth: GroundTruth;
  /** Directory holding the services' configuration, keys, pid files and logs. */
  readonly dir: string;
  /**
   * Runs `argv` inside a namespace (`ip netns exec <ns> ...argv`), bounded in time.
   * `ns` is a namespace name or a role (`'scan'`, `'t1'`, `'t2'`).
   */
  exec(ns: string, argv: readonly string[], opts?: LabExecOptions): Promise<ExecResult>;
  /** Runs `argv` inside the scanner namespace, bounded in time. */
  spawnInScanner(argv: readonly string[], opts?: LabExecOptions): Promise<ExecResult>;
  /** Kills every process of the lab and deletes its namespaces. Idempotent. */
  destroy(): Promise<void>;
}

/**
 * Default timeout of {@link Lab.exec}, in milliseconds.
 *
 * @example
 * ```ts
 * await lab.exec('scan', argv, { timeoutMs: LAB_EXEC_TIMEOUT_MS * 2 });
 * ```
 */
export const LAB_EXEC_TIMEOUT_MS = 60_000;

/**
 * Directory of the run markers (`<id>.json` with the owning pid) used to tell live labs from stale ones.
 *
 * @example
 * ```ts
 * readdirSync(LAB_MARKER_DIR); // ['a1b2.json']
 * ```
 */
export const LAB_MARKER_DIR = '/run/portscout-lab';

/** Namespaces matching this are the lab's; only these are ever swept as stale. */
const LAB_NS_PATTERN = /^ps-([0-9a-f]+)-[a-z0-9]+$/;

/** A namespace without a marker younger than this may be in creation by another run; leave it alone. */
const UNMARKED_GRACE_MS = 15_000;

const SETUP_STEP_TIMEOUT_MS = 15_000;

/** Tracked long-running service. */
interface Daemon {
  readonly name: string;
  readonly ns: string;
  readonly child: ChildProcess;
  output: string;
  exited: boolean;
}

/** State of one lab shared by the async and the sync (exit-handler) teardown. */
interface LabState {
  readonly id: string;
  readonly namespaces: string[];
  readonly daemons: Daemon[];
  readonly dir: string;
  destroyed: boolean;
}

const liveLabs = new Set<LabState>();
let handlersInstalled = false;

function tool(name: string): string {
  return findExecutable(name) ?? name;
}

/**
 * Builds a fresh lab: namespaces, veth links, addresses, sysctls, iptables rules
 * and services, then waits (bounded) until every service listens and both targets
 * answer from the scanner namespace. If anything fails halfway, everything
 * created so far is torn down before the error is rethrown.
 *
 * @example
 * ```ts
 * const lab = await createLab({ loss: 0.1 });
 * try {
 *   const r = await lab.spawnInScanner(['nmap', '-n', '-sS', '-p', '22', lab.t1.ipv4[0]]);
 * } finally {
 *   await lab.destroy();
 * }
 * ```
 */
export async function createLab(opts: LabOptions = {}): Promise<Lab> {
  const support = labSupport();
  if (!support.ok) throw new Error(`the namespace lab cannot be built here: ${support.reason}`);
  const loss = opts.loss ?? 0.1;
  if (!(loss >= 0 && loss < 1)) throw new RangeError(`loss must be in [0, 1), got ${loss}`);

  await removeStaleNamespaces();
  const id = await freshId();
  writeMarker(id);
  const state: LabState = { id, namespaces: [], daemons: [], dir: mkdtempSync(join(tmpdir(), `ps-${id}-`)), destroyed: false };
  liveLabs.add(state);
  installExitHandlers();

  const ns = { scan: `ps-${id}-scan`, t1: `ps-${id}-t1`, t2: `ps-${id}-t2` } as const;
  const resolveNs = (name: string): string => (name === 'scan' || name === 't1' || name === 't2' ? ns[name] : name);
  const exec = (name: string, argv: readonly string[], o: LabExecOptions = {}): Promise<ExecResult> =>
    runBounded([tool('ip'), 'netns', 'exec', resolveNs(name), ...argv], { timeoutMs: o.timeoutMs ?? LAB_EXEC_TIMEOUT_MS, ...pickExec(o) });

  try {
    await buildTopology(state, ns);
    await configureFirewalls(ns, loss);
    await startServices(state, ns);
    await waitUntilReady(state, ns);
  } catch (e) {
    await destroyState(state);
    throw e;
  }

  const lab: Lab = {
    id,
    scanner: { ns: ns.scan, ipv4: [...SCANNER_ADDRESSES.ipv4], ipv6: [...SCANNER_ADDRESSES.ipv6] },
    t1: { ns: ns.t1, ipv4: [...T1_ADDRESSES.ipv4], ipv6: [...T1_ADDRESSES.ipv6], extraIpv4: [...T1_ADDRESSES.extraIpv4] },
    t2: { ns: ns.t2, ipv4: [...T2_ADDRESSES.ipv4], ipv6: [...T2_ADDRESSES.ipv6], loss },
    sweep: { cidr: SWEEP_CIDR, live: [...T1_ADDRESSES.ipv4, ...T1_ADDRESSES.extraIpv4], scannerOwn: SCANNER_ADDRESSES.ipv4[0] },
    groundTruth: buildGroundTruth({ loss }),
    dir: state.dir,
    exec,
    spawnInScanner: (argv, o) => exec(ns.scan, argv, o),
    destroy: () => destroyState(state),
  };
  return lab;
}

function pickExec(o: LabExecOptions): { input?: string; env?: Readonly<Record<string, string>>; cwd?: string } {
  const r: { input?: string; env?: Readonly<Record<string, string>>; cwd?: string } = {};
  if (o.input !== undefined) r.input = o.input;
  if (o.env !== undefined) r.env = o.env;
  if (o.cwd !== undefined) r.cwd = o.cwd;
  return r;
}

// ---------------------------------------------------------------------------
// Topology

type Names = { readonly scan: string; readonly t1: string; readonly t2: string };

async function ip(args: readonly string[]): Promise<void> {
  await runChecked([tool('ip'), ...args], { timeoutMs: SETUP_STEP_TIMEOUT_MS });
}

async function inNs(ns: string, argv: readonly string[]): Promise<ExecResult> {
  return runChecked([tool('ip'), 'netns', 'exec', ns, ...argv], { timeoutMs: SETUP_STEP_TIMEOUT_MS });
}

async function buildTopology(state: LabState, ns: Names): Promise<void> {
  for (const name of [ns.scan, ns.t1, ns.t2]) {
    await ip(['netns', 'add', name]);
    state.namespaces.push(name);
    // No duplicate address detection on links created from now on: IPv6 addresses are usable at once.
    await inNs(name, [tool('sysctl'), '-q', '-w', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.accept_dad=0']);
  }
  // The veth ends are created directly inside their namespaces; names are per namespace.
  await ip(['link', 'add', 'to-t1', 'netns', ns.scan, 'type', 'veth', 'peer', 'name', 'to-scan', 'netns', ns.t1]);
  await ip(['link', 'add', 'to-t2', 'netns', ns.scan, 'type', 'veth', 'peer', 'name', 'to-scan', 'netns', ns.t2]);

  const v4 = PREFIX_LENGTH.ipv4;
  const v6 = PREFIX_LENGTH.ipv6;
  const batch = (name: string, lines: string[]): Promise<ExecResult> =>
    runChecked([tool('ip'), '-n', name, '-batch', '-'], { timeoutMs: SETUP_STEP_TIMEOUT_MS, input: lines.join('\n') + '\n' });

  await batch(ns.scan, [
    'link set lo up',
    `addr add ${SCANNER_ADDRESSES.ipv4[0]}/${v4} dev to-t1`,
    `addr add ${SCANNER_ADDRESSES.ipv6[0]}/${v6} dev to-t1 nodad`,
    `addr add ${SCANNER_ADDRESSES.ipv4[1]}/${v4} dev to-t2`,
    `addr add ${SCANNER_ADDRESSES.ipv6[1]}/${v6} dev to-t2 nodad`,
    'link set to-t1 up',
    'link set to-t2 up',
  ]);
  await batch(ns.t1, [
    'link set lo up',
    `addr add ${T1_ADDRESSES.ipv4[0]}/${v4} dev to-scan`,
    ...T1_ADDRESSES.extraIpv4.map((a) => `addr add ${a}/${v4} dev to-scan`),
    `addr add ${T1_ADDRESSES.ipv6[0]}/${v6} dev to-scan nodad`,
    'link set to-scan up',
    // Replies to the scanner leave through the link; t1 needs no default route either.
  ]);
  await batch(ns.t2, [
    'link set lo up',
    `addr add ${T2_ADDRESSES.ipv4[0]}/${v4} dev to-scan`,
    `addr add ${T2_ADDRESSES.ipv6[0]}/${v6} dev to-scan nodad`,
    'link set to-scan up',
  ]);

  // t1 answers every probe: no ICMP rate limit, so closed UDP ports answer deterministically.
  await inNs(ns.t1, [
    tool('sysctl'), '-q', '-w',
    'net.ipv4.icmp_ratelimit=0',
    'net.ipv4.icmp_msgs_per_sec=100000',
    'net.ipv4.icmp_msgs_burst=100000',
    'net.ipv6.icmp.ratelimit=0',
  ]);
  // t2 keeps Linux's default ICMP rate limits on purpose.

  await assertNoDefaultRoute(ns.scan);
}

/**
 * Throws unless the namespace has no IPv4 and no IPv6 default route.
 *
 * @example
 * ```ts
 * await assertNoDefaultRoute(lab.scanner.ns);
 * ```
 */
export async function assertNoDefaultRoute(ns: string): Promise<void> {
  for (const family of ['-4', '-6']) {
    const r = await runChecked([tool('ip'), '-n', ns, family, 'route', 'show', 'default'], { timeoutMs: SETUP_STEP_TIMEOUT_MS });
    if (r.stdout.trim() !== '') throw new Error(`namespace ${ns} has a default route (${family}): ${r.stdout.trim()}`);
  }
}

// ---------------------------------------------------------------------------
// Firewalls

async function rules(ns: string, binary: 'iptables' | 'ip6tables', list: readonly string[][]): Promise<void> {
  for (const rule of list) await inNs(ns, [tool(binary), '-w', '5', ...rule]);
}

async function configureFirewalls(ns: Names, loss: number): Promise<void> {
  const t1Common = (reject: { admin: string; host: string }): string[][] => [
    ['-A', 'INPUT', '-p', 'tcp', '--dport', '8081', '-j', 'DROP'],
    ['-A', 'INPUT', '-p', 'tcp', '--dport', '8082', '-j', 'REJECT', '--reject-with', reject.admin],
    ['-A', 'INPUT', '-p', 'tcp', '--dport', '8084', '-j', 'REJECT', '--reject-with', 'tcp-reset'],
    ['-A', 'INPUT', '-p', 'tcp', '--dport', '8085', '-j', 'REJECT', '--reject-with', reject.host],
    ['-A', 'INPUT', '-p', 'udp', '--dport', '161', '-j', 'REJECT', '--reject-with', reject.admin],
    ['-A', 'INPUT', '-p', 'udp', '--dport', '162', '-j', 'DROP'],
  ];
  await rules(ns.t1, 'iptables', t1Common({ admin: 'icmp-admin-prohibited', host: 'icmp-host-unreachable' }));
  await rules(ns.t1, 'ip6tables', t1Common({ admin: 'icmp6-adm-prohibited', host: 'icmp6-addr-unreachable' }));

  const p = String(loss);
  const lossRules: string[][] =
    loss > 0
      ? [
          ['-A', 'INPUT', '-m', 'statistic', '--mode', 'random', '--probability', p, '-j', 'DROP'],
          ['-A', 'OUTPUT', '-m', 'statistic', '--mode', 'random', '--probability', p, '-j', 'DROP'],
        ]
      : [];
  const loopback: string[][] = [
    ['-A', 'INPUT', '-i', 'lo', '-j', 'ACCEPT'],
    ['-A', 'OUTPUT', '-o', 'lo', '-j', 'ACCEPT'],
  ];
  await rules(ns.t2, 'iptables', [
    ...loopback,
    ['-A', 'INPUT', '-p', 'icmp', '--icmp-type', 'echo-request', '-j', 'DROP'],
    ...lossRules,
  ]);
  // Neighbour discovery is exempt from the loss, like ARP (which iptables never sees).
  const ndp = ['router-solicitation', 'router-advertisement', 'neighbour-solicitation', 'neighbour-advertisement'];
  await rules(ns.t2, 'ip6tables', [
    ...loopback,
    ['-A', 'INPUT', '-p', 'ipv6-icmp', '--icmpv6-type', 'echo-request', '-j', 'DROP'],
    ...ndp.flatMap((t) => [
      ['-A', 'INPUT', '-p', 'ipv6-icmp', '--icmpv6-type', t, '-j', 'ACCEPT'],
      ['-A', 'OUTPUT', '-p', 'ipv6-icmp', '--icmpv6-type', t, '-j', 'ACCEPT'],
    ]),
    ...lossRules,
  ]);
}

// ---------------------------------------------------------------------------
// Services

function startDaemon(state: LabState, name: string, ns: string, argv: readonly string[]): Daemon {
  const child = spawn(tool('ip'), ['netns', 'exec', ns, ...argv], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const daemon: Daemon = { name, ns, child, output: '', exited: false };
  const keep = (chunk: Buffer): void => {
    daemon.output = (daemon.output + chunk.toString('utf8')).slice(-4096);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.once('exit', (code, signal) => {
    daemon.exited = true;
    daemon.output += `\n[exited: ${code ?? signal}]`;
  });
  child.once('error', (e) => {
    daemon.exited = true;
    daemon.output += `\n[spawn error: ${e.message}]`;
  });
  state.daemons.push(daemon);
  return daemon;
}

function writeScript(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** Quotes `s` as one single-quoted POSIX shell word. */
function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A banner script: sends `banner` (with real CR LF), then reads until the client closes. */
function bannerScript(dir: string, name: string, banner: string): string {
  const printfFormat = banner.replace(/\\/g, '\\\\').replace(/%/g, '%%').replace(/\r/g, '\\r').replace(/\n/g, '\\n');
  return writeScript(dir, name, `printf ${shQuote(printfFormat)}\nexec cat >/dev/null`);
}

function nginxConfig(dir: string, ports: readonly number[]): string {
  const listen = ports.flatMap((p) => [`    listen ${p};`, `    listen [::]:${p} ipv6only=on;`]).join('\n');
  return writeNginxConfig(dir, `${listen}\n    server_name ${LAB_DNS_NAME};\n    location / { return 200 "portscout lab\\n"; }`);
}

/**
 * Writes an nginx configuration for a lab namespace into `dir` (one worker,
 * in the foreground, every temporary path inside `dir`) with one server of
 * the given directives; returns its path.
 */
export function writeNginxConfig(dir: string, server: string): string {
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
master_process on;
worker_processes 1;
user root;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  default_type text/plain;
  server {
${server}
  }
}
`,
  );
  return conf;
}

async function startServices(state: LabState, ns: Names): Promise<void> {
  const d1 = join(state.dir, 't1');
  const d2 = join(state.dir, 't2');
  mkdirSync(d1, { recursive: true });
  mkdirSync(d2, { recursive: true });

  // nginx: HTTP on 80 and 443 in t1, on 80 in t2 (IPv4 and IPv6).
  startDaemon(state, 'nginx t1', ns.t1, [tool('nginx'), '-p', d1, '-e', join(d1, 'nginx-error.log'), '-c', nginxConfig(d1, [80, 443])]);
  startDaemon(state, 'nginx t2', ns.t2, [tool('nginx'), '-p', d2, '-e', join(d2, 'nginx-error.log'), '-c', nginxConfig(d2, [80])]);

  // sshd on 22 in t1 with its own host key and configuration.
  const hostKey = join(d1, 'ssh_host_ed25519_key');
  await runChecked([tool('ssh-keygen'), '-q', '-t', 'ed25519', '-N', '', '-C', 'portscout-lab', '-f', hostKey], { timeoutMs: SETUP_STEP_TIMEOUT_MS });
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const sshdConfig = join(d1, 'sshd_config');
  writeFileSync(
    sshdConfig,
    [
      'Port 22',
      'ListenAddress 0.0.0.0',
      'ListenAddress ::',
      `HostKey ${hostKey}`,
      `PidFile ${join(d1, 'sshd.pid')}`,
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin no',
      'AuthorizedKeysFile none',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  startDaemon(state, 'sshd t1', ns.t1, [tool('sshd'), '-D', '-e', '-f', sshdConfig]);

  // dnsmasq: DNS on UDP and TCP 53 in t1, answering lab.test.
  startDaemon(state, 'dnsmasq t1', ns.t1, [
    tool('dnsmasq'),
    '--keep-in-foreground',
    '--conf-file=/dev/null',
    '--no-resolv',
    '--no-hosts',
    '--no-poll',
    '--bind-interfaces',
    '--except-interface=lo',
    `--listen-address=${T1_ADDRESSES.ipv4[0]}`,
    `--listen-address=${T1_ADDRESSES.ipv6[0]}`,
    '--port=53',
    '--user=root',
    '--group=root',
    `--pid-file=${join(d1, 'dnsmasq.pid')}`,
    `--host-record=${LAB_DNS_NAME},${T1_ADDRESSES.ipv4[0]},${T1_ADDRESSES.ipv6[0]}`,
    '--log-facility=-',
  ]);

  // socat: banner listeners (dual stack), and a UDP service answering any datagram.
  const socat = tool('socat');
  const tcpListen = (port: number): string => `TCP6-LISTEN:${port},reuseaddr,fork,ipv6only=0,backlog=128`;
  startDaemon(state, 'socat t1 2121', ns.t1, [socat, tcpListen(2121), `EXEC:${bannerScript(d1, 'banner-2121.sh', BANNERS.ftp2121)}`]);
  startDaemon(state, 'socat t1 2525', ns.t1, [socat, tcpListen(2525), `EXEC:${bannerScript(d1, 'banner-2525.sh', BANNERS.smtp2525)}`]);
  // UDP 7777 answers every datagram, even an empty one. Not socat: its UDP-RECVFROM,fork children
  // share the listening socket and swallow datagrams that arrive while one of them lingers.
  const responder = join(d1, 'udp-responder.cjs');
  writeFileSync(
    responder,
    `const s = require('node:dgram').createSocket({ type: 'udp6', ipv6Only: false });
s.on('message', (_m, r) => s.send(${JSON.stringify(UDP_7777_REPLY)}, r.port, r.address));
s.bind(7777, '::');
`,
  );
  startDaemon(state, 'udp responder t1 7777', ns.t1, [process.execPath, responder]);

  startDaemon(state, 'socat t2 22', ns.t2, [socat, tcpListen(22), `EXEC:${bannerScript(d2, 'banner-22.sh', BANNERS.ssh22t2)}`]);
  startDaemon(state, 'socat t2 443', ns.t2, [socat, tcpListen(443), `EXEC:${writeScript(d2, 'sink.sh', 'exec cat >/dev/null')}`]);
}

/** Listening sockets (`tcp:22`, `udp:53`, ...) in a namespace, from `ss`. */
async function listening(ns: string): Promise<Set<string>> {
  const r = await inNs(ns, [tool('ss'), '-H', '-l', '-n', '-t', '-u']);
  const set = new Set<string>();
  for (const line of r.stdout.split('\n')) {
    const cols = line.trim().split(/\s+/);
    const proto = cols[0];
    const local = cols[4];
    if (proto === undefined || local === undefined) continue;
    const port = local.slice(local.lastIndexOf(':') + 1);
    set.add(`${proto}:${port}`);
  }
  return set;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitUntilReady(state: LabState, ns: Names): Promise<void> {
  const want: Record<string, readonly string[]> = {
    [ns.t1]: ['tcp:22', 'tcp:53', 'tcp:80', 'tcp:443', 'tcp:2121', 'tcp:2525', 'udp:53', 'udp:7777'],
    [ns.t2]: ['tcp:22', 'tcp:80', 'tcp:443'],
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    const dead = state.daemons.filter((d) => d.exited);
    if (dead.length > 0) throw new Error(`lab services exited during start-up:\n${dead.map((d) => `${d.name}: ${d.output.trim()}`).join('\n')}`);
    const missing: string[] = [];
    for (const [name, sockets] of Object.entries(want)) {
      const have = await listening(name);
      for (const s of sockets) if (!have.has(s)) missing.push(`${name} ${s}`);
    }
    if (missing.length === 0) break;
    if (Date.now() > deadline) {
      const logs = state.daemons.map((d) => `${d.name}: ${d.output.trim() || '(no output)'}`).join('\n');
      throw new Error(`lab services not listening after 15 s: ${missing.join(', ')}\n${logs}`);
    }
    await sleep(100);
  }

  // Addresses must not be tentative (DAD is off, but check), then the scanner must reach each target.
  for (const name of [ns.scan, ns.t1, ns.t2]) {
    const r = await inNs(name, [tool('ip'), '-6', 'addr', 'show', 'tentative']);
    if (r.stdout.trim() !== '') throw new Error(`tentative IPv6 addresses in ${name}:\n${r.stdout}`);
  }
  const checks: { target: string; address: string }[] = [
    { target: `${T1_ADDRESSES.ipv4[0]}:80`, address: `TCP4:${T1_ADDRESSES.ipv4[0]}:80` },
    { target: `[${T1_ADDRESSES.ipv6[0]}]:80`, address: `TCP6:[${T1_ADDRESSES.ipv6[0]}]:80` },
    { target: `${T2_ADDRESSES.ipv4[0]}:80`, address: `TCP4:${T2_ADDRESSES.ipv4[0]}:80` },
    { target: `[${T2_ADDRESSES.ipv6[0]}]:80`, address: `TCP6:[${T2_ADDRESSES.ipv6[0]}]:80` },
  ];
  for (const c of checks) {
    let last: ExecResult | undefined;
    // t2 loses packets at random: retry a bounded number of times.
    for (let attempt = 0; attempt < 15; attempt++) {
      last = await runBounded([tool('ip'), 'netns', 'exec', ns.scan, tool('socat'), '-u', 'OPEN:/dev/null', `${c.address},connect-timeout=1`], {
        timeoutMs: 5_000,
      });
      if (last.code === 0) break;
    }
    if (last?.code !== 0) throw new Error(`scanner namespace cannot reach ${c.target}: ${last?.stderr.trim() ?? ''}`);
  }
}

// ---------------------------------------------------------------------------
// Teardown

async function namespacePids(ns: string): Promise<number[]> {
  const r = await runBounded([tool('ip'), 'netns', 'pids', ns], { timeoutMs: 5_000 });
  return parsePids(r.stdout);
}

function parsePids(text: string): number[] {
  return text
    .split(/\s+/)
    .filter((s) => /^\d+$/.test(s))
    .map(Number)
    .filter((p) => p !== process.pid);
}

async function destroyState(state: LabState): Promise<void> {
  if (state.destroyed) return;
  state.destroyed = true;
  for (const d of state.daemons) if (!d.exited) killGroup(d.child.pid, 'SIGTERM');
  const deadline = Date.now() + 2_000;
  while (state.daemons.some((d) => !d.exited) && Date.now() < deadline) await sleep(50);
  for (const d of state.daemons) if (!d.exited) killGroup(d.child.pid, 'SIGKILL');
  // Anything else still inside the lab's namespaces (forked children, commands left running).
  for (const name of state.namespaces) {
    for (let round = 0; round < 20; round++) {
      const pids = await namespacePids(name);
      if (pids.length === 0) break;
      for (const pid of pids) killPid(pid);
      await sleep(50);
    }
  }
  for (const name of [...state.namespaces].reverse()) {
    await runBounded([tool('ip'), 'netns', 'del', name], { timeoutMs: 10_000 });
  }
  for (const d of state.daemons) {
    d.child.stdout?.destroy();
    d.child.stderr?.destroy();
  }
  rmSync(state.dir, { recursive: true, force: true });
  removeMarker(state.id);
  liveLabs.delete(state);
}

function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

/** Synchronous teardown for 'exit' and signal handlers (no event loop left). */
function destroyStateSync(state: LabState): void {
  if (state.destroyed) return;
  state.destroyed = true;
  for (const d of state.daemons) killGroup(d.child.pid, 'SIGKILL');
  const ipBin = tool('ip');
  for (const name of state.namespaces) {
    try {
      const out = execFileSync(ipBin, ['netns', 'pids', name], { timeout: 5_000, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
      for (const pid of parsePids(out)) killPid(pid);
    } catch {
      /* namespace already gone */
    }
  }
  for (const name of [...state.namespaces].reverse()) {
    try {
      execFileSync(ipBin, ['netns', 'del', name], { timeout: 5_000, stdio: 'ignore' });
    } catch {
      /* already gone */
    }
  }
  rmSync(state.dir, { recursive: true, force: true });
  removeMarker(state.id);
  liveLabs.delete(state);
}

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.once('exit', () => {
    for (const s of [...liveLabs]) destroyStateSync(s);
  });
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.once(signal, () => {
      for (const s of [...liveLabs]) destroyStateSync(s);
      process.exit(code);
    });
  }
}

// ---------------------------------------------------------------------------
// Run markers and stale namespaces

interface Marker {
  readonly pid: number;
  readonly startTime: string;
}

function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime), counted after the parenthesised command name.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19];
  } catch {
    return undefined;
  }
}

function writeMarker(id: string): void {
  mkdirSync(LAB_MARKER_DIR, { recursive: true });
  const marker: Marker = { pid: process.pid, startTime: processStartTime(process.pid) ?? '' };
  writeFileSync(join(LAB_MARKER_DIR, `${id}.json`), JSON.stringify(marker));
}

function removeMarker(id: string): void {
  rmSync(join(LAB_MARKER_DIR, `${id}.json`), { force: true });
}

/** `true` when the run that owns lab `id` is still alive (or may be in creation). */
function runIsAlive(id: string, nsName: string): boolean {
  let marker: Marker;
  try {
    marker = JSON.parse(readFileSync(join(LAB_MARKER_DIR, `${id}.json`), 'utf8')) as Marker;
  } catch {
    try {
      return Date.now() - statSync(`/run/netns/${nsName}`).mtimeMs < UNMARKED_GRACE_MS;
    } catch {
      return false;
    }
  }
  const start = processStartTime(marker.pid);
  return start !== undefined && start === marker.startTime;
}

async function labNamespaces(): Promise<string[]> {
  const r = await runChecked([tool('ip'), 'netns', 'list'], { timeoutMs: 5_000 });
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => LAB_NS_PATTERN.test(n));
}

/**
 * Deletes `ps-*` namespaces (and kills their processes) left behind by lab runs
 * whose process is gone. Namespaces of live runs are left alone. Returns the
 * names it removed.
 *
 * @example
 * ```ts
 * const removed = await removeStaleNamespaces();
 * ```
 */
export async function removeStaleNamespaces(): Promise<string[]> {
  const removed: string[] = [];
  const mine = new Set([...liveLabs].map((s) => s.id));
  // Decide per run id first (deleting a marker must not change the verdict for its other namespaces).
  const byId = new Map<string, string[]>();
  for (const name of await labNamespaces()) {
    const id = LAB_NS_PATTERN.exec(name)?.[1];
    if (id === undefined || mine.has(id)) continue;
    byId.set(id, [...(byId.get(id) ?? []), name]);
  }
  const stale = [...byId].filter(([id, names]) => !names.some((n) => runIsAlive(id, n)));
  for (const [id, names] of stale) {
    for (const name of names) {
      for (let round = 0; round < 20; round++) {
        const pids = await namespacePids(name);
        if (pids.length === 0) break;
        for (const pid of pids) killPid(pid);
        await sleep(50);
      }
      await runBounded([tool('ip'), 'netns', 'del', name], { timeoutMs: 10_000 });
      removed.push(name);
    }
    removeRunFiles(id);
  }
  // Markers of dead runs whose namespaces are already gone.
  try {
    for (const file of readdirSync(LAB_MARKER_DIR)) {
      const id = /^([0-9a-f]+)\.json$/.exec(file)?.[1];
      if (id !== undefined && !mine.has(id) && !byId.has(id) && !runIsAlive(id, '')) removeRunFiles(id);
    }
  } catch {
    /* no marker directory yet */
  }
  return removed;
}

/** Removes the marker and the temporary directories of a dead run. */
function removeRunFiles(id: string): void {
  removeMarker(id);
  try {
    for (const entry of readdirSync(tmpdir())) {
      if (entry.startsWith(`ps-${id}-`)) rmSync(join(tmpdir(), entry), { recursive: true, force: true });
    }
  } catch {
    /* tmpdir unreadable: nothing to do */
  }
}

async function freshId(): Promise<string> {
  const taken = new Set((await labNamespaces()).map((n) => LAB_NS_PATTERN.exec(n)?.[1]));
  for (;;) {
    const id = randomBytes(2).toString('hex');
    if (!taken.has(id) && ![...liveLabs].some((s) => s.id === id) && !existsSync(join(LAB_MARKER_DIR, `${id}.json`))) return id;
  }
}

/**
 * Names of the lab namespaces (`ps-*`) that currently exist.
 *
 * @example
 * ```ts
 * expect(await listLabNamespaces()).not.toContain(lab.scanner.ns);
 * ```
 */
export async function listLabNamespaces(): Promise<string[]> {
  return labNamespaces();
}
