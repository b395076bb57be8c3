/*
 * portscout's raw packet I/O addon (Linux): batched send and receive on raw
 * sockets, for the transport layer's native channel (native-channel.ts).
 *
 * One raw socket per handle, non-blocking, watched by a libuv poll handle on
 * Node's own loop (the main thread only). JavaScript writes packets into one
 * buffer and hands a batch to sendBatch (one sendmmsg call); when the socket
 * is readable the addon calls back, and JavaScript reads every waiting
 * datagram with recvBatch (one recvmmsg call per batch) straight into memory
 * it owns, with each datagram's length, source address, truncation flag and,
 * for IPv6, the hop limit (IPV6_RECVHOPLIMIT; raw IPv6 sockets give no header).
 *
 * Every misuse throws a JavaScript Error with a stable `code` (the ERR_NATIVE_*
 * codes below, or the errno name of a failed system call) and never crashes:
 * a closed handle, a packet too large, a batch larger than the buffers given,
 * an address of the other family.
 *
 * Written for portscout (MIT). Built by node-gyp at install; when it does not
 * build, portscout falls back to the raw-socket package.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

/* Most datagrams one sendBatch or recvBatch call handles. */
#define MAX_BATCH 256
/* Largest IP packet. */
#define MAX_PACKET 65535
/* Bytes per source address in the address buffers (IPv4 uses the first 4). */
#define ADDRESS_BYTES 16
/* Int32 fields per received datagram in recvBatch's meta array: length, flags, hop limit. */
#define META_FIELDS 3
#define FLAG_TRUNCATED 1

typedef struct channel {
  int fd;
  int family; /* AF_INET or AF_INET6 */
  int closed;
  int watching;
  /* Batches being sent on the thread pool; the descriptor closes when the last one is done. */
  int inflight;
  uv_poll_t *poll;
  napi_env env;
  napi_ref on_readable;
  napi_async_context async_context;
} channel_t;

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, "ERR_NATIVE_INTERNAL", "N-API call failed: " #call); \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

static napi_value throw_coded(napi_env env, const char *code, const char *message) {
  napi_throw_error(env, code, message);
  return NULL;
}

static const char *errno_name(int error) {
  switch (error) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case EAGAIN: return "EAGAIN";
    case ENOBUFS: return "ENOBUFS";
    case ENOMEM: return "ENOMEM";
    case EMSGSIZE: return "EMSGSIZE";
    case ENETUNREACH: return "ENETUNREACH";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case ENETDOWN: return "ENETDOWN";
    case EHOSTDOWN: return "EHOSTDOWN";
    case EINVAL: return "EINVAL";
    case EBADF: return "EBADF";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case ECONNREFUSED: return "ECONNREFUSED";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case EINTR: return "EINTR";
    default: return "UNKNOWN";
  }
}

static napi_value throw_errno(napi_env env, const char *what, int error) {
  char message[256];
  snprintf(message, sizeof message, "%s: %s", what, strerror(error));
  napi_throw_error(env, errno_name(error), message);
  return NULL;
}

static void poll_closed(uv_handle_t *handle) { free(handle); }

/* Stops watching and closes the socket; safe to call twice. */
static void channel_close(channel_t *channel) {
  if (channel->closed) return;
  channel->closed = 1;
  if (channel->poll) {
    uv_poll_stop(channel->poll);
    channel->poll->data = NULL;
    uv_close((uv_handle_t *)channel->poll, poll_closed);
    channel->poll = NULL;
  }
  channel->watching = 0;
  if (channel->inflight == 0) {
    close(channel->fd);
    channel->fd = -1;
  }
  if (channel->on_readable) {
    napi_delete_reference(channel->env, channel->on_readable);
    channel->on_readable = NULL;
  }
  if (channel->async_context) {
    napi_async_destroy(channel->env, channel->async_context);
    channel->async_context = NULL;
  }
}

static void channel_finalize(napi_env env, void *data, void *hint) {
  channel_t *channel = data;
  channel_close(channel);
  free(channel);
}

