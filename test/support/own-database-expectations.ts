/**
 * What portscout's own database must say about each real server of
 * test/support/lab-extra-services.ts (issue 10), shared by
 * test/service/own-database.test.ts and scripts/coverage-table.ts. The
 * version is the installed package's upstream version (`dpkg-query -W`,
 * epoch, Debian revision and repack suffix such as `+dfsg1` removed) where
 * the server reveals it; `version: false` where it hides it (a softmatch).
 */

/**
 * One expectation.
 *
 * @example
 * ```ts
 * const e: OwnExpectation = { id: 'redis', name: 'redis', product: 'Redis key-value store', version: true, cpe: 'cpe:/a:redis:redis', probe: 'RedisInfoServer', soft: false };
 * ```
 */
export interface OwnExpectation {
  /** The id of the service in EXTRA_SERVICES. */
  readonly id: string;
  readonly name: string;
  /** The product, or undefined where the service names none (telnet, NTP). */
  readonly product?: string;
  /** Whether the version (the package's upstream version) is revealed. */
  readonly version: boolean;
  /** The first CPE, without the version (which is appended when revealed). */
  readonly cpe?: string;
  /** The probe whose answer matches. */
  readonly probe: string;
  readonly soft: boolean;
}

/**
 * The expectations, by service id.
 *
 * @example
 * ```ts
 * OWN_EXPECTATIONS.find((e) => e.id === 'memcached')?.product; // 'Memcached'
 * ```
 */
export const OWN_EXPECTATIONS: readonly OwnExpectation[] = [
  { id: 'telnetd', name: 'telnet', version: false, probe: 'NULL', soft: true },
  { id: 'dovecot-pop3', name: 'pop3', product: 'Dovecot pop3d', version: false, cpe: 'cpe:/a:dovecot:dovecot', probe: 'NULL', soft: true },
  { id: 'dovecot-imap', name: 'imap', product: 'Dovecot imapd', version: false, cpe: 'cpe:/a:dovecot:dovecot', probe: 'NULL', soft: true },
  { id: 'slapd', name: 'ldap', product: 'OpenLDAP', version: false, cpe: 'cpe:/a:openldap:openldap', probe: 'LDAPRootDSE', soft: true },
  { id: 'rsync', name: 'rsync', product: 'rsync', version: false, probe: 'NULL', soft: true },
  { id: 'mosquitto', name: 'mqtt', product: 'Mosquitto', version: true, cpe: 'cpe:/a:eclipse:mosquitto', probe: 'MQTTConnect', soft: false },
  { id: 'dropbear', name: 'ssh', product: 'Dropbear sshd', version: true, cpe: 'cpe:/a:matt_johnston:dropbear_ssh_server', probe: 'NULL', soft: false },
  { id: 'bind-tcp', name: 'domain', product: 'ISC BIND', version: true, cpe: 'cpe:/a:isc:bind', probe: 'DNSVersionBindReqTCP', soft: false },
  { id: 'postgresql', name: 'postgresql', product: 'PostgreSQL DB', version: false, cpe: 'cpe:/a:postgresql:postgresql', probe: 'PostgreSQLStartup', soft: true },
  { id: 'redis', name: 'redis', product: 'Redis key-value store', version: true, cpe: 'cpe:/a:redis:redis', probe: 'RedisInfoServer', soft: false },
  { id: 'lighttpd', name: 'http', product: 'lighttpd', version: true, cpe: 'cpe:/a:lighttpd:lighttpd', probe: 'GetRequest', soft: false },
  { id: 'apache', name: 'http', product: 'Apache httpd', version: true, cpe: 'cpe:/a:apache:http_server', probe: 'GetRequest', soft: false },
  { id: 'memcached', name: 'memcached', product: 'Memcached', version: true, cpe: 'cpe:/a:memcached:memcached', probe: 'MemcachedVersion', soft: false },
  { id: 'ntpsec', name: 'ntp', version: false, probe: 'NTPClient', soft: true },
  { id: 'snmpd', name: 'snmp', product: 'net-snmp', version: true, cpe: 'cpe:/a:net-snmp:net-snmp', probe: 'SNMPv2cGet', soft: false },
  { id: 'bind-udp', name: 'domain', product: 'ISC BIND', version: true, cpe: 'cpe:/a:isc:bind', probe: 'DNSVersionBindReq', soft: false },
  // Node's http module never names itself: its bare 400 to an unknown method does.
  { id: 'node-http', name: 'http', product: 'Node.js http server', version: false, cpe: 'cpe:/a:nodejs:node.js', probe: 'HTTPUnknownMethod', soft: false },
  // "Server: SimpleHTTP/0.6 Python/3.11.2": the version is the Python interpreter's (python3-minimal).
  { id: 'python-http', name: 'http', product: 'Python http.server', version: true, cpe: 'cpe:/a:python:python', probe: 'GetRequest', soft: false },
  { id: 'caddy', name: 'http', product: 'Caddy httpd', version: false, cpe: 'cpe:/a:caddyserver:caddy', probe: 'GetRequest', soft: false },
  { id: 'samba', name: 'microsoft-ds', product: 'Samba smbd', version: false, cpe: 'cpe:/a:samba:samba', probe: 'SMB2Negotiate', soft: false },
  { id: 'xrdp', name: 'ms-wbt-server', product: 'xrdp', version: false, cpe: 'cpe:/a:neutrinolabs:xrdp', probe: 'RDPNegotiate', soft: false },
  // RFB names its protocol version only, not the server.
  { id: 'vnc', name: 'vnc', version: false, probe: 'NULL', soft: true },
  { id: 'proftpd', name: 'ftp', product: 'ProFTPD', version: false, cpe: 'cpe:/a:proftpd:proftpd', probe: 'NULL', soft: true },
  { id: 'pure-ftpd', name: 'ftp', product: 'Pure-FTPd', version: false, cpe: 'cpe:/a:pureftpd:pure-ftpd', probe: 'NULL', soft: true },
  { id: 'exim', name: 'smtp', product: 'Exim smtpd', version: true, cpe: 'cpe:/a:exim:exim', probe: 'NULL', soft: false },
  { id: 'rabbitmq', name: 'amqp', product: 'RabbitMQ', version: true, cpe: 'cpe:/a:vmware:rabbitmq', probe: 'AMQPHeader', soft: false },
  { id: 'chrony', name: 'ntp', version: false, probe: 'NTPClient', soft: true },
];

