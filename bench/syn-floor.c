/*
 * bench/syn-floor.c: the physical floor of a SYN scan on this machine, for
 * bench/scan.ts (issue 14). It does the job portscout's tcpSynScan does, with
 * nothing else: one raw IPv4 socket (IP_HDRINCL) sends a SYN to every port of
 * a range, at most WINDOW unanswered at a time; another raw TCP socket reads
 * every reply (SYN/ACK or RST) to the source port; the clock stops at the
 * last reply. No retransmission: it runs on the lab's lossless link only.
 *
 *   syn-floor SOURCE TARGET FIRST LAST WINDOW MODE [HOSTS]
 *     MODE: sendto (one system call per packet) or mmsg (sendmmsg and recvmmsg, batches of 32)
 *     HOSTS: scan HOSTS consecutive addresses from TARGET (default 1), host after host
 *   prints one JSON line: {"mode":...,"ports":N,"answered":N,"open":N,"seconds":S}
 *   (ports: the probes of the job, hosts times ports)
 *
 * Written for portscout; compiled by bench/scan.ts when a C compiler is present.
 * Run it only against the namespace lab's hosts.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 32
#define PACKET 44 /* 20 IP + 20 TCP + 4 MSS option */
#define SOURCE_PORT 47123
#define IDLE_LIMIT_NS 2000000000LL /* stop 2 s after the last reply */