static void on_poll(uv_poll_t *poll, int status, int events) {
  channel_t *channel = poll->data;
  if (!channel || channel->closed || !channel->on_readable) return;
  napi_env env = channel->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value callback, global, argv[1], result;
  if (napi_get_reference_value(env, channel->on_readable, &callback) == napi_ok && callback &&
      napi_get_global(env, &global) == napi_ok && napi_create_int32(env, status, &argv[0]) == napi_ok) {
    napi_status called = napi_make_callback(env, channel->async_context, global, callback, 1, argv, &result);
    if (called == napi_pending_exception) {
      napi_value error;
      if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
    }
  }
  napi_close_handle_scope(env, scope);
}

/* Reads the handle argument; throws ERR_NATIVE_CLOSED for a closed one. */
static channel_t *open_channel_arg(napi_env env, napi_value value) {
  void *data = NULL;
  if (napi_unwrap(env, value, &data) != napi_ok || !data) {
    napi_throw_type_error(env, "ERR_NATIVE_BAD_HANDLE", "The first argument is not a raw I/O handle.");
    return NULL;
  }
  channel_t *channel = data;
  if (channel->closed) {
    napi_throw_error(env, "ERR_NATIVE_CLOSED", "The raw socket is closed.");
    return NULL;
  }
  return channel;
}

static int get_int(napi_env env, napi_value value, int32_t *out) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_number) return 0;
  return napi_get_value_int32(env, value, out) == napi_ok;
}

/* A Buffer or Uint8Array argument's bytes. */
static int get_bytes(napi_env env, napi_value value, uint8_t **data, size_t *length) {
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  napi_value arraybuffer;
  size_t offset;
  void *base;
  if (napi_get_typedarray_info(env, value, &type, length, &base, &arraybuffer, &offset) != napi_ok) return 0;
  if (type != napi_uint8_array) return 0;
  *data = base;
  return 1;
}

static int get_int32_array(napi_env env, napi_value value, int32_t **data, size_t *count) {
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  napi_value arraybuffer;
  size_t offset;
  void *base;
  if (napi_get_typedarray_info(env, value, &type, count, &base, &arraybuffer, &offset) != napi_ok) return 0;
  if (type != napi_int32_array) return 0;
  *data = base;
  return 1;
}

