/**
 * More real servers from Debian packages for issue 10 (portscout's own probe
 * database, proven against real servers), started inside a lab's t1
 * namespace next to test/support/lab-services.ts's: Redis, memcached,
 * PostgreSQL, Dropbear, inetutils telnetd, lighttpd, Apache httpd, Dovecot
 * (IMAP and POP3), the rsync daemon, BIND (TCP and UDP), ntpsec (UDP),
 * Net-SNMP's snmpd (UDP), Mosquitto (MQTT), OpenLDAP's slapd, Node's http
 * module, Python's http.server, Caddy, Samba's smbd, xrdp, TigerVNC's
 * Xtigervnc, ProFTPD, Pure-FTPd, Exim, RabbitMQ and chrony (UDP).
 *
 * ProFTPD, Pure-FTPd, Exim and chrony conflict with packages the other lab
 * tests need (vsftpd, postfix, ntpsec: Debian lets one FTP server, one MTA
 * and one time daemon be installed): `.ci/run` unpacks their .deb files
 * (`dpkg-deb -x`) under {@link EXTRACTED_ROOT} instead of installing them,
 * with the package's version in a `VERSION` file next to it, which stands in
 * for `dpkg-query -W` for these four.
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
  { id: 'node-http', package: 'nodejs', protocol: 'tcp', port: 3000 },
  { id: 'python-http', package: 'python3-minimal', protocol: 'tcp', port: 8000 },
  { id: 'caddy', package: 'caddy', protocol: 'tcp', port: 8380 },
  { id: 'samba', package: 'samba', protocol: 'tcp', port: 445 },
  { id: 'xrdp', package: 'xrdp', protocol: 'tcp', port: 3389 },
  { id: 'vnc', package: 'tigervnc-standalone-server', protocol: 'tcp', port: 5901 },
  { id: 'proftpd', package: 'proftpd-core', protocol: 'tcp', port: 2021 },
  { id: 'pure-ftpd', package: 'pure-ftpd', protocol: 'tcp', port: 2022 },
  { id: 'exim', package: 'exim4-daemon-light', protocol: 'tcp', port: 587 },
  { id: 'rabbitmq', package: 'rabbitmq-server', protocol: 'tcp', port: 5672 },
  { id: 'ntpsec', package: 'ntpsec', protocol: 'udp', port: 123 },
  { id: 'snmpd', package: 'snmpd', protocol: 'udp', port: 1161 },
  { id: 'bind-udp', package: 'bind9', protocol: 'udp', port: 5300 },
  { id: 'chrony', package: 'chrony', protocol: 'udp', port: 11123 },
];

/**
 * Where `.ci/run` unpacks the packages that conflict with installed ones
 * (one directory per package, its files under it and its version in `VERSION`).
 *
 * @example
 * ```ts
 * join(EXTRACTED_ROOT, 'proftpd-core', 'usr/sbin/proftpd');
 * ```
 */
export const EXTRACTED_ROOT = process.env.PORTSCOUT_LAB_EXTRACTED ?? '/opt/portscout-lab';

/**
 * The packages unpacked under {@link EXTRACTED_ROOT} rather than installed.
 *
 * @example
 * ```ts
 * EXTRACTED_PACKAGES.includes('chrony'); // true
 * ```
 */
export const EXTRACTED_PACKAGES = ['proftpd-core', 'pure-ftpd', 'exim4-daemon-light', 'chrony'] as const;

const extracted = (pkg: (typeof EXTRACTED_PACKAGES)[number], path: string): string => join(EXTRACTED_ROOT, pkg, path);
const PROFTPD = extracted('proftpd-core', 'usr/sbin/proftpd');
const PURE_FTPD = extracted('pure-ftpd', 'usr/sbin/pure-ftpd');
const EXIM = extracted('exim4-daemon-light', 'usr/sbin/exim4');
const CHRONYD = extracted('chrony', 'usr/sbin/chronyd');

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
  'node-http': [process.execPath],
  'python-http': ['/usr/bin/python3'],
  caddy: ['/usr/bin/caddy'],
  samba: ['/usr/sbin/smbd'],
  xrdp: ['/usr/sbin/xrdp', '/etc/xrdp/xrdp.ini', '/usr/bin/unshare'],
  vnc: ['/usr/bin/Xtigervnc'],
  proftpd: [PROFTPD],
  'pure-ftpd': [PURE_FTPD],
  exim: [EXIM, '/usr/bin/unshare'],
  rabbitmq: ['/usr/lib/rabbitmq/bin/rabbitmq-server'],
  chrony: [CHRONYD],
};

/** Files that must be readable rather than executable. */
const DATA_FILES = new Set(['/etc/xrdp/xrdp.ini']);

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
  'samba',
  'xrdp',
  'tigervnc-standalone-server',
  'rabbitmq-server',
  'caddy',
] as const;

