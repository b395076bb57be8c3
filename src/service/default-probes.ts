/**
 * portscout's own service probe database, the default of service detection.
 *
 * It is written in the `nmap-service-probes` format by the project, from
 * protocol knowledge and the banners of real servers, and is licensed with
 * the package: nothing in it comes from nmap's file. It covers a first set
 * of services (SSH with OpenSSH and Dropbear, telnet, VNC, RDP with xrdp,
 * HTTP with nginx, Apache httpd, lighttpd, Caddy, Microsoft IIS, Node.js and
 * Python's http.server, TLS, FTP with vsftpd, ProFTPD and Pure-FTPd, SMTP
 * with Postfix and Exim, IMAP and POP3 with Dovecot, SMB with Samba, rsync,
 * DNS with dnsmasq and BIND, NTP (ntpsec, chrony), SNMP with Net-SNMP,
 * MySQL and MariaDB, PostgreSQL, Redis, memcached, LDAP with OpenLDAP, MQTT
 * with Mosquitto, AMQP with RabbitMQ); where a server hides its version, the
 * rule names the service and product only (a softmatch for the newer ones).
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
# ProFTPD's greeting is "220 ProFTPD Server (<ServerName>) [<address>]": since 1.3.6 its default
# ServerIdent no longer names the version (older ones said "220 ProFTPD 1.3.5 Server (...)").
match ftp m|^220 ProFTPD (\d+\.\d+\.\d+[a-z\d]*) Server \(([^)\r\n]*)\) \[[^\]\r\n]+\]\r\n| p/ProFTPD/ v/$1/ i/$2/ cpe:/a:proftpd:proftpd:$1/
softmatch ftp m|^220 ProFTPD Server \([^)\r\n]*\) \[[^\]\r\n]+\]\r\n| p/ProFTPD/ cpe:/a:proftpd:proftpd/
# Pure-FTPd opens a multi-line greeting with "220---------- Welcome to Pure-FTPd [privsep] [TLS] ----------";
# it never names its version.
softmatch ftp m|^220-+ Welcome to Pure-FTPd(?: \[[a-zA-Z]+\])* -+\r\n| p/Pure-FTPd/ cpe:/a:pureftpd:pure-ftpd/
softmatch ftp m|^220[ -][^\r\n]*FTP|i

# SMTP (RFC 5321): a 220 greeting with the host's name.
match smtp m|^220 ([-\w.]+) ESMTP Postfix \(Debian/GNU\)\r\n| p/Postfix smtpd/ h/$1/ o/Linux/ cpe:/a:postfix:postfix/a cpe:/o:linux:linux_kernel/a
match smtp m|^220 ([-\w.]+) ESMTP Postfix| p/Postfix smtpd/ h/$1/ cpe:/a:postfix:postfix/a
# Exim's default smtp_banner: "$smtp_active_hostname ESMTP Exim $version_number $tod_full".
match smtp m|^220 ([-\w.]+) ESMTP Exim (\d+\.\d+(?:\.\d+)?)(?: #\d+)? [^\r\n]*\r\n| p/Exim smtpd/ v/$2/ h/$1/ cpe:/a:exim:exim:$2/
softmatch smtp m|^220[ -][^\r\n]*SMTP|i

# IMAP (RFC 9051 7.1.1) and POP3 (RFC 1939 4): an untagged OK / "+OK" greeting. Dovecot's
# ("Dovecot (Debian) ready.") names the product but never its version: a softmatch.
softmatch imap m|^\* OK (?:\[CAPABILITY [^\]\r\n]*\] )?Dovecot \(Debian\) ready\.\r\n| p/Dovecot imapd/ o/Linux/ cpe:/a:dovecot:dovecot/ cpe:/o:linux:linux_kernel/a
softmatch imap m|^\* OK (?:\[CAPABILITY [^\]\r\n]*\] )?Dovecot ready\.\r\n| p/Dovecot imapd/ cpe:/a:dovecot:dovecot/
softmatch imap m=^\* (?:OK|PREAUTH) [^\r\n]*IMAP=i
softmatch pop3 m|^\+OK Dovecot \(Debian\) ready\.\r\n| p/Dovecot pop3d/ o/Linux/ cpe:/a:dovecot:dovecot/ cpe:/o:linux:linux_kernel/a
softmatch pop3 m|^\+OK Dovecot ready\.\r\n| p/Dovecot pop3d/ cpe:/a:dovecot:dovecot/
softmatch pop3 m|^\+OK [^\r\n]*POP3|i

# rsync daemon: "@RSYNCD: <protocol>.<sub>" and, since protocol 31, its checksum names.
# The protocol, not the program's version: a softmatch.
softmatch rsync m|^@RSYNCD: (\d+)\.\d+(?: [ -~]*)?\n| p/rsync/ i/protocol $1/

# Telnet (RFC 854): a server opens with option negotiation (IAC WILL/WONT/DO/DONT).
softmatch telnet m|^\xff[\xfb-\xfe][\0-\x2f]|

# VNC (RFB, RFC 6143 7.1.1): the server opens with "RFB 003.008\n". The protocol version,
# not the server's product (TigerVNC, x11vnc and others send the same): a softmatch.
softmatch vnc m|^RFB 00(\d)\.00(\d)\n| i/protocol $1.$2/

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
match http m|^HTTP/1\.[01] \d\d\d (?:[^\r\n]*\r\n(?!\r\n))*?Server: lighttpd/([\d.]+)\r\n|s p/lighttpd/ v/$1/ cpe:/a:lighttpd:lighttpd:$1/
match http m|^HTTP/1\.[01] \d\d\d (?:[^\r\n]*\r\n(?!\r\n))*?Server: lighttpd\r\n|s p/lighttpd/ cpe:/a:lighttpd:lighttpd/
# Caddy always says "Server: Caddy", never its version.
match http m|^HTTP/1\.[01] \d\d\d (?:[^\r\n]*\r\n(?!\r\n))*?Server: Caddy\r\n|s p/Caddy httpd/ cpe:/a:caddyserver:caddy/
# Microsoft IIS: "Server: Microsoft-IIS/10.0" (Microsoft's documentation of the removeServerHeader setting).
match http m|^HTTP/1\.[01] \d\d\d (?:[^\r\n]*\r\n(?!\r\n))*?Server: Microsoft-IIS/([\d.]+)\r\n|s p/Microsoft IIS httpd/ v/$1/ o/Windows/ cpe:/a:microsoft:internet_information_services:$1/ cpe:/o:microsoft:windows/a
# Python's http.server (BaseHTTPRequestHandler.version_string): "SimpleHTTP/0.6 Python/3.11.2".
match http m|^HTTP/1\.[01] \d\d\d (?:[^\r\n]*\r\n(?!\r\n))*?Server: SimpleHTTP/([\d.]+) Python/(\d+\.\d+\.\d+)\r\n|s p/Python http.server/ v/$2/ i/SimpleHTTP $1/ cpe:/a:python:python:$2/
softmatch http m|^HTTP/1\.[01] \d\d\d |

# HTTP with a method no server implements. Node.js's http module (llhttp) knows a fixed list of
# methods and answers any other with a bare "400 Bad Request" and "Connection: close", no other
# header and no body; it never names itself or its version.
Probe TCP HTTPUnknownMethod q|PORTSCOUT / HTTP/1.0\r\n\r\n|
rarity 3
ports 3000,8000-8010,8080

match http m|^HTTP/1\.1 400 Bad Request\r\nConnection: close\r\n\r\n$| p/Node.js http server/ cpe:/a:nodejs:node.js/

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
# BIND answers version.bind with its version and, on Debian, the package's revision:
# "9.18.49-1~deb12u3-Debian" (the answer's TXT string follows the name pointer, TTL and lengths).
match domain m|^\0.\0\x06[\x84\x85][\0\x80]\0\x01\0\x01\0[\0\x01]\0[\0\x01]\x07version\x04bind\0\0\x10\0\x03\xc0\x0c\0\x10\0\x03.{4}\0.[^\0](\d+\.\d+\.\d+)-([\w.~+]+)-Debian|s p/ISC BIND/ v/$1/ i/Debian $2/ o/Linux/ cpe:/a:isc:bind:$1/ cpe:/o:linux:linux_kernel/a
match domain m|^\0.\0\x06[\x84\x85][\0\x80]\0\x01\0\x01\0[\0\x01]\0[\0\x01]\x07version\x04bind\0\0\x10\0\x03\xc0\x0c\0\x10\0\x03.{4}\0.[^\0](9\.\d+\.\d+)|s p/ISC BIND/ v/$1/ cpe:/a:isc:bind:$1/
softmatch domain m|^\0.\0\x06[\x80-\xff]|s

# DNS over UDP: the same question without the length prefix.
Probe UDP DNSVersionBindReq q|\0\x06\x01\0\0\x01\0\0\0\0\0\0\x07version\x04bind\0\0\x10\0\x03|
rarity 1
ports 53

match domain m|^\0\x06[\x84\x85][\0\x80]\0\x01\0\x01.*\x07version\x04bind\0\0\x10\0\x03.*dnsmasq-([-\w.]+)|s p/dnsmasq/ v/$1/ cpe:/a:thekelleys:dnsmasq:$1/
match domain m|^\0\x06[\x84\x85][\0\x80]\0\x01\0\x01\0[\0\x01]\0[\0\x01]\x07version\x04bind\0\0\x10\0\x03\xc0\x0c\0\x10\0\x03.{4}\0.[^\0](\d+\.\d+\.\d+)-([\w.~+]+)-Debian|s p/ISC BIND/ v/$1/ i/Debian $2/ o/Linux/ cpe:/a:isc:bind:$1/ cpe:/o:linux:linux_kernel/a
match domain m|^\0\x06[\x84\x85][\0\x80]\0\x01\0\x01\0[\0\x01]\0[\0\x01]\x07version\x04bind\0\0\x10\0\x03\xc0\x0c\0\x10\0\x03.{4}\0.[^\0](9\.\d+\.\d+)|s p/ISC BIND/ v/$1/ cpe:/a:isc:bind:$1/
softmatch domain m|^\0\x06[\x80-\xff]|s

# Redis (RESP, redis.io/docs/reference/protocol-spec): INFO server as an array of bulk
# strings. The reply is one bulk string whose first section is "# Server" with redis_version.
Probe TCP RedisInfoServer q|*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n|
rarity 4
ports 6379,6380

match redis m|^\$\d+\r\n# Server\r\nredis_version:(\d+\.\d+\.\d+)\r\n| p/Redis key-value store/ v/$1/ cpe:/a:redis:redis:$1/
softmatch redis m|^\$\d+\r\n# Server\r\n|

# memcached (its protocol.txt): the text command "version" answers "VERSION <version>".
Probe TCP MemcachedVersion q|version\r\n|
rarity 4
ports 11211

match memcached m|^VERSION (\d+\.\d+\.\d+)\r\n| p/Memcached/ v/$1/ cpe:/a:memcached:memcached:$1/

# PostgreSQL (frontend/backend protocol 3.0): a StartupMessage for user and database
# "portscout". A server that refuses answers an ErrorResponse ('E', length, then fields:
# S severity, V severity (9.6 and later), C SQLSTATE, M message, F file, L line, R routine).
# It never tells its version before authentication: a softmatch.
Probe TCP PostgreSQLStartup q|\0\0\0\x2b\0\x03\0\0user\0portscout\0database\0portscout\0\0|
rarity 4
ports 5432,5433

softmatch postgresql m=^E\0\0[\0-\x03].S(?:FATAL|ERROR|PANIC)\0(?:V(?:FATAL|ERROR|PANIC)\0)?C[0-9A-Z]{5}\0M[^\0]*\0F[^\0]*\0L\d+\0R[^\0]*\0\0=s p/PostgreSQL DB/ cpe:/a:postgresql:postgresql/
softmatch postgresql m|^R\0\0\0[\x08-\xff]\0\0\0[\0-\x0c]|s p/PostgreSQL DB/ cpe:/a:postgresql:postgresql/

# MQTT 3.1.1 (OASIS): CONNECT (clean session, client id "portscout") and, in the same
# write, SUBSCRIBE to $SYS/broker/version. Mosquitto answers CONNACK, SUBACK, then the
# retained PUBLISH of that topic: "mosquitto version <version>".
Probe TCP MQTTConnect q|\x10\x15\0\x04MQTT\x04\x02\0\x3c\0\x09portscout\x82\x18\0\x01\0\x13$SYS/broker/version\0|
rarity 5
ports 1883

match mqtt m|^ \x02[\0\x01]\0\x90\x03\0\x01[\0-\x02]\x31.\0\x13\$SYS/broker/versionmosquitto version (\d+\.\d+\.\d+)|s p/Mosquitto/ v/$1/ cpe:/a:eclipse:mosquitto:$1/
softmatch mqtt m|^ \x02[\0\x01][\0-\x05]|

# LDAP (RFC 4511): a search of the root DSE (base "", scope base, filter (objectClass=*)).
# OpenLDAP's root DSE has objectClass OpenLDAProotDSE; it does not publish its version.
Probe TCP LDAPRootDSE q|\x30\x25\x02\x01\x01\x63\x20\x04\x00\x0a\x01\x00\x0a\x01\x00\x02\x01\x00\x02\x01\x00\x01\x01\x00\x87\x0bobjectClass\x30\x00|
rarity 4
ports 389,3268

softmatch ldap m|^0.\x02\x01\x01d.\x04\x000.0.\x04\x0bobjectClass1.\x04\x03top\x04\x0fOpenLDAProotDSE|s p/OpenLDAP/ cpe:/a:openldap:openldap/
softmatch ldap m|^0[\x01-\x7f]\x02\x01\x01[de]|s
softmatch ldap m|^0\x81.\x02\x01\x01[de]|s

# SMB 2 and 3 (MS-SMB2 2.2.3): a NEGOTIATE request on direct TCP (RFC 1002 session header),
# dialects 2.0.2, 2.1, 3.0 and 3.0.2, client GUID "portscout-client". The response's ServerGuid
# is random on Windows; Samba's smbd fills it with its NetBIOS name, padded with NULs.
# Neither says its version.
Probe TCP SMB2Negotiate q|\0\0\0\x6c\xfeSMB\x40\0\0\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x24\0\x04\0\x01\0\0\0\0\0\0\0portscout-client\0\0\0\0\0\0\0\0\x02\x02\x10\x02\0\x03\x02\x03|
rarity 4
ports 445

match microsoft-ds m|^\0...\xfeSMB@\0..\0\0\0\0\0\0.{50}A\0..\x02\x03..[!-~][!-~\0]{14}\0|s p/Samba smbd/ i/SMB 3.0.2/ cpe:/a:samba:samba/
match microsoft-ds m|^\0...\xfeSMB@\0..\0\0\0\0\0\0.{50}A\0..[\0-\x11][\x02\x03]..[!-~][!-~\0]{14}\0|s p/Samba smbd/ cpe:/a:samba:samba/
softmatch microsoft-ds m|^\0...\xfeSMB@\0..\0\0\0\0\0\0.{50}A\0|s

# RDP (MS-RDPBCGR 2.2.1.1): an X.224 Connection Request with an RDP Negotiation Request for
# TLS and CredSSP. xrdp (0.9) answers a Connection Confirm that selects TLS, with only the
# "extended client data" flag; Windows selects CredSSP and sets more flags. No version.
Probe TCP RDPNegotiate q|\x03\0\0\x13\x0e\xe0\0\0\0\0\0\x01\0\x08\0\x03\0\0\0|
rarity 4
ports 3389

match ms-wbt-server m|^\x03\0\0\x13\x0e\xd0\0\0\x12\x34\0\x02\x01\x08\0\x01\0\0\0| p/xrdp/ cpe:/a:neutrinolabs:xrdp/
softmatch ms-wbt-server m|^\x03\0\0[\x0b\x13][\x06\x0e]\xd0\0\0|

# AMQP 0-9-1: the protocol header. A broker answers Connection.Start (class 10, method 10,
# version 0-9) whose server-properties table holds RabbitMQ's platform, product and version.
Probe TCP AMQPHeader q|AMQP\0\0\x09\x01|
rarity 4
ports 5671,5672

match amqp m|^\x01\0\0\0\0..\0\x0a\0\x0a\0\x09.*?\x08platformS\0\0\0[\x01-\x40](Erlang/OTP [\d.]+)\x07productS\0\0\0\x08RabbitMQ\x07versionS\0\0\0[\x01-\x20](\d+\.\d+\.\d+)|s p/RabbitMQ/ v/$2/ i/$1/ cpe:/a:vmware:rabbitmq:$2/
match amqp m|^\x01\0\0\0\0..\0\x0a\0\x0a\0\x09.*?\x07productS\0\0\0\x08RabbitMQ\x07versionS\0\0\0[\x01-\x20](\d+\.\d+\.\d+)|s p/RabbitMQ/ v/$1/ cpe:/a:vmware:rabbitmq:$1/
softmatch amqp m|^\x01\0\0\0\0..\0\x0a\0\x0a\0\x09|s
softmatch amqp m|^AMQP\0\0\x09\x01|

# SNMP v2c (RFC 3416) GetRequest, community "public": sysDescr.0, sysObjectID.0 and
# UCD-SNMP-MIB versionTag.0 (1.3.6.1.4.1.2021.100.2.0), which Net-SNMP's agent answers with
# its version; other agents give noSuchObject for it and still answer the rest.
Probe UDP SNMPv2cGet q|\x30\x47\x02\x01\x01\x04\x06public\xa0\x3a\x02\x04port\x02\x01\x00\x02\x01\x00\x30\x2c\x30\x0c\x06\x08\x2b\x06\x01\x02\x01\x01\x01\x00\x05\x00\x30\x0c\x06\x08\x2b\x06\x01\x02\x01\x01\x02\x00\x05\x00\x30\x0e\x06\x0a\x2b\x06\x01\x04\x01\x8f\x65\x64\x02\x00\x05\x00|
rarity 2
ports 161,1161

match snmp m|^0.{1,3}\x02\x01\x01\x04\x06public\xa2[^\x06]{1,16}\x30.{1,3}\x30.\x06\x08\x2b\x06\x01\x02\x01\x01\x01\0\x04[^\0]*?\x30.\x06\x08\x2b\x06\x01\x02\x01\x01\x02\0\x06\x0a\x2b\x06\x01\x04\x01\xbf\x08\x03\x02\x0a\x30.\x06\x0a\x2b\x06\x01\x04\x01\x8f\x65\x64\x02\0\x04[\x01-\x20](\d+\.\d+\.\d+)|s p/net-snmp/ v/$1/ i/SNMPv2c; public/ cpe:/a:net-snmp:net-snmp:$1/
match snmp m|^0.{1,3}\x02\x01\x01\x04\x06public\xa2.{1,3}\x02\x04port\x02\x01\0\x02\x01\0\x30.{1,3}\x30.{1,3}\x06\x08\x2b\x06\x01\x02\x01\x01\x01\0\x04.{1,3}[^\0]*?\x30.\x06\x08\x2b\x06\x01\x02\x01\x01\x02\0\x06.\x2b\x06\x01\x04\x01\xbf\x08|s p/net-snmp/ i/SNMPv2c; public/ cpe:/a:net-snmp:net-snmp/
softmatch snmp m|^0.{1,3}\x02\x01\x01\x04\x06public\xa2|s

# NTP (RFC 5905): a client request (mode 3, version 4). A server answers with mode 4 (the
# same version or 3), 48 bytes; the version of its software is not in it: a softmatch.
Probe UDP NTPClient q|\xe3\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0|
rarity 2
ports 123

softmatch ntp m|^[\x1c\x24\x5c\x64\x9c\xa4\xdc\xe4][\0-\x10].{46}$|s
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