/* open(family: 4 | 6, protocol, receiveBufferBytes, headerIncluded, sendBufferBytes?) -> handle */
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t family = 0, protocol = -1, receive_bytes = 0, send_bytes = 0;
  bool header_included = false;
  if (argc < 4 || !get_int(env, argv[0], &family) || (family != 4 && family != 6))
    return throw_coded(env, "ERR_NATIVE_BAD_ARGUMENT", "open: family must be 4 or 6.");
  if (!get_int(env, argv[1], &protocol) || protocol < 0 || protocol > 255)
    return throw_coded(env, "ERR_NATIVE_BAD_ARGUMENT", "open: protocol must be an IP protocol number (0-255).");
  if (!get_int(env, argv[2], &receive_bytes) || receive_bytes < 0)
    return throw_coded(env, "ERR_NATIVE_BAD_ARGUMENT", "open: receiveBufferBytes must be a non-negative integer.");
  if (napi_get_value_bool(env, argv[3], &header_included) != napi_ok)
    return throw_coded(env, "ERR_NATIVE_BAD_ARGUMENT", "open: headerIncluded must be a boolean.");
  napi_valuetype fifth = napi_undefined;
  if (argc >= 5) CHECK(napi_typeof(env, argv[4], &fifth));
  if (fifth != napi_undefined && (!get_int(env, argv[4], &send_bytes) || send_bytes < 0))
    return throw_coded(env, "ERR_NATIVE_BAD_ARGUMENT", "open: sendBufferBytes must be a non-negative integer.");

  int af = family == 4 ? AF_INET : AF_INET6;
  int fd = socket(af, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) return throw_errno(env, "socket", errno);
  int one = 1;
  if (family == 4 && header_included && setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof one) < 0) {
    int error = errno;
    close(fd);
    return throw_errno(env, "setsockopt(IP_HDRINCL)", error);
  }
  /*
   * The send-only socket (IPPROTO_RAW): without IP_RECVERR the kernel turns
   * ENOBUFS (the neighbour table full, a full device queue) into success and
   * drops the packet. No ICMP error reaches an IPPROTO_RAW socket, so its
   * error queue, which IP_RECVERR also fills, stays empty.
   */
  if (family == 4 && protocol == IPPROTO_RAW && setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof one) < 0) {
    int error = errno;
    close(fd);
    return throw_errno(env, "setsockopt(IP_RECVERR)", error);
  }
  if (family == 6 && setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one) < 0) {
    int error = errno;
    close(fd);
    return throw_errno(env, "setsockopt(IPV6_RECVHOPLIMIT)", error);
  }
  if (receive_bytes > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &receive_bytes, sizeof receive_bytes) < 0) {
    /* Without CAP_NET_ADMIN: as much as the system's limit allows. */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_bytes, sizeof receive_bytes);
  }
  /* Room for packets the kernel holds after sendmmsg returned (packet-listener.ts's sweep socket). */
  if (send_bytes > 0 && setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &send_bytes, sizeof send_bytes) < 0) {
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &send_bytes, sizeof send_bytes);
  }

  channel_t *channel = calloc(1, sizeof *channel);
  if (!channel) {
    close(fd);
    return throw_errno(env, "open", ENOMEM);
  }
  channel->fd = fd;
  channel->family = af;
  channel->env = env;
  napi_value handle;
  if (napi_create_object(env, &handle) != napi_ok || napi_wrap(env, handle, channel, channel_finalize, NULL, NULL) != napi_ok) {
    close(fd);
    free(channel);
    return throw_coded(env, "ERR_NATIVE_INTERNAL", "open: could not create the handle.");
  }
  return handle;
}

/* watch(handle, onReadable | null): starts (function) or stops (null) calling onReadable(status) when readable. */
static napi_value js_watch(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) return throw_coded(env, "ERR_NATIVE_BAD_ARGUMENT", "watch: expected (handle, callback | null).");
  channel_t *channel = open_channel_arg(env, argv[0]);
  if (!channel) return NULL;
  napi_valuetype type;
  CHECK(napi_typeof(env, argv[1], &type));
  if (type == napi_null || type == napi_undefined) {
    if (channel->poll && channel->watching) uv_poll_stop(channel->poll);
    channel->watching = 0;
    return NULL;
  }
  if (type != napi_function) return throw_coded(env, "ERR_NATIVE_BAD_ARGUMENT", "watch: the callback must be a function or null.");
  if (channel->on_readable) napi_delete_reference(env, channel->on_readable);
  CHECK(napi_create_reference(env, argv[1], 1, &channel->on_readable));
  if (!channel->async_context) {
    napi_value name;
    CHECK(napi_create_string_utf8(env, "portscout:raw-io", NAPI_AUTO_LENGTH, &name));
    CHECK(napi_async_init(env, NULL, name, &channel->async_context));
  }
  if (!channel->poll) {
    uv_loop_t *loop;
    CHECK(napi_get_uv_event_loop(env, &loop));
    channel->poll = malloc(sizeof *channel->poll);
    if (!channel->poll) return throw_errno(env, "watch", ENOMEM);
    int rc = uv_poll_init(loop, channel->poll, channel->fd);
    if (rc != 0) {
      free(channel->poll);
      channel->poll = NULL;
      return throw_coded(env, "ERR_NATIVE_POLL", uv_strerror(rc));
    }
    channel->poll->data = channel;
  }
  int rc = uv_poll_start(channel->poll, UV_READABLE, on_poll);
  if (rc != 0) return throw_coded(env, "ERR_NATIVE_POLL", uv_strerror(rc));
  channel->watching = 1;
  return NULL;
}