function isExecutable(path: string): boolean {
  try {
    accessSync(path, DATA_FILES.has(path) ? constants.R_OK : constants.X_OK);
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
    const how = (EXTRACTED_PACKAGES as readonly string[]).includes(s.package) ? `.ci/run unpacks ${s.package} under ${EXTRACTED_ROOT}` : `apt-get install ${s.package}`;
    if (missing.length > 0) out[s.id] = `missing ${missing.join(', ')} (${how})`;
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

/** `dpkg-query -W` versions, with the unpacked packages' `VERSION` files for those not installed. */
async function packageVersions(packages: readonly string[]): Promise<Record<string, string>> {
  const out = await installedVersions(packages);
  for (const pkg of EXTRACTED_PACKAGES) {
    if (out[pkg] !== '' && out[pkg] !== undefined) continue;
    try {
      out[pkg] = readFileSync(join(EXTRACTED_ROOT, pkg, 'VERSION'), 'utf8').trim();
    } catch {
      out[pkg] = '';
    }
  }
  return out;
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
  /** A configuration file of lines in the service's directory. */
  const configFile = (service: string, file: string, lines: readonly string[]): string => write(join(sub(service), file), [...lines, ''].join('\n'));

  try {
    const installed = await packageVersions([...new Set(EXTRA_SERVICES.map((s) => s.package))]);

    // The slowest to start first (RabbitMQ's Erlang node takes seconds), and before the servers
    // whose set-up is awaited (dropbearkey, initdb), so that they all start at once.
    if (run.has('rabbitmq')) {
      const d = sub('rabbitmq');
      const env = {
        HOME: sub('rabbitmq/home'),
        RABBITMQ_NODENAME: 'rabbit@localhost',
        RABBITMQ_NODE_IP_ADDRESS: address,
        RABBITMQ_NODE_PORT: '5672',
        RABBITMQ_MNESIA_BASE: sub('rabbitmq/mnesia'),
        RABBITMQ_LOG_BASE: sub('rabbitmq/log'),
        RABBITMQ_PID_FILE: join(d, 'rabbitmq.pid'),
        RABBITMQ_ENABLED_PLUGINS_FILE: join(d, 'enabled_plugins'),
        RABBITMQ_CONFIG_FILE: join(d, 'rabbitmq'),
      };
      // As root, without Debian's wrapper (/usr/sbin/rabbitmq-server) that changes to the rabbitmq user.
      startDaemon(ns, 'rabbitmq', ['/usr/bin/env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), '/usr/lib/rabbitmq/bin/rabbitmq-server'], daemons);
    }

    if (run.has('node-http')) {
      // node:http as an application uses it: a handler that answers every request, no Server header.
      const program = `require('node:http').createServer((q, r) => r.end('portscout lab (node:http)\\n')).listen(3000, ${JSON.stringify(address)});`;
      startDaemon(ns, 'node-http', [process.execPath, '-e', program], daemons);
    }

    if (run.has('python-http')) {
      const root = sub('python-http');
      write(join(root, 'index.html'), 'portscout lab (python3 -m http.server)\n');
      startDaemon(ns, 'python-http', ['/usr/bin/python3', '-m', 'http.server', '--bind', address, '--directory', root, '8000'], daemons);
    }

    if (run.has('caddy')) {
      const d = sub('caddy');
      const conf = write(join(d, 'Caddyfile'), `{\n\tadmin off\n\tauto_https off\n}\nhttp://:8380 {\n\tbind ${address}\n\trespond "portscout lab (Caddy)" 200\n}\n`);
      startDaemon(ns, 'caddy', ['/usr/bin/env', `HOME=${d}`, `XDG_DATA_HOME=${d}`, `XDG_CONFIG_HOME=${d}`, '/usr/bin/caddy', 'run', '--config', conf, '--adapter', 'caddyfile'], daemons);
    }

    if (run.has('samba')) {
      const d = sub('samba');
      const conf = configFile('samba', 'smb.conf', [
        '[global]',
        'server role = standalone server',
        'netbios name = PORTSCOUT-LAB',
        `interfaces = ${address}`,
        'bind interfaces only = yes',
        'smb ports = 445',
        'disable netbios = yes',
        ...['private dir', 'lock directory', 'state directory', 'cache directory', 'pid directory', 'ncalrpc dir'].map((k) => `${k} = ${sub(`samba/${k.split(' ')[0]}`)}`),
        `log file = ${join(d, 'log.%m')}`,
        'load printers = no',
        'printcap name = /dev/null',
        'disable spoolss = yes',
        `[lab]\npath = ${sub('samba/share')}\nread only = yes`,
      ]);
      startDaemon(ns, 'smbd', ['/usr/sbin/smbd', '--foreground', '--no-process-group', '--debug-stdout', '-s', conf], daemons);
    }

    if (run.has('xrdp')) {
      const d = sub('xrdp');
      // Debian's xrdp.ini (its keys and certificate from the package's postinst), on t1's address, in the foreground.
      const ini = readFileSync('/etc/xrdp/xrdp.ini', 'utf8')
        .replace(/^port=.*$/m, `port=tcp://${address}:3389`)
        .replace(/^fork=.*$/m, 'fork=false')
        .replace(/^LogFile=.*$/m, `LogFile=${join(d, 'xrdp.log')}`)
        .replace(/^EnableSyslog=.*$/m, 'EnableSyslog=false');
      const conf = write(join(d, 'xrdp.ini'), ini);
      // Its pid file and socket directory (/run/xrdp) go to a /run of its own (a private mount namespace).
      startDaemon(ns, 'xrdp', ['/usr/bin/unshare', '-m', '/bin/sh', '-c', 'mount -t tmpfs -o size=1m,mode=755 tmpfs /run && mkdir -p /run/xrdp/sockdir && exec /usr/sbin/xrdp -n -c "$0"', conf], daemons);
    }

    if (run.has('vnc')) {
      // Xtigervnc is an X server: its lock file and socket (/tmp/.X1-lock, /tmp/.X11-unix) go to a /tmp of its own.
      startDaemon(
        ns,
        'Xtigervnc',
        ['/usr/bin/unshare', '-m', '/bin/sh', '-c', 'mount -t tmpfs -o size=16m tmpfs /tmp && exec /usr/bin/Xtigervnc :1 -rfbport 5901 -interface "$0" -SecurityTypes None -nolisten tcp -desktop portscout-lab', address],
        daemons,
      );
    }

    if (run.has('proftpd')) {
      const d = sub('proftpd');
      const conf = configFile('proftpd', 'proftpd.conf', [
        'ServerType standalone',
        // Debian's proftpd.conf names the server "Debian" and keeps ProFTPD's default ServerIdent.
        'ServerName "Debian"',
        'Port 2021',
        `DefaultAddress ${address}`,
        'SocketBindTight on',
        'UseIPv6 off',
        'User nobody',
        'Group nogroup',
        `PidFile ${join(d, 'proftpd.pid')}`,
        `ScoreboardFile ${join(d, 'proftpd.scoreboard')}`,
        'DelayTable none',
        'WtmpLog off',
        'TransferLog none',
        'SystemLog none',
        'UseReverseDNS off',
      ]);
      startDaemon(ns, 'proftpd', [PROFTPD, '-n', '-c', conf], daemons);
    }

    if (run.has('pure-ftpd')) {
      // Its privilege-separation directory (/var/run/pure-ftpd) goes to a /run of its own.
      startDaemon(ns, 'pure-ftpd', ['/usr/bin/unshare', '-m', '/bin/sh', '-c', 'mount -t tmpfs -o size=1m,mode=755 tmpfs /run && exec "$0" -S "$1,2022" -g /run/pure-ftpd.pid', PURE_FTPD, address], daemons);
    }

    if (run.has('exim')) {
      // Exim looks its user (Debian-exim, made by exim4-base's postinst) up at start: where it does
      // not exist, copies of /etc/passwd and /etc/group with it are mounted in a private mount namespace.
      const d = sub('exim');
      const passwd = readFileSync('/etc/passwd', 'utf8');
      const existing = passwd.split('\n').find((l) => l.startsWith('Debian-exim:'));
      const uid = existing === undefined ? 64_990 : Number(existing.split(':')[2]);
      const passwdCopy = write(join(d, 'passwd'), existing === undefined ? `${passwd.trimEnd()}\nDebian-exim:x:${uid}:${uid}::/nonexistent:/usr/sbin/nologin\n` : passwd);
      const groups = readFileSync('/etc/group', 'utf8');
      const groupCopy = write(join(d, 'group'), groups.includes('\nDebian-exim:') ? groups : `${groups.trimEnd()}\nDebian-exim:x:${uid}:\n`);
      for (const name of ['log', 'spool']) {
        const p = sub(`exim/${name}`);
        chownSync(p, uid, uid);
        chmodSync(p, 0o750);
      }
      // The configuration must belong to root (it does: written here, as root).
      const conf = write(
        join(d, 'exim.conf'),
        [
          'primary_hostname = lab.test',
          'daemon_smtp_ports = 587',
          `local_interfaces = ${address}`,
          `spool_directory = ${join(d, 'spool')}`,
          `log_file_path = ${join(d, 'log')}/%slog`,
          `pid_file_path = ${join(d, 'exim.pid')}`,
          'keep_environment =',
          'acl_smtp_rcpt = acl_check_rcpt',
          'begin acl',
          'acl_check_rcpt:',
          '  deny',
          '',
        ].join('\n'),
      );
      startDaemon(ns, 'exim', ['/usr/bin/unshare', '-m', '/bin/sh', '-c', 'mount --bind "$0" /etc/passwd && mount --bind "$1" /etc/group && exec "$2" -bdf -C "$3"', passwdCopy, groupCopy, EXIM, conf], daemons);
    }

    if (run.has('chrony')) {
      const d = sub('chrony');
      // No time sources and -x (never touch the clock); no command port, no command socket.
      const conf = write(join(d, 'chrony.conf'), ['allow', 'port 11123', `bindaddress ${address}`, 'cmdport 0', 'bindcmdaddress /', `driftfile ${join(d, 'drift')}`, `pidfile ${join(d, 'chronyd.pid')}`, 'local stratum 10', ''].join('\n'));
      startDaemon(ns, 'chronyd', [CHRONYD, '-d', '-x', '-u', 'root', '-f', conf], daemons);
    }

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
