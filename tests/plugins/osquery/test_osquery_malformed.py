"""Plugins lane: vigil.ext under bad bytes. Malformed frames, truncated strings, huge
lengths and counts, deep nesting, unknown methods: the extension answers or drops that
one connection, at once, and goes on serving everyone else.

Well-formed messages are written by python3-thrift's own TBinaryProtocol; broken ones
are cut from them or written by hand.
"""
import os
import random
import shutil
import socket
import struct
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import osqtest as oq  # noqa: E402

CALL, REPLY, EXCEPTION = 1, 2, 3
STRUCT, MAP, STRING, I32, STOP = 12, 13, 11, 8, 0
UNKNOWN_METHOD = 1


def message(name, mtype=CALL, seqid=7, args=None):
    """A whole message as python3-thrift writes it: header, then the args struct."""
    from thrift.protocol import TBinaryProtocol
    from thrift.transport import TTransport
    buf = TTransport.TMemoryBuffer()
    p = TBinaryProtocol.TBinaryProtocol(buf)
    p.writeMessageBegin(name, mtype, seqid)
    if args is None:
        p.writeStructBegin("args")
        p.writeFieldStop()
        p.writeStructEnd()
    else:
        args.write(p)
    p.writeMessageEnd()
    return buf.getvalue()


def call_message(registry, item, request, seqid=7):
    args = oq.gen().Extension.call_args(registry=registry, item=item, request=request)
    return message("call", args=args, seqid=seqid)


def header(name, mtype=CALL, seqid=7):
    """A strict message header written by hand: version word with the type, name, seqid."""
    return struct.pack(">Ii", 0x80010000 | mtype, len(name)) + name + struct.pack(">i", seqid)


