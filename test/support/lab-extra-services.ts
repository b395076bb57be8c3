/**
 * More real servers from Debian packages for issue 10 (portscout's own probe
 * database, proven against real servers), started inside a lab's t1
 * namespace next to test/support/lab-services.ts's: Redis, memcached,
 * PostgreSQL, Dropbear, inetutils telnetd, lighttpd, Apache httpd, Dovecot
 * (IMAP and POP3), the rsync daemon, BIND (TCP and UDP), ntpsec (UDP),
 * Net-SNMP's snmpd (UDP), Mosquitto (MQTT) and OpenLDAP's slapd.
 *
 * Every server gets its own configuration, pid file, sockets and data in a
 * temporary directory and listens on t1's address only; nothing runs in the
 * root namespace, and {@link ExtraLabServices.stop} kills them all (the
 * lab's destroy() kills anything left in its namespaces). The lab's own
 * firewall rules (test/lab/topology.ts: TCP 8081, 8082, 8084, 8085, UDP 161
 * and 162) and its declared closed ports (TCP 1, 23) are avoided, so telnetd
 * listens on 2323, lighttpd on 8180, Apache on 8280 and snmpd on UDP 1161. A server whose
 * program is not installed is left out with a reason in `skipped`.
 *
 * ```ts
 * const extra = await startExtraLabServices(lab);
 * try { ... } finally { await extra.stop(); }
 * ```
 */
import { accessSync, chmodSync, chownSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killGroup, runBounded } from '../lab/exec.js';
import type { Lab } from '../lab/lab.js';
import { daemonWorkspace, installedVersions, sleep, startDaemon, type Daemon } from './lab-services.js';

/**
 * One extra service: where it listens and which Debian package it comes from.
 *
 * @example
 * ```ts
 * const s: ExtraService = { id: 'redis', package: 'redis-server', protocol: 'tcp', port: 6379 };
 * ```
 */
export interface ExtraService {
  /** Short name (`redis`, `dovecot-imap`). */
  readonly id: string;
  /** The Debian package whose installed version is the ground truth. */
  readonly package: string;
  readonly protocol: 'tcp' | 'udp';
  readonly port: number;
}

/**
 * The extra services, in the order they are started.
 *
 * @example
 * ```ts
 * EXTRA_SERVICES.find((s) => s.id === 'memcached')?.port; // 11211
 * ```
 */
export const EXTRA_SERVICES: readonly ExtraService[] = [
  { id: 'telnetd', package: 'inetutils-telnetd', protocol: 'tcp', port: 2323 },
  { id: 'dovecot-pop3', package: 'dovecot-pop3d', protocol: 'tcp', port: 110 },
  { id: 'dovecot-imap', package: 'dovecot-imapd', protocol: 'tcp', port: 143 },
  { id: 'slapd', package: 'slapd', protocol: 'tcp', port: 389 },
  { id: 'rsync', package: 'rsync', protocol: 'tcp', port: 873 },
  { id: 'mosquitto', package: 'mosquitto', protocol: 'tcp', port: 1883 },
  { id: 'dropbear', package: 'dropbear-bin', protocol: 'tcp', port: 2222 },
  { id: 'bind-tcp', package: 'bind9', protocol: 'tcp', port: 5300 },
  { id: 'postgresql', package: 'postgresql-15', protocol: 'tcp', port: 5432 },
  { id: 'redis', package: 'redis-server', protocol: 'tcp', port: 6379 },
  { id: 'lighttpd', package: 'lighttpd', protocol: 'tcp', port: 8180 },
  { id: 'apache', package: 'apache2', protocol: 'tcp', port: 8280 },
  { id: 'memcached', package: 'memcached', protocol: 'tcp', port: 11211 },
  { id: 'ntpsec', package: 'ntpsec', protocol: 'udp', port: 123 },
  { id: 'snmpd', package: 'snmpd', protocol: 'udp', port: 1161 },
  { id: 'bind-udp', package: 'bind9', protocol: 'udp', port: 5300 },
];

/** The programs each service needs (Debian's paths). */
const PROGRAMS: Readonly<Record<string, readonly string[]>> = {
  telnetd: ['/usr/sbin/telnetd', '/usr/bin/socat'],
  'dovecot-pop3': ['/usr/sbin/dovecot', '/usr/lib/dovecot/pop3-login'],
  'dovecot-imap': ['/usr/sbin/dovecot', '/usr/lib/dovecot/imap-login'],
  slapd: ['/usr/sbin/slapd'],
  rsync: ['/usr/bin/rsync'],
  mosquitto: ['/usr/sbin/mosquitto'],
  dropbear: ['/usr/sbin/dropbear', '/usr/bin/dropbearkey'],
  'bind-tcp': ['/usr/sbin/named'],
  'bind-udp': ['/usr/sbin/named'],
  postgresql: ['/usr/lib/postgresql/15/bin/postgres', '/usr/lib/postgresql/15/bin/initdb', '/usr/sbin/runuser'],
  redis: ['/usr/bin/redis-server'],
  lighttpd: ['/usr/sbin/lighttpd'],
  apache: ['/usr/sbin/apache2'],
  memcached: ['/usr/bin/memcached'],
  ntpsec: ['/usr/sbin/ntpd'],
  snmpd: ['/usr/sbin/snmpd'],
};

