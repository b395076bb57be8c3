/**
 * portscout's own table of well-known services, written by hand for this
 * project from common knowledge (IANA names where they are the usual ones).
 * The lists are ranked by hand, most commonly open first; the frequency of an
 * entry is only its rank mapped to (0, 1], not a measurement. For measured
 * frequencies pass the user's own nmap `nmap-services` file to
 * `loadNmapServices()`.
 *
 * @module
 */
import { ServiceTable, type PortProtocol, type ServiceEntry } from './service-table.js';

// [port, name], most common first.
const TCP: readonly (readonly [number, string])[] = [
  [80, 'http'], [443, 'https'], [22, 'ssh'], [21, 'ftp'], [23, 'telnet'], [25, 'smtp'],
  [3389, 'ms-wbt-server'], [110, 'pop3'], [445, 'microsoft-ds'], [139, 'netbios-ssn'],
  [143, 'imap'], [53, 'domain'], [135, 'msrpc'], [3306, 'mysql'], [8080, 'http-proxy'],
  [1723, 'pptp'], [111, 'rpcbind'], [995, 'pop3s'], [993, 'imaps'], [5900, 'vnc'],
  [587, 'submission'], [8443, 'https-alt'], [8000, 'http-alt'], [8888, 'http-alt'],
  [465, 'smtps'], [5432, 'postgresql'], [1433, 'ms-sql-s'], [199, 'smux'], [113, 'ident'],
  [548, 'afp'], [554, 'rtsp'], [179, 'bgp'], [389, 'ldap'], [636, 'ldaps'], [88, 'kerberos'],
  [631, 'ipp'], [2049, 'nfs'], [1521, 'oracle'], [5060, 'sip'], [5061, 'sips'],
  [6379, 'redis'], [27017, 'mongodb'], [9200, 'elasticsearch'], [11211, 'memcache'],
  [8081, 'http-alt'], [8008, 'http-alt'], [9090, 'websm'], [9100, 'jetdirect'], [515, 'printer'],
  [5985, 'wsman'], [5986, 'wsmans'], [873, 'rsync'], [2000, 'cisco-sccp'], [1720, 'h323q931'],
  [10000, 'webmin'], [3000, 'http-dev'], [5000, 'upnp'], [49152, 'upnp-alt'], [6000, 'x11'],
  [6001, 'x11-1'], [5800, 'vnc-http'], [5901, 'vnc-1'], [5902, 'vnc-2'], [1080, 'socks'],
  [3128, 'squid-http'], [8118, 'privoxy'], [8009, 'ajp13'], [9443, 'https-alt'], [4443, 'https-alt'],
  [2222, 'ssh-alt'], [990, 'ftps'], [989, 'ftps-data'], [20, 'ftp-data'], [119, 'nntp'],
  [563, 'nntps'], [464, 'kpasswd'], [3268, 'msft-gc'], [3269, 'msft-gc-ssl'], [1194, 'openvpn'],
  [1701, 'l2tp'], [5672, 'amqp'], [5671, 'amqps'], [1883, 'mqtt'], [8883, 'secure-mqtt'],
  [9092, 'kafka'], [2181, 'zookeeper'], [2375, 'docker'], [2376, 'docker-tls'],
  [6443, 'kubernetes-api'], [10250, 'kubelet'], [2379, 'etcd-client'], [2380, 'etcd-server'],
  [9418, 'git'], [3690, 'svn'], [5984, 'couchdb'], [9042, 'cassandra'], [33060, 'mysqlx'],
  [6667, 'irc'], [6697, 'ircs'], [194, 'irc'], [5222, 'xmpp-client'], [5269, 'xmpp-server'],
  [8089, 'splunkd'], [7070, 'realserver'], [3260, 'iscsi'], [4444, 'krb524'], [4899, 'radmin'],
  [5631, 'pcanywheredata'], [1352, 'lotusnotes'], [5555, 'adb'], [7547, 'cwmp'],
  [8291, 'winbox'], [830, 'netconf-ssh'], [646, 'ldp'], [4786, 'smart-install'],
  [502, 'modbus'], [102, 'iso-tsap'], [20000, 'dnp3'], [44818, 'enip'], [1911, 'fox'],
  [3478, 'stun'], [5938, 'teamviewer'], [25565, 'minecraft'], [1812, 'radius'],
  [427, 'svrloc'], [512, 'exec'], [513, 'login'], [514, 'shell'], [543, 'klogin'],
  [544, 'kshell'], [79, 'finger'], [70, 'gopher'], [43, 'whois'], [49, 'tacacs'],
  [106, 'pop3pw'], [109, 'pop2'], [37, 'time'], [13, 'daytime'], [7, 'echo'], [9, 'discard'],
  [19, 'chargen'],
];

