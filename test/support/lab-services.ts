/**
 * Real servers from Debian packages, started inside a lab's t1 namespace for
 * service detection (issue 9's "agreement with nmap on real services" and
 * bench/service): vsftpd on 21, Postfix's smtpd on 25, MariaDB on 3306 and
 * an nginx with TLS on 8443. The lab itself already runs sshd on 22,
 * dnsmasq on TCP and UDP 53 and nginx (plain HTTP) on 80 and 443.
 *
 * Every server gets its own configuration, pid file, sockets and data in a
 * temporary directory; nothing runs in the root namespace, and
 * {@link LabServices.stop} kills them all (the lab's destroy() kills
 * anything left in its namespaces).
 *
 * ```ts
 * const lab = await createLab({ loss: 0 });
 * const services = await startLabServices(lab);
 * try { ... } finally { await services.stop(); await lab.destroy(); }
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, chownSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable, killGroup, runBounded, runChecked } from '../lab/exec.js';
import { writeNginxConfig, type Lab } from '../lab/lab.js';
import { LAB_DNS_NAME } from '../lab/topology.js';

/** Where Debian's packages put the programs (Postfix's master is not on any PATH). */
const PROGRAMS = {
  vsftpd: '/usr/sbin/vsftpd',
  postfixMaster: '/usr/lib/postfix/sbin/master',
  mariadbd: '/usr/sbin/mariadbd',
  mariadbInstallDb: '/usr/bin/mariadb-install-db',
  nginx: '/usr/sbin/nginx',
  openssl: '/usr/bin/openssl',
  dpkgQuery: '/usr/bin/dpkg-query',
} as const;

/** nmap's probe file (nmap-common), read at run time by the tests, never copied. */
const NMAP_PROBE_FILE = '/usr/share/nmap/nmap-service-probes';

/**
 * The Debian packages behind the lab's services; their installed versions are the ground truth.
 *
 * @example
 * ```ts
 * services.installed['vsftpd']; // '3.0.3-13+b2'
 * ```
 */
export const SERVICE_PACKAGES = ['openssh-server', 'nginx-light', 'dnsmasq-base', 'vsftpd', 'postfix', 'mariadb-server', 'nmap'] as const;

/**
 * Port of the nginx instance with TLS (443 in the lab is nginx speaking plain HTTP).
 *
 * @example
 * ```ts
 * HTTPS_PORT; // 8443
 * ```
 */
export const HTTPS_PORT = 8443;

/**
 * The TCP ports with a real server on t1 (the lab's and these).
 *
 * @example
 * ```ts
 * SERVICE_TCP_PORTS.join(','); // '21,22,25,53,80,443,3306,8443'
 * ```
 */
export const SERVICE_TCP_PORTS = [21, 22, 25, 53, 80, 443, 3306, HTTPS_PORT] as const;

/**
 * The UDP ports with a real server on t1 (dnsmasq).
 *
 * @example
 * ```ts
 * SERVICE_UDP_PORTS; // [53]
 * ```
 */
export const SERVICE_UDP_PORTS = [53] as const;

/**
 * A running set of services.
 *
 * @example
 * ```ts
 * const services: LabServices = await startLabServices(lab);
 * ```
 */