/**
 * The package list for `apt-get install` that provides every extra service.
 *
 * @example
 * ```ts
 * EXTRA_PACKAGES.includes('redis-server'); // true
 * ```
 */
export const EXTRA_PACKAGES = [
  'inetutils-telnetd',
  'dovecot-imapd',
  'dovecot-pop3d',
  'slapd',
  'rsync',
  'mosquitto',
  'dropbear-bin',
  'bind9',
  'postgresql',
  'redis-server',
  'lighttpd',
  'apache2',
  'memcached',
  'ntpsec',
  'snmpd',
] as const;

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Why each extra service cannot run here (its programs missing), by id; empty when all can.
 *
 * @example
 * ```ts
 * const missing = extraServicesUnavailable(); // { redis: 'missing /usr/bin/redis-server' }
 * ```
 */
export function extraServicesUnavailable(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of EXTRA_SERVICES) {
    const missing = (PROGRAMS[s.id] ?? []).filter((p) => !isExecutable(p));
    if (missing.length > 0) out[s.id] = `missing ${missing.join(', ')} (apt-get install ${s.package})`;
  }
  return out;
}

/**
 * A running set of extra services.
 *
 * @example
 * ```ts
 * const extra: ExtraLabServices = await startExtraLabServices(lab);
 * ```
 */
export interface ExtraLabServices {
  /** The services that were started (the others are in `skipped`). */
  readonly services: readonly ExtraService[];
  /** Services left out, with why. */
  readonly skipped: Readonly<Record<string, string>>;
  /** `dpkg-query -W` versions of the packages (`''` when one is not installed). */
  readonly installed: Readonly<Record<string, string>>;
  readonly dir: string;
  readonly startMs: number;
  /** Kills every server started here and removes their directory. Idempotent. */
  stop(): Promise<void>;
}

/** The ports listening in t1 (`ss -l`), by `tcp/23`, `udp/123`. */
async function listening(lab: Lab): Promise<Set<string>> {
  const out = new Set<string>();
  for (const proto of ['tcp', 'udp'] as const) {
    const r = await lab.exec('t1', ['ss', '-H', '-l', '-n', proto === 'tcp' ? '-t' : '-u'], { timeoutMs: 5_000 });
    for (const line of r.stdout.split('\n')) {
      const local = line.trim().split(/\s+/)[proto === 'tcp' ? 3 : 3];
      if (local !== undefined) out.add(`${proto}/${Number(local.slice(local.lastIndexOf(':') + 1))}`);
    }
  }
  return out;
}

function write(path: string, text: string, mode = 0o644): string {
  writeFileSync(path, text, { mode });
  return path;
}

function ids(name: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) throw new Error(`no user ${name} in /etc/passwd`);
  return { uid: Number(uid), gid: Number(gid) };
}

/** A directory owned by a system user (for servers that drop privileges). */
function ownedDir(path: string, user: string, mode = 0o700): string {
  mkdirSync(path, { recursive: true, mode });
  const { uid, gid } = ids(user);
  chownSync(path, uid, gid);
  chmodSync(path, mode);
  return path;
}

/**
 * Starts the extra services in t1 and waits (bounded) until each listens.
 * On a failure everything started is killed before the error is thrown.
 *
 * @example
 * ```ts
 * const extra = await startExtraLabServices(lab);
 * ```
 */