const UDP: readonly (readonly [number, string])[] = [
  [53, 'domain'], [137, 'netbios-ns'], [123, 'ntp'], [161, 'snmp'], [138, 'netbios-dgm'],
  [67, 'dhcps'], [68, 'dhcpc'], [69, 'tftp'], [500, 'isakmp'], [514, 'syslog'], [520, 'route'],
  [1900, 'ssdp'], [5353, 'mdns'], [162, 'snmptrap'], [135, 'msrpc'], [445, 'microsoft-ds'],
  [139, 'netbios-ssn'], [111, 'rpcbind'], [1434, 'ms-sql-m'], [4500, 'ipsec-nat-t'],
  [631, 'ipp'], [1701, 'l2tp'], [1812, 'radius'], [1813, 'radius-acct'], [2049, 'nfs'],
  [5060, 'sip'], [3478, 'stun'], [1194, 'openvpn'], [51820, 'wireguard'], [443, 'https'],
  [80, 'http'], [5355, 'llmnr'], [3702, 'ws-discovery'], [11211, 'memcache'], [427, 'svrloc'],
  [623, 'asf-rmcp'], [88, 'kerberos'], [464, 'kpasswd'], [389, 'ldap'], [177, 'xdmcp'],
  [1604, 'icabrowser'], [5632, 'pcanywherestat'], [47808, 'bacnet'], [20000, 'dnp3'],
  [4789, 'vxlan'], [6081, 'geneve'], [2152, 'gtp-user'], [2123, 'gtp-control'], [1985, 'hsrp'],
  [521, 'ripng'], [546, 'dhcpv6-client'], [547, 'dhcpv6-server'], [5683, 'coap'],
  [5351, 'nat-pmp'], [7, 'echo'], [9, 'discard'], [13, 'daytime'], [17, 'qotd'], [19, 'chargen'],
  [37, 'time'],
];

function ranked(list: readonly (readonly [number, string])[], protocol: PortProtocol): ServiceEntry[] {
  return list.map(([port, name], i) => ({ name, port, protocol, frequency: (list.length - i) / list.length }));
}

/**
 * portscout's hand-written table of well-known TCP and UDP services, ranked by
 * hand (most commonly open first).
 *
 * @example
 * ```ts
 * builtinServices.nameOf(22, 'tcp'); // 'ssh'
 * builtinServices.top(5, 'udp'); // [53, 137, 123, 161, 138]
 * ```
 */
export const builtinServices: ServiceTable = new ServiceTable([...ranked(TCP, 'tcp'), ...ranked(UDP, 'udp')]);

/**
 * The service name of a port, from the built-in table unless another is given.
 *
 * @example
 * ```ts
 * serviceName(443, 'tcp'); // 'https'
 * serviceName(40000, 'tcp'); // undefined
 * ```
 */
export function serviceName(port: number, protocol: PortProtocol, services: ServiceTable = builtinServices): string | undefined {
  return services.nameOf(port, protocol);
}

/**
 * The `n` most common ports of a protocol, most common first: from the
 * built-in table, or from an nmap `nmap-services` table when given (see
 * `loadNmapServices()`). Fewer than `n` when the table has fewer.
 *
 * @example
 * ```ts
 * topPorts(3, 'tcp'); // [80, 443, 22]
 * ```
 */
export function topPorts(n: number, protocol: PortProtocol, services: ServiceTable = builtinServices): number[] {
  return services.top(n, protocol);
}
