"""Plugin lane: the peer stays away while a burst of real execs far exceeds both caps. The
memory and disk spools stay within --mem-limit and --spool-max, the overflow is dropped
oldest first and counted (every event taken from the bus is either spooled or
counted as dropped), SIGTERM saves what memory held to the spool directory, and a new
vigil-forward on the same directory delivers the saved batches, in order, to the real
server once it is there.
"""
import os
import signal
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flbtest as ft  # noqa: E402

vh = ft.vh
N = 400
MEM_LIMIT, SPOOL_MAX, BATCH_BYTES = 64 * 1024, 256 * 1024, 16 * 1024
# plugins/fluentbit/disk.c: struct disk_hdr, host order
HDR = struct.Struct("=4sIII24s")


def spool_files(d):
    """(total bytes, events, chunk ids in queue order) of the batch files in d."""
    size = events = 0
    chunks = []
    for name in sorted(os.listdir(d)):          # zero-padded sequence numbers: queue order
        if not name.endswith(".vfw"):
            continue
        with open(os.path.join(d, name), "rb") as f:
            magic, version, nevents, length, chunk = HDR.unpack(f.read(HDR.size))
        assert magic == b"VFWD" and version == 1, name
        size += os.path.getsize(os.path.join(d, name))
        events += nevents
        chunks.append(chunk.decode())
    return size, events, chunks


class SpoolCap(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ft.require_root()
        node = ft.ensure_server()
        cls.token = token = ft.new_token()
        with ft.Workdir() as wd, vh.Agent("--node-name", "flb-spool", outputs=()) as agent:
            sock = os.path.join(wd, "fluent.sock")
            spool = os.path.join(wd, "spool")
            common = ["--batch-bytes", str(BATCH_BYTES), "--batch-count", "64", "--flush-ms", "50",
                      "--mem-limit", str(MEM_LIMIT), "--spool-dir", spool, "--spool-max", str(SPOOL_MAX),
                      "--retry-min-ms", "100", "--retry-max-ms", "200"]
            # no server yet
            fwd = ft.Forwarder(wd, "fwd-1", agent.bus, "unix://" + sock, "--drain-ms", "300", *common).start()
            ft.wait_bus_live(fwd, token)
            base = fwd.stats()["events_in"]
            ft.run_seq(token, 0, N)
            # wait until the burst is taken in: events_in steady for half a second, or (on a
            # busy machine, whose every exec is an event too) the burst's exec and exit
            # events counted and a second more for the last of them
            last = [-1, time.time()]
            burst_in = [None]

            def steady(s):
                if s["events_in"] != last[0]:
                    last[:] = [s["events_in"], time.time()]
                if burst_in[0] is None and s["events_in"] >= base + 2 * N:
                    burst_in[0] = time.time()
                return time.time() - last[1] > 0.5 or (burst_in[0] is not None and time.time() - burst_in[0] > 1.0)
            cls.full = fwd.wait_stats(steady, 30, "the burst to be taken in")
            cls.files_while_full = spool_files(spool)
            cls.rc1 = fwd.stop()
            cls.stats1 = fwd.stats()
            cls.log1 = fwd.log()
            cls.saved = spool_files(spool)
            # the server comes, and a new forwarder picks up the spool
            server = ft.Server(node, wd, "server", unix=sock).start()
            # room for the host's live events on top of the saved spool: with the first run's
            # caps, any exec elsewhere on the machine would push saved batches out (oldest first)
            roomy = [a if a not in (str(MEM_LIMIT), str(SPOOL_MAX)) else str(4 * int(a)) for a in common]
            fwd2 = ft.Forwarder(wd, "fwd-2", agent.bus, "unix://" + sock, *roomy).start()
            fwd2.wait_stats(lambda s: s["queued_batches"] == 0 and s["disk_loads"] > 0, 30,
                            "the saved batches to be delivered")
            cls.rc2 = fwd2.stop()
            cls.stats2 = fwd2.stats()
            cls.log2 = fwd2.log()
            cls.left = spool_files(spool)
            server.kill(signal.SIGTERM)
            cls.entries = server.entries()
            cls.acks = server.acks()

    def test_burst_overflowed_and_drops_were_counted(self):
        self.assertGreater(self.full["dropped_events"], 0)
        self.assertGreater(self.full["dropped_batches"], 0)
        self.assertEqual(self.full["batches_acked"], 0)
        self.assertGreater(self.full["connect_failures"], 0)

    def test_memory_and_disk_stay_within_their_caps(self):
        for st in (self.full, self.stats1):
            self.assertLessEqual(st["mem_bytes_max"], MEM_LIMIT)
            self.assertLessEqual(st["disk_bytes_max"], SPOOL_MAX)
        self.assertLessEqual(self.stats2["mem_bytes_max"], 4 * MEM_LIMIT)
        self.assertLessEqual(self.stats2["disk_bytes_max"], 4 * SPOOL_MAX)
        self.assertGreater(self.full["disk_bytes_max"], SPOOL_MAX // 2, "the disk spool should have filled up")
        self.assertLessEqual(self.files_while_full[0], SPOOL_MAX)
        self.assertLessEqual(self.saved[0], SPOOL_MAX)

    def test_every_event_taken_is_saved_or_counted_as_dropped(self):
        self.assertEqual(self.rc1, 0, self.log1)
        self.assertEqual(self.stats1["events_in"], self.saved[1] + self.stats1["dropped_events"])

    def test_saved_batches_are_delivered_by_the_next_run_in_order(self):
        self.assertEqual(self.rc2, 0, self.log2)
        self.assertIn("left by a previous run", self.log2)
        # the new forwarder sends the saved batches first, in queue order, under their
        # original chunk ids, and the server acks them in that order
        saved = self.saved[2]
        self.assertGreater(len(saved), 0)
        self.assertEqual(self.acks[:len(saved)], saved)
        self.assertGreaterEqual(len(self.entries), self.saved[1])
        # the execs of our burst that survived come in order, once each; the host's other
        # activity after the burst may have pushed all of them out (drops take the oldest)
        got = ft.seqs(self.entries, self.token)
        self.assertEqual(got, sorted(got), "saved batches must come back in their order")
        self.assertEqual(len(got), len(set(got)))
        self.assertLess(len(got), N)

    def test_next_run_empties_the_spool(self):
        self.assertEqual(self.left, (0, 0, []))
        self.assertEqual(self.stats2["queued_batches"], 0)
        self.assertEqual(self.stats2["dropped_events"], 0)
        self.assertGreaterEqual(self.stats2["events_acked"], self.saved[1])
        self.assertEqual(len(self.entries), self.stats2["events_acked"])


if __name__ == "__main__":
    ft.vh.main()