export async function startExtraLabServices(lab: Lab): Promise<ExtraLabServices> {
  const started = performance.now();
  const skipped = extraServicesUnavailable();
  const services = EXTRA_SERVICES.filter((s) => skipped[s.id] === undefined);
  const run = new Set(services.map((s) => s.id));
  const { dir, daemons, address, ns, stop } = daemonWorkspace(lab, 'extra');
  const sub = (name: string): string => {
    const p = join(dir, name);
    mkdirSync(p, { recursive: true });
    return p;
  };

  try {
    const installed = await installedVersions([...new Set(EXTRA_SERVICES.map((s) => s.package))]);

    if (run.has('telnetd')) {
      // inetd-style: socat accepts and hands the socket itself to telnetd (nofork) as its stdin and stdout.
      startDaemon(ns, 'telnetd', ['/usr/bin/socat', `TCP-LISTEN:2323,bind=${address},reuseaddr,fork`, 'EXEC:/usr/sbin/telnetd,nofork'], daemons);
    }

    if (run.has('dovecot-imap') || run.has('dovecot-pop3')) {
      const d = sub('dovecot');
      const users = write(join(d, 'users'), 'portscout:{PLAIN}lab-only-password:65534:65534::/nonexistent\n');
      const conf = write(
        join(d, 'dovecot.conf'),
        [
          `base_dir = ${sub('dovecot/run')}`,
          `state_dir = ${sub('dovecot/state')}`,
          `log_path = ${join(d, 'dovecot.log')}`,
          `protocols = ${[run.has('dovecot-imap') ? 'imap' : '', run.has('dovecot-pop3') ? 'pop3' : ''].join(' ').trim()}`,
          `listen = ${address}`,
          'ssl = no',
          'auth_mechanisms = plain',
          'mail_location = mbox:/nonexistent',
          `passdb {\n  driver = passwd-file\n  args = ${users}\n}`,
          `userdb {\n  driver = passwd-file\n  args = ${users}\n}`,
          // Debian's build's stock greeting ("Dovecot (Debian) ready.") is kept: no login_greeting.
          '',
        ].join('\n'),
      );
      startDaemon(ns, 'dovecot', ['/usr/sbin/dovecot', '-F', '-c', conf], daemons);
    }

    if (run.has('slapd')) {
      const d = sub('slapd');
      const conf = write(
        join(d, 'slapd.conf'),
        ['include /etc/ldap/schema/core.schema', `pidfile ${join(d, 'slapd.pid')}`, `argsfile ${join(d, 'slapd.args')}`, ''].join('\n'),
      );
      startDaemon(ns, 'slapd', ['/usr/sbin/slapd', '-d', '0', '-f', conf, '-h', `ldap://${address}:389/`], daemons);
    }

    if (run.has('rsync')) {
      const d = sub('rsync');
      const conf = write(join(d, 'rsyncd.conf'), [`pid file = ${join(d, 'rsyncd.pid')}`, 'use chroot = no', `[lab]\n  path = ${sub('rsync/share')}\n  read only = yes`, ''].join('\n'));
      startDaemon(ns, 'rsync', ['/usr/bin/rsync', '--daemon', '--no-detach', `--address=${address}`, '--port=873', `--config=${conf}`], daemons);
    }

    if (run.has('mosquitto')) {
      const d = ownedDir(join(dir, 'mosquitto'), 'mosquitto', 0o755);
      const conf = write(join(d, 'mosquitto.conf'), [`listener 1883 ${address}`, 'allow_anonymous true', 'persistence false', 'log_dest stderr', ''].join('\n'));
      startDaemon(ns, 'mosquitto', ['/usr/sbin/mosquitto', '-c', conf], daemons);
    }

    if (run.has('dropbear')) {
      const d = sub('dropbear');
      const key = join(d, 'host_key_ed25519');
      const gen = await runBounded(['/usr/bin/dropbearkey', '-t', 'ed25519', '-f', key], { timeoutMs: 15_000 });
      if (gen.code !== 0) throw new Error(`dropbearkey failed: ${gen.stderr}`);
      startDaemon(ns, 'dropbear', ['/usr/sbin/dropbear', '-F', '-E', '-s', '-r', key, '-P', join(d, 'dropbear.pid'), '-p', `${address}:2222`], daemons);
    }

    if (run.has('bind-tcp') || run.has('bind-udp')) {
      const d = sub('bind');
      const conf = write(
        join(d, 'named.conf'),
        `options {
  directory "${d}";
  pid-file "${join(d, 'named.pid')}";
  session-keyfile "${join(d, 'session.key')}";
  listen-on port 5300 { ${address}; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
};
controls { };
`,
      );
      startDaemon(ns, 'named', ['/usr/sbin/named', '-g', '-n', '1', '-c', conf], daemons);
    }

    if (run.has('postgresql')) {
      // initdb and postgres refuse to run as root: the postgres user, with its data in the temp dir.
      const d = ownedDir(join(dir, 'postgresql'), 'postgres', 0o700);
      const data = join(d, 'data');
      const init = await lab.exec('t1', ['/usr/sbin/runuser', '-u', 'postgres', '--', '/usr/lib/postgresql/15/bin/initdb', '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync'], { timeoutMs: 60_000 });
      if (init.code !== 0) throw new Error(`initdb failed (exit ${init.code ?? init.signal}):\n${init.stderr.slice(-2000)}`);
      // initdb's pg_hba.conf admits local and loopback clients only: the scanner is refused with an error.
      startDaemon(ns, 'postgresql', ['/usr/sbin/runuser', '-u', 'postgres', '--', '/usr/lib/postgresql/15/bin/postgres', '-D', data, '-k', d, '-h', address, '-p', '5432', '-c', 'fsync=off'], daemons);
    }

    if (run.has('redis')) {
      const d = sub('redis');
      startDaemon(ns, 'redis', ['/usr/bin/redis-server', '--bind', address, '--port', '6379', '--protected-mode', 'no', '--save', '', '--appendonly', 'no', '--dir', d, '--daemonize', 'no', '--logfile', ''], daemons);
    }

    if (run.has('lighttpd')) {
      const d = sub('lighttpd');
      const root = sub('lighttpd/www');
      write(join(root, 'index.html'), 'portscout lab (lighttpd)\n');
      const conf = write(
        join(d, 'lighttpd.conf'),
        [`server.document-root = "${root}"`, `server.bind = "${address}"`, 'server.port = 8180', `server.pid-file = "${join(d, 'lighttpd.pid')}"`, `server.errorlog = "${join(d, 'error.log')}"`, 'index-file.names = ( "index.html" )', ''].join('\n'),
      );
      startDaemon(ns, 'lighttpd', ['/usr/sbin/lighttpd', '-D', '-f', conf], daemons);
    }

    if (run.has('apache')) {
      const d = sub('apache');
      const root = sub('apache/www');
      write(join(root, 'index.html'), 'portscout lab (Apache)\n');
      const mods = '/usr/lib/apache2/modules';
      const conf = write(
        join(d, 'apache2.conf'),
        [
          `ServerRoot ${d}`,
          'ServerName lab.test',
          `LoadModule mpm_event_module ${mods}/mod_mpm_event.so`,
          `LoadModule authz_core_module ${mods}/mod_authz_core.so`,
          `LoadModule dir_module ${mods}/mod_dir.so`,
          `PidFile ${join(d, 'apache2.pid')}`,
          `Mutex file:${d} default`,
          `DefaultRuntimeDir ${d}`,
          `ErrorLog ${join(d, 'error.log')}`,
          `Listen ${address}:8280`,
          'User www-data',
          'Group www-data',
          `DocumentRoot ${root}`,
          `<Directory ${root}>\n  Require all granted\n</Directory>`,
          // Debian's default (ServerTokens OS): "Server: Apache/<version> (Debian)".
          'ServerTokens OS',
          '',
        ].join('\n'),
      );
      startDaemon(ns, 'apache', ['/usr/sbin/apache2', '-X', '-f', conf], daemons);
    }

    if (run.has('memcached')) {
      startDaemon(ns, 'memcached', ['/usr/bin/memcached', '-u', 'memcache', '-l', address, '-p', '11211', '-U', '0', '-m', '16'], daemons);
    }

    if (run.has('ntpsec')) {
      const d = ownedDir(join(dir, 'ntpsec'), 'ntpsec', 0o755);
      // No time sources: it answers clients and control (mode 6) queries without touching the clock.
      const conf = write(join(d, 'ntp.conf'), [`driftfile ${join(d, 'ntp.drift')}`, 'interface ignore wildcard', `interface listen ${address}`, 'disable monitor', ''].join('\n'));
      startDaemon(ns, 'ntpd', ['/usr/sbin/ntpd', '-n', '-c', conf, '-p', join(d, 'ntpd.pid'), '-l', join(d, 'ntpd.log')], daemons);
    }

    if (run.has('snmpd')) {
      const d = sub('snmpd');
      const conf = write(join(d, 'snmpd.conf'), ['rocommunity public default', 'sysLocation portscout lab', 'sysContact lab@lab.test', ''].join('\n'));
      // -C: this file only; -r: do not insist on reading /proc files as root; persistent data in the temp dir.
      startDaemon(ns, 'snmpd', ['/usr/bin/env', `SNMP_PERSISTENT_DIR=${d}`, '/usr/sbin/snmpd', '-f', '-Lo', '-C', '-c', conf, '-r', '-I', '-smux,mteTrigger,mteTriggerConf', `udp:${address}:1161`], daemons);
    }

    const want = services.map((s) => `${s.protocol}/${s.port}`);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const dead = daemons.filter((d) => d.exited);
      if (dead.length > 0) throw new Error(`extra lab services exited during start-up:\n${dead.map((d) => `${d.name}: ${d.output.trim()}`).join('\n')}`);
      const have = await listening(lab);
      const missing = want.filter((p) => !have.has(p));
      if (missing.length === 0) break;
      if (Date.now() > deadline) {
        throw new Error(`extra lab services not listening after 30 s: ${missing.join(', ')}\n${daemons.map((d) => `${d.name}: ${d.output.trim() || '(no output)'}`).join('\n')}`);
      }
      await sleep(100);
    }
    await sleep(300);
    const late = daemons.filter((d) => d.exited);
    if (late.length > 0) throw new Error(`extra lab services exited after start-up:\n${late.map((d) => `${d.name}: ${d.output.trim()}`).join('\n')}`);
    return { services, skipped, installed, dir, startMs: performance.now() - started, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