/* Writes `address` (4 or 16 bytes at `bytes`) into a sockaddr of the channel's family. */
static socklen_t fill_address(const channel_t *channel, const uint8_t *bytes, struct sockaddr_storage *out) {
  memset(out, 0, sizeof *out);
  if (channel->family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *)out;
    in->sin_family = AF_INET;
    memcpy(&in->sin_addr, bytes, 4);
    return sizeof *in;
  }
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
  in6->sin6_family = AF_INET6;
  memcpy(&in6->sin6_addr, bytes, 16);
  return sizeof *in6;
}

/* A batch of packets, its message headers built: what sendmmsg takes. */
typedef struct batch {
  int count;
  struct mmsghdr *messages;
  struct iovec *vectors;
  struct sockaddr_storage *targets;
} batch_t;

static void batch_free(batch_t *batch) {
  free(batch->messages);
  free(batch->vectors);
  free(batch->targets);
  batch->messages = NULL;
  batch->vectors = NULL;
  batch->targets = NULL;
}

/*
 * Reads (handle, packets: Uint8Array, layout: Int32Array, addresses: Uint8Array,
 * families: Uint8Array, count) and builds the batch; throws and returns NULL on
 * bad input. layout holds (offset, length) per packet in `packets`; addresses
 * 16 bytes per packet; families the family (4 or 6) each address was written for.
 */
static channel_t *read_batch(napi_env env, napi_value *argv, batch_t *batch) {
  channel_t *channel = open_channel_arg(env, argv[0]);
  if (!channel) return NULL;
  uint8_t *packets, *addresses, *families;
  size_t packets_length, addresses_length, families_length, layout_count;
  int32_t *layout;
  int32_t count;
  if (!get_bytes(env, argv[1], &packets, &packets_length)) return (void *)throw_coded(env, "ERR_NATIVE_BAD_ARGUMENT", "sendBatch: packets must be a Uint8Array.");
  if (!get_int32_array(env, argv[2], &layout, &layout_count)) return (void *)throw_coded(env, "ERR_NATIVE_BAD_ARGUMENT", "sendBatch: layout must be an Int32Array.");
  if (!get_bytes(env, argv[3], &addresses, &addresses_length)) return (void *)throw_coded(env, "ERR_NATIVE_BAD_ARGUMENT", "sendBatch: addresses must be a Uint8Array.");
  if (!get_bytes(env, argv[4], &families, &families_length)) return (void *)throw_coded(env, "ERR_NATIVE_BAD_ARGUMENT", "sendBatch: families must be a Uint8Array.");
  if (!get_int(env, argv[5], &count) || count < 0) return (void *)throw_coded(env, "ERR_NATIVE_BAD_ARGUMENT", "sendBatch: count must be a non-negative integer.");
  if (count > MAX_BATCH) return (void *)throw_coded(env, "ERR_NATIVE_BATCH_TOO_LARGE", "sendBatch: at most 256 packets per batch.");
  if ((size_t)count * 2 > layout_count || (size_t)count * ADDRESS_BYTES > addresses_length || (size_t)count > families_length)
    return (void *)throw_coded(env, "ERR_NATIVE_BATCH_TOO_LARGE", "sendBatch: count is larger than the layout, addresses or families given.");
  int want = channel->family == AF_INET ? 4 : 6;
  for (int32_t i = 0; i < count; i++) {
    int32_t offset = layout[2 * i], length = layout[2 * i + 1];
    if (length > MAX_PACKET) return (void *)throw_coded(env, "ERR_NATIVE_PACKET_TOO_LARGE", "sendBatch: a packet is larger than 65,535 bytes.");
    if (offset < 0 || length <= 0 || (size_t)offset + (size_t)length > packets_length)
      return (void *)throw_coded(env, "ERR_NATIVE_BAD_ARGUMENT", "sendBatch: a packet's offset and length lie outside the packets buffer.");
    if (families[i] != want) return (void *)throw_coded(env, "ERR_NATIVE_FAMILY_MISMATCH", want == 4 ? "sendBatch: an IPv6 address on an IPv4 socket." : "sendBatch: an IPv4 address on an IPv6 socket.");
  }
  batch->count = count;
  size_t slots = count > 0 ? (size_t)count : 1;
  batch->messages = calloc(slots, sizeof *batch->messages);
  batch->vectors = calloc(slots, sizeof *batch->vectors);
  batch->targets = calloc(slots, sizeof *batch->targets);
  if (!batch->messages || !batch->vectors || !batch->targets) {
    batch_free(batch);
    return (void *)throw_errno(env, "sendBatch", ENOMEM);
  }
  for (int32_t i = 0; i < count; i++) {
    batch->vectors[i].iov_base = packets + layout[2 * i];
    batch->vectors[i].iov_len = (size_t)layout[2 * i + 1];
    batch->messages[i].msg_hdr.msg_name = &batch->targets[i];
    batch->messages[i].msg_hdr.msg_namelen = fill_address(channel, addresses + (size_t)i * ADDRESS_BYTES, &batch->targets[i]);
    batch->messages[i].msg_hdr.msg_iov = &batch->vectors[i];
    batch->messages[i].msg_hdr.msg_iovlen = 1;
  }
  return channel;
}