class Malformed(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        oq.require()
        cls.tmp = tempfile.mkdtemp(prefix="vigil-osq-bad-")
        nobody = "ipc://" + os.path.join(cls.tmp, "nobody.sock")
        cls.manager, cls.ext, cls.uuid, cls.path = oq.start_registered(
            cls.tmp, env={"VIGIL_BUS": nobody, "VIGIL_CONTROL": nobody})

    @classmethod
    def tearDownClass(cls):
        rc = cls.ext.stop() if getattr(cls, "ext", None) else None
        if getattr(cls, "manager", None):
            cls.manager.stop()
        shutil.rmtree(getattr(cls, "tmp", "/nonexistent"), ignore_errors=True)
        # after all the abuse the extension still stops cleanly (and, under ASan, leak-free)
        if rc not in (None, 0):
            raise AssertionError("vigil.ext exited %s:\n%s" % (rc, cls.ext.log()))

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(self.path)
        return s

    def read_until_closed(self, s, limit=2.0):
        """Everything the extension sends until it closes; fails if it keeps it open."""
        s.settimeout(limit)
        data = b""
        start = time.time()
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                self.fail("the extension kept the connection open for %.1f s" % (time.time() - start))
            if not chunk:
                return data
            data += chunk

    def assert_dropped(self, payload, close_write=False):
        s = self.connect()
        s.sendall(payload)
        if close_write:
            s.shutdown(socket.SHUT_WR)
        self.assertEqual(self.read_until_closed(s), b"")
        s.close()
        self.assert_serving()

    def assert_serving(self):
        with oq.Client(self.path) as c:
            st = c.ping()
        self.assertEqual((st.code, st.message, st.uuid), (0, "pong", self.uuid))
        self.assertIsNone(self.ext.proc.poll(), self.ext.log())

    def read_reply(self, s):
        from thrift.protocol import TBinaryProtocol
        from thrift.transport import TSocket, TTransport
        t = TSocket.TSocket()
        t.setHandle(s)
        return TBinaryProtocol.TBinaryProtocol(TTransport.TBufferedTransport(t))

    # --- dropped ----------------------------------------------------------------------

    def test_garbage_is_dropped(self):
        self.assert_dropped(b"GET / HTTP/1.0\r\n\r\n")

    def test_a_non_strict_message_is_dropped(self):
        # the old header: name length first, then the type byte
        self.assert_dropped(struct.pack(">i", 4) + b"ping" + b"\x01" + struct.pack(">i", 1) + b"\x00")

    def test_a_reply_sent_as_a_request_is_dropped(self):
        self.assert_dropped(message("ping", mtype=REPLY))

    def test_a_truncated_string_is_dropped_when_the_peer_closes(self):
        self.assert_dropped(struct.pack(">Ii", 0x80010001, 100) + b"short", close_write=True)

    def test_a_truncated_call_is_dropped_when_the_peer_closes(self):
        whole = call_message("table", "vigil_alerts", {"action": "columns"})
        for cut in (3, 12, len(whole) // 2, len(whole) - 1):
            self.assert_dropped(whole[:cut], close_write=True)

    def test_a_huge_string_length_is_dropped_without_waiting_for_it(self):
        self.assert_dropped(struct.pack(">I", 0x80010001) + struct.pack(">i", 0x7fffffff) + b"pi")

    def test_a_negative_length_is_dropped(self):
        self.assert_dropped(struct.pack(">I", 0x80010001) + struct.pack(">i", -2) + b"ping")

    def test_a_huge_map_count_is_dropped_without_waiting_for_it(self):
        payload = header(b"call") + bytes([MAP]) + struct.pack(">h", 3) + bytes([STRING, STRING]) + \
            struct.pack(">i", 0x7ffffff0)
        self.assert_dropped(payload)

    def test_a_request_over_the_size_limit_is_dropped_early(self):
        payload = header(b"call") + bytes([STRING]) + struct.pack(">h", 1) + struct.pack(">i", 2 << 20) + b"x" * 100
        self.assert_dropped(payload)

    def test_deep_nesting_is_dropped(self):
        nest = (bytes([STRUCT]) + struct.pack(">h", 1)) * 200
        self.assert_dropped(header(b"ping") + nest + b"\x00" * 201)

    def test_an_unknown_field_type_is_dropped(self):
        self.assert_dropped(header(b"ping") + bytes([99]) + struct.pack(">h", 1) + b"\x00" * 8)

    def test_random_bytes_never_stop_the_extension(self):
        rnd = random.Random(7)
        for i in range(150):
            n = rnd.randint(1, 300)
            data = bytes(rnd.getrandbits(8) for _ in range(n))
            if i % 3 == 0:      # a valid strict header in front, so the fuzz reaches the arguments
                data = header(rnd.choice([b"ping", b"call", b"x"])) + data
            s = self.connect()
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            self.read_until_closed(s, limit=5)
            s.close()
        self.assert_serving()

    def test_a_stalled_partial_request_holds_up_nobody(self):
        stalled = self.connect()
        stalled.sendall(call_message("table", "vigil_alerts", {"action": "columns"})[:20])
        start = time.time()
        for _ in range(10):
            self.assert_serving()
        self.assertLess(time.time() - start, 5)
        stalled.close()

    # --- answered ---------------------------------------------------------------------

    def test_an_unknown_method_is_answered_with_unknown_method_and_the_connection_kept(self):
        from thrift.Thrift import TApplicationException
        s = self.connect()
        s.sendall(message("frobnicate", seqid=41))
        p = self.read_reply(s)
        name, mtype, seqid = p.readMessageBegin()
        self.assertEqual((name, mtype, seqid), ("frobnicate", EXCEPTION, 41))
        x = TApplicationException()
        x.read(p)
        p.readMessageEnd()
        self.assertEqual((x.type, x.message), (UNKNOWN_METHOD, "Unknown function frobnicate"))
        # the same connection still serves
        s.sendall(message("ping", seqid=42))
        name, mtype, seqid = p.readMessageBegin()
        self.assertEqual((name, mtype, seqid), ("ping", REPLY, 42))
        s.close()

    def test_manager_methods_are_unknown_to_an_extension(self):
        from thrift.Thrift import TApplicationException
        s = self.connect()
        s.sendall(message("extensions"))
        p = self.read_reply(s)
        _, mtype, _ = p.readMessageBegin()
        x = TApplicationException()
        x.read(p)
        self.assertEqual((mtype, x.type), (EXCEPTION, UNKNOWN_METHOD))
        s.close()

    def test_pipelined_requests_are_answered_in_order(self):
        s = self.connect()
        s.sendall(message("ping", seqid=1) + call_message("table", "vigil_alerts", {"action": "columns"}, seqid=2) +
                  message("ping", seqid=3))
        p = self.read_reply(s)
        got = []
        for _ in range(3):
            name, mtype, seqid = p.readMessageBegin()
            result = (oq.gen().Extension.ping_result if name == "ping" else oq.gen().Extension.call_result)()
            result.read(p)
            p.readMessageEnd()
            got.append((name, mtype, seqid))
        self.assertEqual(got, [("ping", REPLY, 1), ("call", REPLY, 2), ("ping", REPLY, 3)])
        s.close()

    def test_fields_of_unexpected_type_are_skipped(self):
        # call(registry as an i32, item, request): the registry is then missing
        payload = header(b"call") + bytes([I32]) + struct.pack(">hi", 1, 5) + \
            bytes([STRING]) + struct.pack(">hi", 2, 12) + b"vigil_alerts" + bytes([STOP])
        s = self.connect()
        s.sendall(payload)
        p = self.read_reply(s)
        name, mtype, _ = p.readMessageBegin()
        r = oq.gen().Extension.call_result()
        r.read(p)
        self.assertEqual((name, mtype, r.success.status.code, r.success.status.message),
                         ("call", REPLY, 1, "Unknown registry: "))
        s.close()


if __name__ == "__main__":
    oq.vh.main()
