"""Plugin lane: a peer that answers badly. A scripted Forward peer (Python, on the same UNIX
socket the real server takes over later) sends acks for chunks that were never sent, an ack
split across two writes, replies that are not acks, a HELO, invalid msgpack, container and
string headers that claim gigabytes, and finally nothing at all. vigil-forward counts each
kind, drops the connection where the stream cannot be trusted, times out the silent one,
never crashes (this test also runs under ASan/UBSan), and once the real FluentServer
answers, delivers every event exactly once.
"""
import os
import signal
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flbtest as ft  # noqa: E402

vh = ft.vh
N = 60


def mp_str(s):
    b = s.encode()
    assert len(b) < 32
    return bytes([0xa0 | len(b)]) + b


def mp_ack(chunk):
    return b"\x81" + mp_str("ack") + mp_str(chunk)


UNKNOWN_ACK = mp_ack("A" * 22 + "==")           # right shape, never sent
SHORT_ACK = mp_ack("short")                     # not even a chunk id's length
SPLIT_ACK = mp_ack("B" * 22 + "==")             # sent in two writes
ACK_NOT_STR = b"\x81" + mp_str("ack") + b"\x05"
ARRAY = b"\x92\x01\x02"
HELO = b"\x92" + mp_str("HELO") + b"\x80"
INVALID = b"\xc1"                               # the one byte msgpack never uses
HUGE_ARRAY = b"\xdd\xff\xff\xff\xff"            # array32 of 4 G elements
HUGE_STR = b"\xdb\x40\x00\x00\x00"              # str32 of 1 GiB


class ScriptedPeer(threading.Thread):
    """Accept one connection per step; each step answers in its own bad way."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path = path
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(path)
        self.srv.listen(4)
        self.srv.settimeout(30)
        self.steps_done = []
        self.error = None

    def wait_bytes(self, conn):
        conn.settimeout(20)
        if not conn.recv(65536):
            raise AssertionError("forwarder closed before sending")

    def wait_closed(self, conn, timeout=20):
        """Read until the forwarder hangs up (it must, after what it was sent)."""
        conn.settimeout(timeout)
        while conn.recv(65536):
            pass

    def step_unknown_acks_then_invalid(self, conn):
        self.wait_bytes(conn)
        conn.sendall(UNKNOWN_ACK + SHORT_ACK + ACK_NOT_STR + ARRAY + HELO)
        half = len(SPLIT_ACK) // 2
        conn.sendall(SPLIT_ACK[:half])
        time.sleep(0.2)
        conn.sendall(SPLIT_ACK[half:])
        time.sleep(0.2)
        conn.sendall(INVALID + b"garbage")
        self.wait_closed(conn)

    def step_huge_array(self, conn):
        conn.sendall(HUGE_ARRAY)
        self.wait_closed(conn)

    def step_huge_string(self, conn):
        conn.sendall(HUGE_STR + b"x" * 100)
        self.wait_closed(conn)

    def step_silent(self, conn):
        # take everything, answer nothing: only the ack timeout ends this
        self.wait_closed(conn, timeout=30)

    def run(self):
        try:
            for step in (self.step_unknown_acks_then_invalid, self.step_huge_array, self.step_huge_string,
                         self.step_silent):
                conn, _ = self.srv.accept()
                with conn:
                    step(conn)
                self.steps_done.append(step.__name__)
        except Exception as e:      # reported by the test, not lost in the thread
            self.error = e
        finally:
            self.srv.close()
            os.unlink(self.path)


class BadPeer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ft.require_root()
        node = ft.ensure_server()
        cls.token = token = ft.new_token()
        with ft.Workdir() as wd, vh.Agent("--node-name", "flb-bad", outputs=()) as agent:
            sock = os.path.join(wd, "fluent.sock")
            peer = ScriptedPeer(sock)
            peer.start()
            fwd = ft.Forwarder(wd, "fwd", agent.bus, "unix://" + sock, "--flush-ms", "50", "--retry-min-ms", "50",
                               "--retry-max-ms", "200", "--ack-timeout-ms", "1000").start()
            ft.wait_bus_live(fwd, token)
            ft.run_seq(token, 0, N)
            peer.join(60)
            cls.peer_error, cls.steps = peer.error, peer.steps_done
            # the stats file lags by up to --stats-ms: wait for the fourth hang-up to show
            cls.after_bad = fwd.wait_stats(lambda s: s["disconnects"] >= 4, 10, "four disconnects")
            server = ft.Server(node, wd, "server", unix=sock).start()
            fwd.wait_stats(lambda s: s["queued_batches"] == 0 and s["events_acked"] == s["events_in"], 30,
                           "delivery to the real server")
            cls.alive = fwd.alive()
            cls.rc = fwd.stop()
            cls.stats = fwd.stats()
            cls.log = fwd.log()
            server.kill(signal.SIGTERM)
            cls.entries = server.entries()

    def test_peer_script_ran_to_the_end(self):
        self.assertIsNone(self.peer_error)
        self.assertEqual(len(self.steps), 4, self.steps)

    def test_acks_for_unknown_chunks_are_counted(self):
        # the 24-character id nobody sent, the short one, and the one split across writes
        self.assertEqual(self.after_bad["acks_unknown"], 3)

    def test_replies_that_are_not_acks_are_counted(self):
        # {"ack": 5}, [1, 2] and ["HELO", {}]
        self.assertEqual(self.after_bad["replies_bad"], 3)
        self.assertIn("shared-key authentication", self.log)

    def test_invalid_msgpack_and_gigabyte_headers_are_counted_and_drop_the_connection(self):
        self.assertEqual(self.after_bad["replies_garbage"], 3)

    def test_silent_peer_times_out(self):
        self.assertEqual(self.after_bad["ack_timeouts"], 1)
        self.assertGreaterEqual(self.after_bad["disconnects"], 4)
        self.assertEqual(self.after_bad["batches_acked"], 0)

    def test_forwarder_survives_and_delivers_everything_exactly_once_afterwards(self):
        self.assertTrue(self.alive)
        self.assertEqual(self.rc, 0, self.log)
        self.assertEqual(sorted(ft.seqs(self.entries, self.token)), list(range(N)))
        self.assertEqual(self.stats["events_acked"], self.stats["events_in"])
        self.assertEqual(len(self.entries), self.stats["events_acked"])
        self.assertGreater(self.stats["batches_resent"], 0)
        self.assertEqual(self.stats["dropped_events"], 0)


if __name__ == "__main__":
    ft.vh.main()
