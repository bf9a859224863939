"""Plugin lane: the Forward server is frozen, then killed (SIGKILL) in the middle of a numbered stream
of real execs and started again a few seconds later. vigil-forward spools meanwhile (memory,
then disk, both capped) and resends what was not acked: every exec of the stream arrives,
an exec arrives twice only if its batch was in flight when the server died (the
at-least-once window: --max-inflight batches of --batch-count events), and the spool never
outgrows its caps.
"""
import os
import signal
import sys
import threading
import time
import unittest
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flbtest as ft  # noqa: E402

vh = ft.vh
N = 1200            # execs in the stream
RATE = 200          # per second: the stream lasts about 6 s
KILL_AT = 1.5       # s into the stream
DOWN_FOR = 2.5      # s without a server
MAX_INFLIGHT, BATCH_COUNT = 4, 8
# the disk cap leaves room for whatever else the host execs meanwhile (the agent sees it all)
MEM_LIMIT, SPOOL_MAX = 128 * 1024, 256 * 1024 * 1024


class ServerRestart(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ft.require_root()
        node = ft.ensure_server()
        cls.token = token = ft.new_token()
        with ft.Workdir() as wd, vh.Agent("--node-name", "flb-restart") as agent:
            sock = os.path.join(wd, "fluent.sock")
            cls.spool = spool = os.path.join(wd, "spool")
            first = ft.Server(node, wd, "server-1", unix=sock).start()
            fwd = ft.Forwarder(wd, "fwd", agent.bus, "unix://" + sock, "--batch-count", str(BATCH_COUNT),
                               "--flush-ms", "20", "--batch-bytes", "32K", "--max-inflight", str(MAX_INFLIGHT), "--mem-limit",
                               str(MEM_LIMIT), "--spool-dir", spool, "--spool-max", str(SPOOL_MAX),
                               "--retry-min-ms", "50", "--retry-max-ms", "400", "--ack-timeout-ms", "3000").start()
            ft.wait_bus_live(fwd, token)
            gen = threading.Thread(target=ft.run_seq, args=(token, 0, N, RATE))
            gen.start()
            time.sleep(KILL_AT)
            # freeze the server first, so that batches are surely in flight (written, not
            # acked) when it dies: they must be resent
            first.proc.send_signal(signal.SIGSTOP)
            cls.frozen = fwd.wait_stats(lambda s: s["inflight"] >= MAX_INFLIGHT, 10,
                                        "the window to fill while the server is frozen")
            first.kill(signal.SIGKILL)
            cls.seen_by_first = set(ft.seqs(first.entries(), token))
            time.sleep(DOWN_FOR)
            cls.while_down = fwd.stats()
            cls.spool_files_while_down = sum(os.path.getsize(os.path.join(spool, f)) for f in os.listdir(spool)
                                             if f.endswith(".vfw"))
            second = ft.Server(node, wd, "server-2", unix=sock).start()
            gen.join()
            # the last execs still travel: ring buffer poll, bus, intake, the batch timer
            time.sleep(1.0)
            fwd.wait_stats(lambda s: s["queued_batches"] == 0 and s["events_acked"] == s["events_in"], 40,
                           "the forwarder to deliver its backlog")
            cls.alive = fwd.alive()
            cls.rc = fwd.stop()
            cls.stats = fwd.stats()
            cls.log = fwd.log()
            second.kill(signal.SIGTERM)
            cls.first = ft.seqs(first.entries(), token)
            cls.second = ft.seqs(second.entries(), token)
            cls.bus = set(ft.seqs([{"record": e} for e in agent.events("json")], token))
            cls.spool_left = [f for f in os.listdir(spool) if f.endswith(".vfw")]

    def test_the_server_was_really_down_mid_stream(self):
        self.assertGreater(len(self.seen_by_first), 0)
        self.assertLess(len(self.seen_by_first), N)
        self.assertGreater(len(self.second), 0)
        self.assertGreaterEqual(self.stats["disconnects"], 1)
        self.assertGreaterEqual(self.stats["connects"], 2)
        self.assertGreater(self.stats["connect_failures"], 0)

    def test_nothing_is_lost(self):
        got = set(self.first) | set(self.second)
        missing = sorted(set(range(N)) - got)
        self.assertEqual(missing, [], "lost by the forwarder: %s; never on the bus: %s" % (
            sorted(set(missing) & self.bus), sorted(set(missing) - self.bus)))

    def test_duplicates_only_within_the_at_least_once_window(self):
        counts = Counter(self.first + self.second)
        dups = sorted(s for s, c in counts.items() if c > 1)
        self.assertLessEqual(len(dups), MAX_INFLIGHT * BATCH_COUNT, dups)
        self.assertTrue(all(counts[s] == 2 for s in dups), dups)
        # a duplicate is a batch the first server printed (and maybe acked, too late) and the
        # forwarder resent to the second; no server saw anything twice on its own
        self.assertEqual(len(self.first), len(set(self.first)))
        self.assertEqual(len(self.second), len(set(self.second)))
        for s in dups:
            self.assertIn(s, self.first)
            self.assertIn(s, self.second)
        if dups:
            self.assertGreater(self.stats["batches_resent"], 0)

    def test_batches_in_flight_when_the_server_died_were_resent(self):
        self.assertEqual(self.frozen["inflight"], MAX_INFLIGHT)
        # acks the server wrote just before it froze may still reach the forwarder, so not
        # every batch of the full window is necessarily still unacked when it dies
        self.assertGreaterEqual(self.stats["batches_resent"], 1)
        self.assertLessEqual(self.stats["batches_resent"], MAX_INFLIGHT * 4)
        self.assertEqual(self.stats["ack_timeouts"], 0)

    def test_spool_went_to_disk_and_stayed_within_its_caps(self):
        self.assertGreater(self.while_down["disk_writes"], 0, "the outage should overflow --mem-limit")
        self.assertLessEqual(self.stats["mem_bytes_max"], MEM_LIMIT)
        self.assertLessEqual(self.stats["disk_bytes_max"], SPOOL_MAX)
        self.assertLessEqual(self.spool_files_while_down, SPOOL_MAX)
        self.assertGreater(self.spool_files_while_down, 0)
        self.assertEqual(self.stats["dropped_events"], 0)
        self.assertEqual(self.stats["disk_errors"], 0)

    def test_backlog_fully_delivered_and_spool_emptied(self):
        self.assertTrue(self.alive)
        self.assertEqual(self.rc, 0, self.log)
        self.assertEqual(self.stats["events_acked"], self.stats["events_in"])
        self.assertEqual(self.stats["queued_batches"], 0)
        self.assertEqual(self.stats["disk_bytes"], 0)
        self.assertEqual(self.stats["mem_bytes"], 0)
        self.assertEqual(self.spool_left, [])
        self.assertEqual(self.stats["disk_loads"], self.stats["disk_writes"])


if __name__ == "__main__":
    ft.vh.main()