static int send_batch(int fd, batch_t *batch) {
  if (batch->count == 0) return 0;
  int sent = sendmmsg(fd, batch->messages, (unsigned)batch->count, MSG_DONTWAIT);
  return sent < 0 ? -errno : sent;
}

/*
 * sendBatch(handle, packets, layout, addresses, families, count), on this thread.
 * Returns how many packets the kernel took from the front of the batch (as
 * sendmmsg), or -errno when it refused the first one (-EAGAIN: try again later).
 */
static napi_value js_send_batch(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6) return throw_coded(env, "ERR_NATIVE_BAD_ARGUMENT", "sendBatch: expected (handle, packets, layout, addresses, families, count).");
  batch_t batch = {0};
  channel_t *channel = read_batch(env, argv, &batch);
  if (!channel) return NULL;
  int result = send_batch(channel->fd, &batch);
  batch_free(&batch);
  napi_value value;
  CHECK(napi_create_int32(env, result, &value));
  return value;
}

/* One sendBatchAsync call, from the main thread to the thread pool and back. */
typedef struct send_work {
  napi_async_work work;
  napi_ref handle;
  napi_ref callback;
  channel_t *channel;
  int fd;
  batch_t batch;
  int result;
} send_work_t;

static void send_execute(napi_env env, void *data) {
  send_work_t *job = data;
  job->result = send_batch(job->fd, &job->batch);
}

static void send_complete(napi_env env, napi_status status, void *data) {
  send_work_t *job = data;
  channel_t *channel = job->channel;
  channel->inflight--;
  if (channel->closed && channel->inflight == 0 && channel->fd >= 0) {
    close(channel->fd);
    channel->fd = -1;
  }
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) == napi_ok) {
    napi_value callback, global, argv[1], result;
    if (napi_get_reference_value(env, job->callback, &callback) == napi_ok && callback && napi_get_global(env, &global) == napi_ok &&
        napi_create_int32(env, status == napi_ok ? job->result : -ECANCELED, &argv[0]) == napi_ok) {
      if (napi_call_function(env, global, callback, 1, argv, &result) == napi_pending_exception) {
        napi_value error;
        if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
      }
    }
    napi_close_handle_scope(env, scope);
  }
  napi_delete_reference(env, job->callback);
  napi_delete_reference(env, job->handle);
  napi_delete_async_work(env, job->work);
  batch_free(&job->batch);
  free(job);
}

/*
 * sendBatchAsync(handle, packets, layout, addresses, families, count, done(result)):
 * the same send on a thread of the libuv pool, so that the kernel's work (on
 * a veth link, the receiving stack's too) runs beside JavaScript. The buffers
 * must not change until done is called (with sendBatch's result).
 */