/**
 * Services of issue 10's list that the lab does not run, with why (printed by
 * the lab test as SKIPPED lines). Microsoft IIS has no Debian package: its
 * rule is proven on Microsoft's documented banner instead
 * (test/service/own-database-banners.test.ts).
 *
 * @example
 * ```ts
 * NOT_IN_LAB['go-http']; // 'golang-go ...'
 * ```
 */
export const NOT_IN_LAB: Readonly<Record<string, string>> = {
  'go-http': "Go's net/http: golang-go (golang-1.19-go, 335 MB installed, and a build at test time) is too costly for the lab; no rule",
  iis: 'Microsoft IIS: no Debian package; its rule is checked on the documented "Server: Microsoft-IIS/10.0" response instead',
};

/**
 * The upstream version of a Debian version: `5:7.0.15-1~deb12u10` is `7.0.15`,
 * `1:2.3.19.1+dfsg1-2.1+deb12u7` is `2.3.19.1`.
 *
 * @example
 * ```ts
 * upstreamVersion('1:9.18.49-1~deb12u3'); // '9.18.49'
 * ```
 */
export function upstreamVersion(debian: string): string {
  const noEpoch = debian.replace(/^\d+:/, '');
  const dash = noEpoch.lastIndexOf('-');
  const upstream = dash < 0 ? noEpoch : noEpoch.slice(0, dash);
  return upstream.replace(/\+(?:dfsg|ds)\d*$/, '');
}

/** Where the lab test writes its results (read by scripts/coverage-table.ts). */
export const OWN_RESULTS_FILE = process.env.PORTSCOUT_OWN_DB_RESULTS ?? '/tmp/portscout-own-database/results.json';