export interface LabServices {
  readonly tcpPorts: readonly number[];
  readonly udpPorts: readonly number[];
  /** `dpkg-query -W` versions of {@link SERVICE_PACKAGES} (`''` when one is not installed). */
  readonly installed: Readonly<Record<string, string>>;
  /** Directory of the servers' configuration, data, sockets and logs (removed by stop()). */
  readonly dir: string;
  /** Milliseconds the start-up took (configuration, MariaDB's data directory, waiting until they listen). */
  readonly startMs: number;
  /** Kills every server started here and removes their directory. Idempotent. */
  stop(): Promise<void>;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Why these servers cannot run here (a program or nmap's probe file missing),
 * or undefined when they can. The lab's own needs are `labSupport()`'s.
 *
 * @example
 * ```ts
 * const why = servicesUnavailable(); if (why) console.log(why);
 * ```
 */
export function servicesUnavailable(): string | undefined {
  const missing: string[] = Object.values(PROGRAMS).filter((p) => !isExecutable(p));
  if (!existsSync(NMAP_PROBE_FILE)) missing.push(NMAP_PROBE_FILE);
  if (missing.length > 0) return `missing: ${missing.join(', ')} (apt-get install vsftpd postfix mariadb-server openssl nmap)`;
  return undefined;
}

/**
 * The skip/fail policy of lab tests (`skipLab`, which checks the lab itself)
 * for tests that also need these servers: skipped with one `[lab] SKIPPED`
 * line when one is missing, but never under CI (`CI` set), where the test
 * runs and fails with the reason.
 *
 * @example
 * ```ts
 * describe.skipIf(skipLab('service agreement') || skipLabServices('service agreement'))('...', () => {});
 * ```
 */
export function skipLabServices(what: string): boolean {
  const why = servicesUnavailable();
  if (why === undefined) return false;
  if (process.env.CI) {
    console.error(`[lab] ${what}: lab services unavailable under CI, failing instead of skipping: ${why}`);
    return false;
  }
  console.log(`[lab] SKIPPED ${what}: ${why}`);
  return true;
}

/**
 * Installed versions of Debian packages (`dpkg-query -W`), `''` for one that is not installed.
 *
 * @example
 * ```ts
 * (await installedVersions(['vsftpd'])).vsftpd; // '3.0.3-13+b2'
 * ```
 */
export async function installedVersions(packages: readonly string[]): Promise<Record<string, string>> {
  const r = await runBounded([PROGRAMS.dpkgQuery, '-W', '-f', '${Package}\t${Version}\n', ...packages], { timeoutMs: 10_000 });
  const out: Record<string, string> = Object.fromEntries(packages.map((p) => [p, '']));
  for (const line of r.stdout.split('\n')) {
    const [name, version] = line.split('\t');
    if (name !== undefined && version !== undefined && name in out) out[name] = version;
  }
  return out;
}

/** A server started by {@link startDaemon} (exported for test/support/lab-extra-services.ts). */
export interface Daemon {
  readonly name: string;
  readonly child: ChildProcess;
  output: string;
  exited: boolean;
}

/** Starts `argv` in namespace `ns` (own process group, output kept), recorded in `daemons`. */
export function startDaemon(ns: string, name: string, argv: readonly string[], daemons: Daemon[]): Daemon {
  const child = spawn(findExecutable('ip') ?? 'ip', ['netns', 'exec', ns, ...argv], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const daemon: Daemon = { name, child, output: '', exited: false };
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
  daemons.push(daemon);
  return daemon;
}

/** Waits `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The TCP ports listening in a namespace. */
export async function listeningTcp(lab: Lab, role: 't1'): Promise<Set<number>> {
  const r = await lab.exec(role, ['ss', '-H', '-l', '-n', '-t'], { timeoutMs: 5_000 });
  const ports = new Set<number>();
  for (const line of r.stdout.split('\n')) {
    const local = line.trim().split(/\s+/)[3];
    if (local !== undefined) ports.add(Number(local.slice(local.lastIndexOf(':') + 1)));
  }
  return ports;
}

function vsftpdConfig(dir: string, address: string): string {
  const empty = join(dir, 'empty');
  mkdirSync(empty, { recursive: true, mode: 0o755 });
  const conf = join(dir, 'vsftpd.conf');
  writeFileSync(
    conf,
    [
      'listen=YES',
      'listen_ipv6=NO',
      `listen_address=${address}`,
      'listen_port=21',
      'background=NO',
      'anonymous_enable=NO',
      'local_enable=YES', // Debian's default (vsftpd refuses to run with no kind of login allowed)
      'write_enable=NO',
      'xferlog_enable=NO',
      `vsftpd_log_file=${join(dir, 'vsftpd.log')}`,
      `secure_chroot_dir=${empty}`,
      'pam_service_name=vsftpd',
      // Debian's defaults otherwise: the greeting is the stock "220 (vsFTPd x.y.z)".
      '',
    ].join('\n'),
  );
  return conf;
}

/** The numeric id of a user (`/etc/passwd`) or group (`/etc/group`). */
function systemId(file: string, name: string): number {
  const line = readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  const id = Number(line?.split(':')[2]);
  if (!Number.isInteger(id)) throw new Error(`no ${name} in ${file} (is postfix installed?)`);
  return id;
}

function postfixConfig(dir: string, address: string): string {
  const conf = join(dir, 'postfix');
  mkdirSync(conf, { recursive: true });
  // The queue's layout as Postfix's post-install makes it: the master's pid file, and the
  // sockets of its services in private/ (the mail owner's) and public/ (postdrop's).
  const queue = join(dir, 'postfix-queue');
  const owner = systemId('/etc/passwd', 'postfix');
  const postdrop = systemId('/etc/group', 'postdrop');
  mkdirSync(join(queue, 'pid'), { recursive: true, mode: 0o755 });
  mkdirSync(join(queue, 'private'), { mode: 0o700 });
  mkdirSync(join(queue, 'public'), { mode: 0o710 });
  chownSync(join(queue, 'private'), owner, -1);
  chownSync(join(queue, 'public'), owner, postdrop);
  mkdirSync(join(dir, 'postfix-data'), { mode: 0o700 });
  chownSync(join(dir, 'postfix-data'), owner, -1);
  writeFileSync(
    join(conf, 'main.cf'),
    [
      'compatibility_level = 3.6',
      `queue_directory = ${join(dir, 'postfix-queue')}`,
      `data_directory = ${join(dir, 'postfix-data')}`,
      `myhostname = ${LAB_DNS_NAME}`,
      'mydomain = test',
      'mydestination =',
      'relayhost =',
      `inet_interfaces = ${address}`,
      'inet_protocols = ipv4',
      // Debian's main.cf banner (the compiled default lacks "(Debian/GNU)").
      'smtpd_banner = $myhostname ESMTP $mail_name (Debian/GNU)',
      'smtpd_peername_lookup = no',
      'smtpd_tls_security_level = none',
      'smtpd_client_connection_count_limit = 0',
      'smtpd_client_connection_rate_limit = 0',
      'biff = no',
      'alias_maps =',
      'alias_database =',
      '',
    ].join('\n'),
  );
  // Only what a greeting and the first commands need; no chroot (the queue is in a temp dir).
  writeFileSync(
    join(conf, 'master.cf'),
    [
      'smtp      inet  n       -       n       -       -       smtpd',
      'anvil     unix  -       -       n       -       1       anvil',
      'rewrite   unix  -       -       n       -       -       trivial-rewrite',
      'proxymap  unix  -       -       n       -       -       proxymap',
      'cleanup   unix  n       -       n       -       0       cleanup',
      '',
    ].join('\n'),
  );
  return conf;
}

function nginxTlsConfig(dir: string, port: number, cert: string, key: string): string {
  return writeNginxConfig(
    dir,
    [`    listen ${port} ssl;`, `    server_name ${LAB_DNS_NAME};`, `    ssl_certificate ${cert};`, `    ssl_certificate_key ${key};`, '    location / { return 200 "portscout lab over TLS\\n"; }'].join('\n'),
  );
}

/**
 * A directory for daemons in t1 (servers that drop privileges, such as
 * Postfix's smtpd and vsftpd's children, still traverse into it), the list
 * of daemons started, t1's address and namespace, and the stop that kills
 * them and removes the directory (once).
 */
export function daemonWorkspace(lab: Lab, label: string): { dir: string; daemons: Daemon[]; address: string; ns: string; stop: () => Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), `ps-${lab.id}-${label}-`));
  chmodSync(dir, 0o711);
  const daemons: Daemon[] = [];
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await stopDaemons(daemons, dir);
  };
  return { dir, daemons, address: lab.t1.ipv4[0] as string, ns: lab.t1.ns, stop };
}