static napi_value js_send_batch_async(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 7) return throw_coded(env, "ERR_NATIVE_BAD_ARGUMENT", "sendBatchAsync: expected (handle, packets, layout, addresses, families, count, done).");
  napi_valuetype type;
  CHECK(napi_typeof(env, argv[6], &type));
  if (type != napi_function) return throw_coded(env, "ERR_NATIVE_BAD_ARGUMENT", "sendBatchAsync: done must be a function.");
  send_work_t *job = calloc(1, sizeof *job);
  if (!job) return throw_errno(env, "sendBatchAsync", ENOMEM);
  channel_t *channel = read_batch(env, argv, &job->batch);
  if (!channel) {
    free(job);
    return NULL;
  }
  job->channel = channel;
  job->fd = channel->fd;
  napi_value name;
  if (napi_create_reference(env, argv[0], 1, &job->handle) != napi_ok || napi_create_reference(env, argv[6], 1, &job->callback) != napi_ok ||
      napi_create_string_utf8(env, "portscout:sendmmsg", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, send_execute, send_complete, job, &job->work) != napi_ok ||
      napi_queue_async_work(env, job->work) != napi_ok) {
    if (job->callback) napi_delete_reference(env, job->callback);
    if (job->handle) napi_delete_reference(env, job->handle);
    batch_free(&job->batch);
    free(job);
    return throw_coded(env, "ERR_NATIVE_INTERNAL", "sendBatchAsync: could not queue the work.");
  }
  channel->inflight++;
  return NULL;
}

/*
 * recvBatch(handle, slab: Uint8Array, slotBytes, maxCount, meta: Int32Array, sources: Uint8Array)
 *   receives up to maxCount waiting datagrams, datagram i into
 *   slab[i * slotBytes ...]; meta[3i..3i+2] = length, flags (1: truncated),
 *   hop limit (IPv6; -1 when unknown); sources 16 bytes per datagram.
 * Returns how many were read (0 when none waits), or -errno.
 */
