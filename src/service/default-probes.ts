/**
 * portscout's own service probe database, the default of service detection.
 *
 * It is written in the `nmap-service-probes` format by the project, from
 * protocol knowledge and the banners of real servers, and is licensed with
 * the package: nothing in it comes from nmap's file. It covers a first set
 * of services (SSH, HTTP with nginx and Apache httpd, TLS, FTP with vsftpd,
 * SMTP with Postfix, DNS with dnsmasq, MySQL and MariaDB); where a server
 * hides its version, the rule names the service and product only.
 *
 * @module
 */
import type { ParsedServiceProbes } from './probe-file.js';
import { parseServiceProbes } from './probe-file.js';
import type { ServiceProbeDatabase } from './probe-database.js';

/**
 * The text of the default database (the `nmap-service-probes` format).
 *
 * @example
 * ```ts
 * DEFAULT_SERVICE_PROBES.startsWith('# portscout'); // true
 * ```
 */
export const DEFAULT_SERVICE_PROBES = String.raw`# portscout service probes: the project's own database (same licence as portscout).

# The NULL probe sends nothing and reads the banner a service volunteers.
Probe TCP NULL q||
totalwaitms 6000
tcpwrappedms 3000

# SSH (RFC 4253 section 4.2): "SSH-protoversion-softwareversion SP comments CR LF".
match ssh m|^SSH-([\d.]+)-OpenSSH_([\w.]+) Debian-(\S+)\r?\n| p/OpenSSH/ v/$2 Debian $3/ i/protocol $1/ o/Linux/ cpe:/a:openbsd:openssh:$2/ cpe:/o:linux:linux_kernel/a
match ssh m|^SSH-([\d.]+)-OpenSSH_([\w.]+) Ubuntu-(\S+)\r?\n| p/OpenSSH/ v/$2 Ubuntu $3/ i/protocol $1/ o/Linux/ cpe:/a:openbsd:openssh:$2/ cpe:/o:linux:linux_kernel/a
match ssh m|^SSH-([\d.]+)-OpenSSH_([\w.]+)\r?\n| p/OpenSSH/ v/$2/ i/protocol $1/ cpe:/a:openbsd:openssh:$2/
match ssh m|^SSH-([\d.]+)-OpenSSH_([\w.]+) ([^\r\n]+)\r?\n| p/OpenSSH/ v/$2/ i/$3; protocol $1/ cpe:/a:openbsd:openssh:$2/
match ssh m|^SSH-([\d.]+)-dropbear_([\w.]+)\r?\n| p/Dropbear sshd/ v/$2/ i/protocol $1/ cpe:/a:matt_johnston:dropbear_ssh_server:$2/
softmatch ssh m|^SSH-([\d.]+)-|

# FTP (RFC 959): a 220 greeting.
match ftp m|^220 \(vsFTPd ([\d.]+)\)\r\n| p/vsftpd/ v/$1/ o/Unix/ cpe:/a:beasts:vsftpd:$1/
softmatch ftp m|^220[ -][^\r\n]*FTP|i

# SMTP (RFC 5321): a 220 greeting with the host's name.
match smtp m|^220 ([-\w.]+) ESMTP Postfix \(Debian/GNU\)\r\n| p/Postfix smtpd/ h/$1/ o/Linux/ cpe:/a:postfix:postfix/a cpe:/o:linux:linux_kernel/a
match smtp m|^220 ([-\w.]+) ESMTP Postfix| p/Postfix smtpd/ h/$1/ cpe:/a:postfix:postfix/a
softmatch smtp m|^220[ -][^\r\n]*SMTP|i

# MySQL client/server protocol: the server's handshake (protocol 10) comes first.
# MariaDB 10 and later put "5.5.5-" before their real version (for old clients that
# expect a 5.x server) and "-MariaDB" after it, then the distribution's build, as in
# "5.5.5-10.11.19-MariaDB-0+deb12u1" (Debian's mariadb-server 1:10.11.19-0+deb12u1).
match mysql m|^.\0\0\0\x0a(?:5\.5\.5-)?(\d+\.[\d.]+)-MariaDB-([\w.+~]*deb[\w.+~]*)\0|s p/MariaDB/ v/$1/ i/Debian $2/ o/Linux/ cpe:/a:mariadb:mariadb:$1/ cpe:/o:linux:linux_kernel/a
match mysql m|^.\0\0\0\x0a(?:5\.5\.5-)?(\d+\.[\d.]+)-MariaDB-([\w.+~]*ubuntu[\w.+~]*)\0|s p/MariaDB/ v/$1/ i/Ubuntu $2/ o/Linux/ cpe:/a:mariadb:mariadb:$1/ cpe:/o:linux:linux_kernel/a
match mysql m|^.\0\0\0\x0a(?:5\.5\.5-)?(\d+\.[\d.]+)-MariaDB[-.\w+~]*\0|s p/MariaDB/ v/$1/ cpe:/a:mariadb:mariadb:$1/
match mysql m|^.\0\0\0\x0a(\d[-.\w+~]*)\0|s p/MySQL/ v/$1/ cpe:/a:mysql:mysql:$1/
match mysql m=^.\0\0\0\xffj\x04Host '[^']*' is not allowed to connect to this (MySQL|MariaDB) server=s p/$1/ i/unauthorized/

# HTTP/1.0 GET of the root.
Probe TCP GetRequest q|GET / HTTP/1.0\r\n\r\n|
rarity 1
ports 80-85,591,3000,5000,8000-8010,8080-8088,8888,9000
sslports 443,4443,8443,9443

match http m|^HTTP/1\.[01] \d\d\d (?:[^\r\n]*\r\n(?!\r\n))*?Server: nginx/([\d.]+)\r\n|s p/nginx/ v/$1/ cpe:/a:igor_sysoev:nginx:$1/
match http m|^HTTP/1\.[01] \d\d\d (?:[^\r\n]*\r\n(?!\r\n))*?Server: nginx\r\n|s p/nginx/ cpe:/a:igor_sysoev:nginx/
match http m|^HTTP/1\.[01] \d\d\d (?:[^\r\n]*\r\n(?!\r\n))*?Server: Apache/([\d.]+) \(Debian\)\r\n|s p/Apache httpd/ v/$1/ i/(Debian)/ cpe:/a:apache:http_server:$1/
match http m|^HTTP/1\.[01] \d\d\d (?:[^\r\n]*\r\n(?!\r\n))*?Server: Apache/([\d.]+) \(([^)\r\n]+)\)\r\n|s p/Apache httpd/ v/$1/ i/($2)/ cpe:/a:apache:http_server:$1/
match http m|^HTTP/1\.[01] \d\d\d (?:[^\r\n]*\r\n(?!\r\n))*?Server: Apache/([\d.]+)\r\n|s p/Apache httpd/ v/$1/ cpe:/a:apache:http_server:$1/
match http m|^HTTP/1\.[01] \d\d\d (?:[^\r\n]*\r\n(?!\r\n))*?Server: Apache\r\n|s p/Apache httpd/ cpe:/a:apache:http_server/
softmatch http m|^HTTP/1\.[01] \d\d\d |

# TLS: a ClientHello (TLS 1.2, common ECDHE and RSA suites). A ServerHello or a
# TLS alert means TLS; detection then goes on through TLS.
Probe TCP TLSClientHello q|\x16\x03\x01\x00\x69\x01\x00\x00\x65\x03\x03\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x00\x00\x16\xc0\x2f\xc0\x30\xc0\x2b\xc0\x2c\x00\x9e\x00\x9f\xc0\x13\xc0\x14\x00\x2f\x00\x35\x00\x0a\x01\x00\x00\x26\x00\x0a\x00\x08\x00\x06\x00\x17\x00\x18\x00\x19\x00\x0b\x00\x02\x01\x00\x00\x0d\x00\x10\x00\x0e\x04\x01\x05\x01\x06\x01\x04\x03\x05\x03\x06\x03\x02\x01|
rarity 1
ports 443,465,636,853,989,990,992,993,994,995,4443,5061,8443,9443

match ssl m|^\x16\x03[\x00-\x04]..\x02|s
match ssl m|^\x15\x03[\x00-\x04]\0\x02[\x01\x02].|s

# DNS over TCP (RFC 1035 4.2.2, RFC 7766): version.bind, CHAOS TXT. An answer has QR and
# AA set, RD copied from the question, RCODE 0, and RA when the server recurses (dnsmasq
# sets it even with no upstream server); dnsmasq answers "dnsmasq-<version>".
Probe TCP DNSVersionBindReqTCP q|\0\x1e\0\x06\x01\0\0\x01\0\0\0\0\0\0\x07version\x04bind\0\0\x10\0\x03|
rarity 1
ports 53

match domain m|^\0.\0\x06[\x84\x85][\0\x80]\0\x01\0\x01.*\x07version\x04bind\0\0\x10\0\x03.*dnsmasq-([-\w.]+)|s p/dnsmasq/ v/$1/ cpe:/a:thekelleys:dnsmasq:$1/
softmatch domain m|^\0.\0\x06[\x80-\xff]|s

# DNS over UDP: the same question without the length prefix.
Probe UDP DNSVersionBindReq q|\0\x06\x01\0\0\x01\0\0\0\0\0\0\x07version\x04bind\0\0\x10\0\x03|
rarity 1
ports 53

match domain m|^\0\x06[\x84\x85][\0\x80]\0\x01\0\x01.*\x07version\x04bind\0\0\x10\0\x03.*dnsmasq-([-\w.]+)|s p/dnsmasq/ v/$1/ cpe:/a:thekelleys:dnsmasq:$1/
softmatch domain m|^\0\x06[\x80-\xff]|s
`;

let parsed: ParsedServiceProbes | undefined;

/**
 * The default database, parsed once.
 *
 * @example
 * ```ts
 * defaultServiceProbes().probes.map((p) => p.name); // ['NULL', 'GetRequest', ...]
 * ```
 */
export function defaultServiceProbes(): ServiceProbeDatabase {
  parsed ??= parseServiceProbes(DEFAULT_SERVICE_PROBES, { source: 'portscout:default-probes' });
  return parsed.database;
}

/** The diagnostics of the default database (none: a test keeps it so). @internal */
export function defaultServiceProbeDiagnostics(): ParsedServiceProbes['diagnostics'] {
  defaultServiceProbes();
  return parsed!.diagnostics;
}