/** Stops daemons (TERM, then KILL after 3 s, by process group) and removes their directory. */
export async function stopDaemons(daemons: readonly Daemon[], dir: string): Promise<void> {
    for (const d of daemons) if (!d.exited) killGroup(d.child.pid, 'SIGTERM');
    const deadline = Date.now() + 3_000;
    while (daemons.some((d) => !d.exited) && Date.now() < deadline) await sleep(50);
    for (const d of daemons) if (!d.exited) killGroup(d.child.pid, 'SIGKILL');
    for (const d of daemons) {
      d.child.stdout?.destroy();
      d.child.stderr?.destroy();
    }
    rmSync(dir, { recursive: true, force: true });
}

/**
 * Starts vsftpd, Postfix, MariaDB and nginx with TLS in the lab's t1 and
 * waits (bounded) until they listen. On a failure everything started is
 * killed before the error is thrown.
 *
 * @example
 * ```ts
 * const services = await startLabServices(lab);
 * ```
 */
export async function startLabServices(lab: Lab): Promise<LabServices> {
  const unavailable = servicesUnavailable();
  if (unavailable !== undefined) throw new Error(`the lab's real services cannot run here: ${unavailable}`);
  const started = performance.now();
  const { dir, daemons, address, ns, stop } = daemonWorkspace(lab, 'services');

  try {
    const installed = await installedVersions(SERVICE_PACKAGES);

    // MariaDB: a fresh data directory (bootstrap, no network), then the server on 3306 only.
    const data = join(dir, 'mariadb-data');
    mkdirSync(data, { recursive: true });
    // (In t1's namespace too: nothing of these servers runs in the root namespace.)
    const installDb = await lab.exec(
      't1',
      [PROGRAMS.mariadbInstallDb, '--no-defaults', `--datadir=${data}`, '--user=root', '--skip-test-db', '--auth-root-authentication-method=socket', '--skip-name-resolve'],
      { timeoutMs: 60_000 },
    );
    if (installDb.code !== 0) throw new Error(`mariadb-install-db failed (exit ${installDb.code ?? installDb.signal}):\n${installDb.stderr.slice(-2000)}\n${installDb.stdout.slice(-2000)}`);
    // A user that may connect from the scanner, so the server greets it with its handshake
    // (an unknown host gets error 1130 instead).
    const init = join(dir, 'mariadb-init.sql');
    writeFileSync(init, "CREATE USER IF NOT EXISTS 'portscout'@'198.18.%' IDENTIFIED BY 'lab-only-password';\n");
    startDaemon(ns, 'mariadb', [
      PROGRAMS.mariadbd,
      '--no-defaults',
      `--datadir=${data}`,
      '--user=root',
      `--socket=${join(dir, 'mariadb.sock')}`,
      `--pid-file=${join(dir, 'mariadb.pid')}`,
      `--log-error=${join(dir, 'mariadb.err')}`,
      `--tmpdir=${dir}`,
      `--init-file=${init}`,
      '--port=3306',
      `--bind-address=${address}`,
      '--skip-name-resolve',
      // Probes aborted mid-handshake count as connection errors; never block the scanner's host.
      '--max-connect-errors=4294967295',
      '--innodb-buffer-pool-size=16M',
      '--skip-log-bin',
    ], daemons);

    // vsftpd on 21 (IPv4 on t1's address).
    startDaemon(ns, 'vsftpd', [PROGRAMS.vsftpd, vsftpdConfig(dir, address)], daemons);

    // Postfix: master in the foreground with its own configuration and queue.
    startDaemon(ns, 'postfix', [PROGRAMS.postfixMaster, '-s', '-c', postfixConfig(dir, address)], daemons);

    // nginx with TLS on 8443 and a fresh self-signed certificate.
    const nginxDir = join(dir, 'nginx-tls');
    mkdirSync(nginxDir, { recursive: true });
    const cert = join(nginxDir, 'cert.pem');
    const key = join(nginxDir, 'key.pem');
    await runChecked([PROGRAMS.openssl, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${LAB_DNS_NAME}`], {
      timeoutMs: 30_000,
    });
    startDaemon(ns, 'nginx tls', [PROGRAMS.nginx, '-p', nginxDir, '-e', join(nginxDir, 'nginx-error.log'), '-c', nginxTlsConfig(nginxDir, HTTPS_PORT, cert, key)], daemons);

    const want = [21, 25, 3306, HTTPS_PORT];
    const deadline = Date.now() + 30_000;
    for (;;) {
      const dead = daemons.filter((d) => d.exited);
      if (dead.length > 0) throw new Error(`lab services exited during start-up:\n${dead.map((d) => `${d.name}: ${d.output.trim()}`).join('\n')}`);
      const have = await listeningTcp(lab, 't1');
      const missing = want.filter((p) => !have.has(p));
      if (missing.length === 0) break;
      if (Date.now() > deadline) {
        throw new Error(`lab services not listening after 30 s: ${missing.join(', ')}\n${daemons.map((d) => `${d.name}: ${d.output.trim() || '(no output)'}`).join('\n')}`);
      }
      await sleep(100);
    }
    // A server that fails on a late check exits just after it started listening (Postfix's master does).
    await sleep(300);
    const late = daemons.filter((d) => d.exited);
    if (late.length > 0) throw new Error(`lab services exited after start-up:\n${late.map((d) => `${d.name}: ${d.output.trim()}`).join('\n')}`);
    return {
      tcpPorts: [...SERVICE_TCP_PORTS],
      udpPorts: [...SERVICE_UDP_PORTS],
      installed,
      dir,
      startMs: performance.now() - started,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