static napi_value js_recv_batch(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6) return throw_coded(env, "ERR_NATIVE_BAD_ARGUMENT", "recvBatch: expected (handle, slab, slotBytes, maxCount, meta, sources).");
  channel_t *channel = open_channel_arg(env, argv[0]);
  if (!channel) return NULL;
  uint8_t *slab, *sources;
  size_t slab_length, sources_length, meta_count;
  int32_t *meta;
  int32_t slot_bytes, max_count;
  if (!get_bytes(env, argv[1], &slab, &slab_length)) return throw_coded(env, "ERR_NATIVE_BAD_ARGUMENT", "recvBatch: slab must be a Uint8Array.");
  if (!get_int(env, argv[2], &slot_bytes) || slot_bytes <= 0) return throw_coded(env, "ERR_NATIVE_BAD_ARGUMENT", "recvBatch: slotBytes must be a positive integer.");
  if (!get_int(env, argv[3], &max_count) || max_count <= 0) return throw_coded(env, "ERR_NATIVE_BAD_ARGUMENT", "recvBatch: maxCount must be a positive integer.");
  if (!get_int32_array(env, argv[4], &meta, &meta_count)) return throw_coded(env, "ERR_NATIVE_BAD_ARGUMENT", "recvBatch: meta must be an Int32Array.");
  if (!get_bytes(env, argv[5], &sources, &sources_length)) return throw_coded(env, "ERR_NATIVE_BAD_ARGUMENT", "recvBatch: sources must be a Uint8Array.");
  if (max_count > MAX_BATCH) return throw_coded(env, "ERR_NATIVE_BATCH_TOO_LARGE", "recvBatch: at most 256 datagrams per batch.");
  if ((size_t)max_count * (size_t)slot_bytes > slab_length || (size_t)max_count * META_FIELDS > meta_count ||
      (size_t)max_count * ADDRESS_BYTES > sources_length)
    return throw_coded(env, "ERR_NATIVE_BATCH_TOO_LARGE", "recvBatch: maxCount is larger than the slab, meta or sources given.");

  struct mmsghdr messages[MAX_BATCH];
  struct iovec vectors[MAX_BATCH];
  struct sockaddr_storage from[MAX_BATCH];
  /* Room for one IPV6_HOPLIMIT control message per datagram. */
  union {
    char bytes[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control[MAX_BATCH];
  int ipv6 = channel->family == AF_INET6;
  for (int32_t i = 0; i < max_count; i++) {
    vectors[i].iov_base = slab + (size_t)i * (size_t)slot_bytes;
    vectors[i].iov_len = (size_t)slot_bytes;
    memset(&messages[i], 0, sizeof messages[i]);
    messages[i].msg_hdr.msg_name = &from[i];
    messages[i].msg_hdr.msg_namelen = sizeof from[i];
    messages[i].msg_hdr.msg_iov = &vectors[i];
    messages[i].msg_hdr.msg_iovlen = 1;
    if (ipv6) {
      messages[i].msg_hdr.msg_control = control[i].bytes;
      messages[i].msg_hdr.msg_controllen = sizeof control[i].bytes;
    }
  }
  int received = recvmmsg(channel->fd, messages, (unsigned)max_count, MSG_DONTWAIT, NULL);
  if (received < 0) {
    int error = errno;
    napi_value result;
    CHECK(napi_create_int32(env, error == EAGAIN || error == EWOULDBLOCK ? 0 : -error, &result));
    return result;
  }
  for (int i = 0; i < received; i++) {
    struct msghdr *header = &messages[i].msg_hdr;
    int32_t hop_limit = -1;
    if (ipv6) {
      for (struct cmsghdr *c = CMSG_FIRSTHDR(header); c; c = CMSG_NXTHDR(header, c)) {
        if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
          int value;
          memcpy(&value, CMSG_DATA(c), sizeof value);
          hop_limit = value;
        }
      }
    }
    uint8_t *source = sources + (size_t)i * ADDRESS_BYTES;
    memset(source, 0, ADDRESS_BYTES);
    if (from[i].ss_family == AF_INET) memcpy(source, &((struct sockaddr_in *)&from[i])->sin_addr, 4);
    else if (from[i].ss_family == AF_INET6) memcpy(source, &((struct sockaddr_in6 *)&from[i])->sin6_addr, 16);
    meta[META_FIELDS * i] = (int32_t)messages[i].msg_len;
    meta[META_FIELDS * i + 1] = (header->msg_flags & MSG_TRUNC) ? FLAG_TRUNCATED : 0;
    meta[META_FIELDS * i + 2] = hop_limit;
  }
  napi_value result;
  CHECK(napi_create_int32(env, received, &result));
  return result;
}

/* close(handle): stops watching and closes the socket; closing twice is allowed. */
static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *data = NULL;
  if (argc < 1 || napi_unwrap(env, argv[0], &data) != napi_ok || !data)
    return throw_coded(env, "ERR_NATIVE_BAD_HANDLE", "close: the argument is not a raw I/O handle.");
  channel_close(data);
  return NULL;
}

/* fd(handle): the socket's descriptor (for tests and /proc lookups). */
static napi_value js_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return throw_coded(env, "ERR_NATIVE_BAD_HANDLE", "fd: expected a handle.");
  channel_t *channel = open_channel_arg(env, argv[0]);
  if (!channel) return NULL;
  napi_value result;
  CHECK(napi_create_int32(env, channel->fd, &result));
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"watch", NULL, js_watch, NULL, NULL, NULL, napi_default, NULL},
      {"sendBatch", NULL, js_send_batch, NULL, NULL, NULL, napi_default, NULL},
      {"sendBatchAsync", NULL, js_send_batch_async, NULL, NULL, NULL, napi_default, NULL},
      {"recvBatch", NULL, js_recv_batch, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
      {"fd", NULL, js_fd, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value max_batch;
  if (napi_create_int32(env, MAX_BATCH, &max_batch) != napi_ok) return NULL;
  if (napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties) != napi_ok) return NULL;
  napi_set_named_property(env, exports, "MAX_BATCH", max_batch);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
