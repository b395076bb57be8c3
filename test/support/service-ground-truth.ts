/**
 * What every real server of the lab is, from the installed Debian packages
 * (`dpkg-query -W`): the lab's own and test/support/lab-services.ts's
 * (sshd, dnsmasq, nginx, vsftpd, Postfix, MariaDB, nginx with TLS) and
 * test/support/lab-extra-services.ts's (issue 10's, with their expectations
 * in test/support/own-database-expectations.ts). bench/own-database.ts
 * scores nmap's answers and portscout's against it with {@link judgeService}.
 */
import type { ExtraLabServices } from './lab-extra-services.js';
import { EXTRA_SERVICES } from './lab-extra-services.js';
import type { LabServices } from './lab-services.js';
import { HTTPS_PORT } from './lab-services.js';
import { OWN_EXPECTATIONS, upstreamVersion } from './own-database-expectations.js';
import type { ServiceFields } from './service-oracle.js';

/**
 * One port's ground truth.
 *
 * @example
 * ```ts
 * const t: ServiceTruth = { key: 'tcp/21', id: 'vsftpd', package: 'vsftpd', installed: '3.0.3-13+b2', name: 'ftp', product: 'vsftpd', productWords: ['vsftpd'], version: '3.0.3' };
 * ```
 */
export interface ServiceTruth {
  /** `tcp/21`, `udp/53`. */
  readonly key: string;
  /** Short name of the server (`vsftpd`, `dovecot-imap`). */
  readonly id: string;
  /** The Debian package, and its installed version. */
  readonly package: string;
  readonly installed: string;
  /** The service name (nmap's vocabulary). */
  readonly name: string;
  /** `ssl` where the service runs over TLS. */
  readonly tunnel?: string;
  /** The product, or undefined where the server never names one (telnet, RFB, NTP). */
  readonly product?: string;
  /** Lower-case words of which a reported product must contain one to name this software. */
  readonly productWords: readonly string[];
  /** The installed upstream version where the server reveals it; undefined where it hides it. */
  readonly version?: string;
}

/**
 * The ground truth of every port that runs a real server, base lab services first.
 *
 * @example
 * ```ts
 * const truth = labServiceTruth(base, extra); // [{ key: 'tcp/21', ... }, ...]
 * ```
 */
export function labServiceTruth(base: LabServices, extra: ExtraLabServices): ServiceTruth[] {
  /** The package, its installed version and (where the server reveals it) its upstream version. */
  const pkg = (name: string, revealed = true): { package: string; installed: string; version?: string } => {
    const installed = base.installed[name] ?? '';
    return revealed ? { package: name, installed, version: upstreamVersion(installed) } : { package: name, installed };
  };
  const ssh = pkg('openssh-server');
  const nginx = pkg('nginx-light');
  const dnsmasq = pkg('dnsmasq-base');
  const out: ServiceTruth[] = [
    { key: 'tcp/21', id: 'vsftpd', ...pkg('vsftpd'), name: 'ftp', product: 'vsftpd', productWords: ['vsftpd'] },
    // OpenSSH's banner carries the Debian revision too ("OpenSSH_9.2p1 Debian-2+deb12u10"); the upstream version is the truth.
    { key: 'tcp/22', id: 'sshd', ...ssh, name: 'ssh', product: 'OpenSSH', productWords: ['openssh'] },
    // Postfix's greeting never names its version.
    { key: 'tcp/25', id: 'postfix', ...pkg('postfix', false), name: 'smtp', product: 'Postfix smtpd', productWords: ['postfix'] },
    { key: 'tcp/53', id: 'dnsmasq-tcp', ...dnsmasq, name: 'domain', product: 'dnsmasq', productWords: ['dnsmasq'] },
    { key: 'udp/53', id: 'dnsmasq-udp', ...dnsmasq, name: 'domain', product: 'dnsmasq', productWords: ['dnsmasq'] },
    { key: 'tcp/80', id: 'nginx', ...nginx, name: 'http', product: 'nginx', productWords: ['nginx'] },
    // The lab's 443 is nginx speaking plain HTTP.
    { key: 'tcp/443', id: 'nginx-443', ...nginx, name: 'http', product: 'nginx', productWords: ['nginx'] },
    { key: `tcp/${HTTPS_PORT}`, id: 'nginx-tls', ...nginx, name: 'http', tunnel: 'ssl', product: 'nginx', productWords: ['nginx'] },
    // The package is MariaDB: a product named "MySQL" is another product.
    { key: 'tcp/3306', id: 'mariadb', ...pkg('mariadb-server'), name: 'mysql', product: 'MariaDB', productWords: ['mariadb'] },
  ];
  for (const e of OWN_EXPECTATIONS) {
    const service = EXTRA_SERVICES.find((s) => s.id === e.id);
    if (service === undefined || !extra.services.includes(service)) continue;
    const installed = extra.installed[service.package] ?? '';
    const words = e.product === undefined ? [] : [e.product.split(' ')[0]!.toLowerCase()];
    // Python's http.server was SimpleHTTPServer in Python 2; its Server header still says SimpleHTTP.
    if (e.id === 'python-http') words.push('simplehttp');
    out.push({
      key: `${service.protocol}/${service.port}`,
      id: e.id,
      package: service.package,
      installed,
      name: e.name,
      ...(e.product === undefined ? {} : { product: e.product }),
      productWords: words,
      ...(e.version ? { version: upstreamVersion(installed) } : {}),
    });
  }
  return out;
}

/**
 * How one reported service compares with the truth.
 *
 * @example
 * ```ts
 * const v: ServiceVerdict = judgeService(truth, reported); // { name: true, product: true, version: false, otherVersion: false }
 * ```
 */
export interface ServiceVerdict {
  /** The service name (and tunnel) is the truth's. */
  readonly name: boolean;
  /** A product is reported and it names the installed software. */
  readonly product: boolean;
  /** And the version field names the installed upstream version (as a whole token). */
  readonly version: boolean;
  /** A version is reported that is not the installed one (or where the server hides it). */
  readonly otherVersion: boolean;
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Scores a reported service against the truth. The version counts where the
 * reported version contains the installed upstream version as a token
 * (`9.18.49-1~deb12u3` names 9.18.49; `5.5.5-10.11.19-MariaDB-0+deb12u1`
 * names 10.11.19), and only with the right product.
 *
 * @example
 * ```ts
 * judgeService(truth, { name: 'http', product: 'nginx', version: '1.22.1' }).version; // true
 * ```
 */
export function judgeService(truth: ServiceTruth, reported: ServiceFields | undefined): ServiceVerdict {
  if (reported === undefined) return { name: false, product: false, version: false, otherVersion: false };
  const name = reported.name === truth.name && reported.tunnel === truth.tunnel;
  const productText = (reported.product ?? '').toLowerCase();
  const product = truth.product !== undefined && reported.product !== undefined && truth.productWords.some((w) => productText.includes(w));
  const versionNamed = truth.version !== undefined && reported.version !== undefined && new RegExp(`(?:^|[^\\d.])${escapeRegExp(truth.version)}(?:$|[^\\d.])`).test(reported.version);
  return { name, product, version: product && versionNamed, otherVersion: reported.version !== undefined && !versionNamed };
}