static uint16_t checksum(const void *data, size_t length, uint32_t sum) {
  const uint8_t *p = data;
  for (size_t i = 0; i + 1 < length; i += 2) sum += (uint32_t)(p[i] << 8 | p[i + 1]);
  if (length & 1) sum += (uint32_t)(p[length - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void build(uint8_t *out, uint32_t source, uint32_t target, uint16_t port) {
  memset(out, 0, PACKET);
  struct iphdr *ip = (struct iphdr *)out;
  ip->version = 4;
  ip->ihl = 5;
  ip->tot_len = htons(PACKET);
  ip->id = htons((uint16_t)(port * 7919));
  ip->ttl = 64;
  ip->protocol = IPPROTO_TCP;
  ip->saddr = source;
  ip->daddr = target;
  struct tcphdr *tcp = (struct tcphdr *)(out + 20);
  tcp->source = htons(SOURCE_PORT);
  tcp->dest = htons(port);
  tcp->seq = htonl(0x5eed0000u ^ port);
  tcp->doff = 6;
  tcp->syn = 1;
  tcp->window = htons(1024);
  uint8_t *mss = out + 40;
  mss[0] = 2, mss[1] = 4, mss[2] = 0x05, mss[3] = 0xb4;
  uint32_t pseudo = (ntohl(source) >> 16) + (ntohl(source) & 0xffff) + (ntohl(target) >> 16) + (ntohl(target) & 0xffff) + IPPROTO_TCP + 24;
  tcp->check = htons(checksum(tcp, 24, pseudo));
}

int main(int argc, char **argv) {
  if (argc != 7 && argc != 8) {
    fprintf(stderr, "usage: %s SOURCE TARGET FIRST LAST WINDOW sendto|mmsg [HOSTS]\n", argv[0]);
    return 2;
  }
  uint32_t source = inet_addr(argv[1]), base = ntohl(inet_addr(argv[2]));
  int first = atoi(argv[3]), last = atoi(argv[4]), window = atoi(argv[5]);
  int mmsg = strcmp(argv[6], "mmsg") == 0;
  long hosts = argc == 8 ? atol(argv[7]) : 1;
  if (first < 1 || last > 65535 || first > last || window < 1 || hosts < 1 || hosts > 16777216 || (uint64_t)base + (uint64_t)hosts > 0x100000000ULL) return 2;
  int out = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
  int in = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);
  if (out < 0 || in < 0) {
    perror("socket");
    return 1;
  }
  int size = 8 << 20;
  setsockopt(in, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
  setsockopt(out, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size);
  long ports = last - first + 1, total = hosts * ports;
  uint8_t *seen = calloc((size_t)total, 1);
  if (!seen) {
    perror("calloc");
    return 1;
  }
  uint8_t packets[BATCH][PACKET];
  uint8_t replies[BATCH][128];
  struct sockaddr_in to[BATCH];
  struct mmsghdr send_msgs[BATCH], recv_msgs[BATCH];
  struct iovec send_iov[BATCH], recv_iov[BATCH];
  for (int i = 0; i < BATCH; i++) {
    send_iov[i] = (struct iovec){packets[i], PACKET};
    to[i] = (struct sockaddr_in){.sin_family = AF_INET};
    send_msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_name = &to[i], .msg_namelen = sizeof to[i], .msg_iov = &send_iov[i], .msg_iovlen = 1}};
    recv_iov[i] = (struct iovec){replies[i], sizeof replies[i]};
    recv_msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &recv_iov[i], .msg_iovlen = 1}};
  }
  long next = 0, answered = 0, open = 0; /* next: the job's next probe, host next / ports, port first + next % ports */
  long long start = now_ns(), last_reply = start;
  while (answered < total) {
    /* send while the window allows */
    while (next < total && next - answered < window) {
      long room = window - (next - answered);
      long n = mmsg ? (room < BATCH ? room : BATCH) : 1;
      if (n > total - next) n = total - next;
      for (long i = 0; i < n; i++) {
        uint32_t target = htonl(base + (uint32_t)((next + i) / ports));
        to[i].sin_addr.s_addr = target;
        build(packets[i], source, target, (uint16_t)(first + (next + i) % ports));
      }
      int sent;
      if (mmsg) {
        sent = sendmmsg(out, send_msgs, (unsigned)n, 0);
      } else {
        sent = sendto(out, packets[0], PACKET, 0, (struct sockaddr *)&to[0], sizeof to[0]) == PACKET ? 1 : -1;
      }
      if (sent <= 0) {
        if (errno == ENOBUFS || errno == EAGAIN) break;
        perror("send");
        return 1;
      }
      next += sent;
    }
    struct pollfd p = {.fd = in, .events = POLLIN};
    if (poll(&p, 1, 10) <= 0) {
      if (now_ns() - last_reply > IDLE_LIMIT_NS) break;
      continue;
    }
    /* read every reply waiting */
    for (;;) {
      int got;
      if (mmsg) {
        got = recvmmsg(in, recv_msgs, BATCH, MSG_DONTWAIT, NULL);
      } else {
        ssize_t n = recv(in, replies[0], sizeof replies[0], MSG_DONTWAIT);
        recv_msgs[0].msg_len = n > 0 ? (unsigned)n : 0;
        got = n > 0 ? 1 : -1;
      }
      if (got <= 0) break;
      for (int i = 0; i < got; i++) {
        uint8_t *r = replies[i];
        if (recv_msgs[i].msg_len < 40) continue;
        struct iphdr *ip = (struct iphdr *)r;
        uint32_t host = ntohl(ip->saddr) - base;
        if (host >= (uint32_t)hosts) continue;
        struct tcphdr *tcp = (struct tcphdr *)(r + ip->ihl * 4);
        if (ntohs(tcp->dest) != SOURCE_PORT) continue;
        int port = ntohs(tcp->source);
        if (port < first || port > last) continue;
        long slot = (long)host * ports + (port - first);
        if (seen[slot] || ntohl(tcp->ack_seq) != ((0x5eed0000u ^ (uint32_t)port) + 1)) continue;
        seen[slot] = 1;
        answered++;
        if (tcp->syn && tcp->ack) open++;
      }
      last_reply = now_ns();
    }
  }
  printf("{\"mode\":\"%s\",\"ports\":%ld,\"answered\":%ld,\"open\":%ld,\"seconds\":%.4f}\n", mmsg ? "mmsg" : "sendto", total, answered, open, (last_reply - start) / 1e9);
  return 0;
}
