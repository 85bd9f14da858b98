/*
 * sendmmsg(2) for Node's UDP sockets: several datagrams leave in one system call.
 *
 * Why: on the virtual machines dialgate is measured on, each system call is expensive, and a
 * proxy under load produces a dozen datagrams per turn of the event loop (every request and
 * response it reads in a turn is forwarded in that same turn). Node's dgram has no batched send,
 * so the transport queues a turn's datagrams and hands them here once (src/sip/native/
 * batched-udp-send.ts). Linux only; elsewhere the module does not build and the transport sends
 * one datagram at a time through dgram.
 *
 * sendBatch(fd, items, start, count) -> number
 *   items: a flat array of (Uint8Array data, number port, string ip-literal) triples;
 *   sends items[start .. start+count) in order. Returns how many left (> 0), or -errno when the
 *   first of them could not be sent (the caller decides: EAGAIN means the socket is full,
 *   anything else means that one datagram is lost).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <string.h>
#include <sys/socket.h>

#define BATCH_MAX 64
#define HOST_MAX 64 /* longest IPv6 literal is 45 characters */

static int read_int(napi_env env, napi_value v, int32_t* out) {
  return napi_get_value_int32(env, v, out) == napi_ok;
}

/* Fills one message header; 0 when the item is not a (bytes, port, ip literal) triple. */
static int fill(napi_env env, napi_value items, uint32_t i, struct mmsghdr* mh, struct iovec* io,
                struct sockaddr_storage* sa) {
  napi_value data, port_v, host_v;
  if (napi_get_element(env, items, 3 * i, &data) != napi_ok) return 0;
  if (napi_get_element(env, items, 3 * i + 1, &port_v) != napi_ok) return 0;
  if (napi_get_element(env, items, 3 * i + 2, &host_v) != napi_ok) return 0;
  napi_typedarray_type type;
  size_t length;
  void* bytes;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, data, &type, &length, &bytes, &buffer, &offset) != napi_ok) return 0;
  if (type != napi_uint8_array) return 0;
  int32_t port;
  if (!read_int(env, port_v, &port) || port <= 0 || port > 65535) return 0;
  char host[HOST_MAX];
  size_t host_len;
  if (napi_get_value_string_utf8(env, host_v, host, sizeof host, &host_len) != napi_ok) return 0;
  if (host_len >= sizeof host - 1) return 0;

  memset(sa, 0, sizeof *sa);
  memset(mh, 0, sizeof *mh);
  struct sockaddr_in* v4 = (struct sockaddr_in*)sa;
  struct sockaddr_in6* v6 = (struct sockaddr_in6*)sa;
  if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    mh->msg_hdr.msg_namelen = sizeof *v4;
  } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)port);
    mh->msg_hdr.msg_namelen = sizeof *v6;
  } else {
    return 0;
  }
  io->iov_base = bytes;
  io->iov_len = length;
  mh->msg_hdr.msg_name = sa;
  mh->msg_hdr.msg_iov = io;
  mh->msg_hdr.msg_iovlen = 1;
  return 1;
}

static napi_value send_batch(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_value result;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4) {
    napi_throw_type_error(env, NULL, "sendBatch(fd, items, start, count)");
    return NULL;
  }
  int32_t fd, start, count;
  bool is_array;
  if (!read_int(env, argv[0], &fd) || !read_int(env, argv[2], &start) || !read_int(env, argv[3], &count) ||
      napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array || fd < 0 || start < 0 || count < 0) {
    napi_throw_type_error(env, NULL, "sendBatch(fd, items, start, count)");
    return NULL;
  }
  struct mmsghdr mh[BATCH_MAX];
  struct iovec io[BATCH_MAX];
  struct sockaddr_storage sa[BATCH_MAX];
  int32_t sent = 0;
  while (sent < count) {
    /* A malformed item ends the batch before it; alone, it is reported as EINVAL. */
    int n = 0;
    while (n < BATCH_MAX && sent + n < count && fill(env, argv[1], (uint32_t)(start + sent + n), &mh[n], &io[n], &sa[n])) n++;
    if (n == 0) {
      if (sent > 0) break;
      napi_create_int32(env, -EINVAL, &result);
      return result;
    }
    int r;
    do r = sendmmsg(fd, mh, (unsigned int)n, 0);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
      if (sent > 0) break;
      napi_create_int32(env, -errno, &result);
      return result;
    }
    sent += r;
    if (r < n) break; /* the next one failed: the caller's next call reports why */
  }
  napi_create_int32(env, sent, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "sendBatch", NAPI_AUTO_LENGTH, send_batch, NULL, &fn);
  napi_set_named_property(env, exports, "sendBatch", fn);
  return exports;
}
