"""spwire - nanomsg's SP protocol over ipc:// (the event bus), the control socket's framing,
and the little msgpack the control socket speaks, written out by hand so a test can be a
well-behaved client or a broken one.

Wire format (nanomsg's ipc transport, RFC sp-tcp-mapping with an ipc message-type byte):
each side first sends 8 bytes "\\0SP\\0" + protocol id (u16 BE) + 2 zero bytes; every
message is then 1 type byte (1: message) + its length (u64 BE) + the body. A REQ body
opens with a 4-byte request id whose top bit is set; the REP reply echoes it.
"""
import os
import socket
import struct
import time

NN_PUB, NN_SUB, NN_REQ, NN_REP = 32, 33, 48, 49


def header(proto):
    return b"\0SP\0" + struct.pack(">H", proto) + b"\0\0"


def frame(body):
    return b"\x01" + struct.pack(">Q", len(body)) + body


def ipc_path(url):
    assert url.startswith("ipc://"), url
    return url[len("ipc://"):]


def connect(url, timeout=5.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # blocking connect: a non-blocking one fails with EAGAIN while the listener's backlog
    # is full, which is the agent being slow to accept, not refusing
    s.connect(ipc_path(url))
    s.settimeout(timeout)
    return s


def recv_exact(s, n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise ConnectionError("peer closed after %d of %d bytes" % (len(out), n))
        out += chunk
    return out


def handshake(s, proto, peer):
    s.sendall(header(proto))
    got = recv_exact(s, 8)
    if got != header(peer):
        raise ConnectionError("unexpected SP header %r" % got)


def recv_msg(s):
    kind, size = struct.unpack(">BQ", recv_exact(s, 9))
    if kind != 1:
        raise ConnectionError("unexpected message type %d" % kind)
    return recv_exact(s, size)


# ---- msgpack: the subset the control socket uses ----

def pack(v):
    if v is None:
        return b"\xc0"
    if v is True:
        return b"\xc3"
    if v is False:
        return b"\xc2"
    if isinstance(v, int):
        if 0 <= v < 128:
            return bytes([v])
        return b"\xcf" + struct.pack(">Q", v)
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        n = len(v)
        if n < 32:
            return bytes([0xa0 | n]) + v
        if n < 256:
            return b"\xd9" + bytes([n]) + v
        if n < 65536:
            return b"\xda" + struct.pack(">H", n) + v
        return b"\xdb" + struct.pack(">I", n) + v
    if isinstance(v, dict):
        assert len(v) < 16
        return bytes([0x80 | len(v)]) + b"".join(pack(k) + pack(x) for k, x in v.items())
    raise TypeError(type(v))


def unpack(b, i=0):
    """(value, next offset) of the msgpack object at b[i:]."""
    t = b[i]
    if t < 0x80:
        return t, i + 1
    if t >= 0xe0:
        return t - 0x100, i + 1
    if 0x80 <= t <= 0x8f:
        return _map(b, i + 1, t & 0x0f)
    if 0x90 <= t <= 0x9f:
        return _arr(b, i + 1, t & 0x0f)
    if 0xa0 <= t <= 0xbf:
        n = t & 0x1f
        return b[i + 1:i + 1 + n].decode(errors="replace"), i + 1 + n
    if t == 0xc0:
        return None, i + 1
    if t in (0xc2, 0xc3):
        return t == 0xc3, i + 1
    fixed = {0xcc: ">B", 0xcd: ">H", 0xce: ">I", 0xcf: ">Q", 0xd0: ">b", 0xd1: ">h", 0xd2: ">i", 0xd3: ">q",
             0xca: ">f", 0xcb: ">d"}
    if t in fixed:
        size = struct.calcsize(fixed[t])
        return struct.unpack_from(fixed[t], b, i + 1)[0], i + 1 + size
    lens = {0xd9: ">B", 0xda: ">H", 0xdb: ">I", 0xc4: ">B", 0xc5: ">H", 0xc6: ">I"}
    if t in lens:
        size = struct.calcsize(lens[t])
        n = struct.unpack_from(lens[t], b, i + 1)[0]
        raw = b[i + 1 + size:i + 1 + size + n]
        return (raw.decode(errors="replace") if t >= 0xd9 else raw), i + 1 + size + n
    if t in (0xdc, 0xdd):
        fmt = ">H" if t == 0xdc else ">I"
        return _arr(b, i + 1 + struct.calcsize(fmt), struct.unpack_from(fmt, b, i + 1)[0])
    if t in (0xde, 0xdf):
        fmt = ">H" if t == 0xde else ">I"
        return _map(b, i + 1 + struct.calcsize(fmt), struct.unpack_from(fmt, b, i + 1)[0])
    raise ValueError("msgpack type 0x%02x" % t)


def _arr(b, i, n):
    out = []
    for _ in range(n):
        v, i = unpack(b, i)
        out.append(v)
    return out, i


def _map(b, i, n):
    out = {}
    for _ in range(n):
        k, i = unpack(b, i)
        v, i = unpack(b, i)
        out[k] = v
    return out, i


class Control:
    """A control client (core/bus/ctl_unix.c): one request per connection, each message a
    4-byte big-endian length then the bytes; request() sends {cmd...} and returns the reply."""

    def __init__(self, url, timeout=10.0):
        self.path = ipc_path(url)
        self.timeout = timeout

    def request_raw(self, payload):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(self.path)
            s.settimeout(self.timeout)
            s.sendall(struct.pack(">I", len(payload)) + payload)
            n = struct.unpack(">I", recv_exact(s, 4))[0]
            return recv_exact(s, n)
        finally:
            s.close()

    def request(self, **req):
        return unpack(self.request_raw(pack(req)))[0]

    def close(self):
        pass


def timed_status(url, timeout=10.0):
    """(seconds, reply) of one status request on a fresh connection."""
    t0 = time.monotonic()
    c = Control(url, timeout)
    try:
        reply = c.request(cmd="status")
    finally:
        c.close()
    return time.monotonic() - t0, reply
