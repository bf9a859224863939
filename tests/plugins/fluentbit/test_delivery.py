"""Plugin lane: real exec events from a real agent reach a real Forward server through
vigil-forward intact (the record is the agent's JSON tree key for key), tagged, with the
event's nanosecond time as EventTime, and every batch acked. Two forwarders run side by
side on the same events: PackedForward over a UNIX socket with the default tag, and gzip
CompressedPackedForward over loopback TCP with a tag template; a third runs with --ack off
(no chunk ids: the server sends no acks, batches leave the spool once written).
"""
import calendar
import json
import os
import re
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flbtest as ft  # noqa: E402

vh = ft.vh
N = 120
NODE = "flb-node"


def parse_time(s):
    """protojson's RFC 3339 UTC string to (seconds, nanoseconds), exactly."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z", s)
    assert m, s
    return calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")), int((m.group(2) or "").ljust(9, "0"))


def event_type(record):
    return next(iter(record))


class Delivery(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ft.require_root()
        node = ft.ensure_server()
        cls.token = token = ft.new_token()
        with ft.Workdir() as wd, vh.Agent("--node-name", NODE) as agent:
            port = ft.free_port()
            sa = ft.Server(node, wd, "server-unix", unix=os.path.join(wd, "fluent.sock")).start()
            sb = ft.Server(node, wd, "server-tcp", port=port).start()
            fa = ft.Forwarder(wd, "fwd-plain", agent.bus, "unix://" + sa.unix, "--batch-count", "16",
                              "--flush-ms", "50").start()
            fb = ft.Forwarder(wd, "fwd-gzip", agent.bus, "tcp://127.0.0.1:%d" % port, "--compress", "gzip",
                              "--tag", "host.{node_name}.{event_type}", "--flush-ms", "50").start()
            sc = ft.Server(node, wd, "server-noack", unix=os.path.join(wd, "noack.sock")).start()
            fc = ft.Forwarder(wd, "fwd-noack", agent.bus, "unix://" + sc.unix, "--ack", "off",
                              "--flush-ms", "50").start()
            for f in (fa, fb, fc):
                ft.wait_bus_live(f, token)
            ft.run_seq(token, 0, N)
            for s in (sa, sb, sc):
                ft.wait_until(lambda: len(set(ft.seqs(s.entries(), token))) >= N, 30,
                              what="%s to receive %d execs" % (s.name, N))
            cls.rc = {"plain": fa.stop(), "gzip": fb.stop()}
            cls.stats = {"plain": fa.stats(), "gzip": fb.stats()}
            cls.logs = {"plain": fa.log(), "gzip": fb.log()}
            cls.json = agent.events("json")
            cls.rc["noack"], cls.stats["noack"], cls.logs["noack"] = fc.stop(), fc.stats(), fc.log()
            for s in (sa, sb, sc):
                s.kill(signal.SIGTERM)
            cls.entries = {"plain": sa.entries(), "gzip": sb.entries(), "noack": sc.entries()}
            cls.acks = {"plain": sa.acks(), "gzip": sb.acks(), "noack": sc.acks()}

    def stream(self, kind):
        return [e for e in self.entries[kind] if ft.seq_of(e, self.token) is not None]

    def test_every_exec_of_the_stream_arrives_exactly_once(self):
        for kind in ("plain", "gzip"):
            self.assertEqual(sorted(ft.seqs(self.entries[kind], self.token)), list(range(N)), kind)

    def test_record_is_the_agents_json_tree_key_for_key(self):
        by_id = {(event_type(e), e[event_type(e)]["process"]["exec_id"]): e for e in self.json
                 if event_type(e) in ("process_exec", "process_exit")}
        checked = 0
        for kind in ("plain", "gzip"):
            for e in self.entries[kind]:
                rec = e["record"]
                key = (event_type(rec), rec[event_type(rec)]["process"]["exec_id"])
                if key not in by_id:
                    continue        # before `vigil getevents` subscribed, or after it stopped
                # same keys, same order, same values: compare the serialisations
                self.assertEqual(json.dumps(rec), json.dumps(by_id[key]))
                checked += 1
        self.assertGreaterEqual(checked, 4 * N)     # N execs and N exits, through both forwarders

    def test_exits_of_the_stream_are_forwarded_too(self):
        for kind in ("plain", "gzip"):
            pids = {e["record"]["process_exec"]["process"]["pid"] for e in self.stream(kind)}
            exits = [e for e in self.entries[kind] if "process_exit" in e["record"]
                     and e["record"]["process_exit"]["process"]["pid"] in pids]
            self.assertEqual(len(exits), N, kind)

    def test_default_tag_is_vigil_dot_event_type(self):
        tags = {e["tag"] for e in self.entries["plain"]}
        self.assertTrue({"vigil.process_exec", "vigil.process_exit"} <= tags, tags)
        for e in self.entries["plain"]:
            self.assertEqual(e["tag"], "vigil." + event_type(e["record"]))

    def test_tag_template_expands_node_name_and_event_type(self):
        for e in self.entries["gzip"]:
            self.assertEqual(e["tag"], "host.%s.%s" % (NODE, event_type(e["record"])))

    def test_event_time_is_the_events_own_time_to_the_nanosecond(self):
        nanos = []
        for kind in ("plain", "gzip"):
            for e in self.entries[kind]:
                self.assertIsNotNone(e["time"]["nano"], "EventTime expected, got integer seconds")
                self.assertEqual((e["time"]["epoch"], e["time"]["nano"]), parse_time(e["record"]["time"]))
                nanos.append(e["time"]["nano"])
            self.assertEqual(self.stats[kind]["time_fallbacks"], 0)
        # nanosecond precision, not milliseconds or microseconds padded with zeros
        self.assertTrue(any(n % 1000 for n in nanos))

    def test_every_batch_is_acked_and_nothing_is_left(self):
        for kind in ("plain", "gzip"):
            st = self.stats[kind]
            self.assertEqual(self.rc[kind], 0, self.logs[kind])
            self.assertGreater(st["batches_sent"], 1, kind)
            self.assertEqual(st["batches_acked"], st["batches_sent"], kind)
            self.assertEqual(st["batches_acked"], st["batches_sealed"], kind)
            self.assertEqual(st["events_acked"], st["events_in"], kind)
            self.assertEqual(len(self.entries[kind]), st["events_acked"], kind)
            # the server acked each chunk once, and every ack matched a batch in flight
            self.assertEqual(len(self.acks[kind]), st["batches_acked"], kind)
            self.assertEqual(len(set(self.acks[kind])), len(self.acks[kind]), kind)
            for k in ("acks_unknown", "replies_bad", "replies_garbage", "ack_timeouts", "dropped_events",
                      "disconnects", "batches_resent", "queued_batches", "inflight", "events_malformed"):
                self.assertEqual(st[k], 0, "%s: %s" % (kind, k))

    def test_without_acks_batches_leave_once_written(self):
        st = self.stats["noack"]
        self.assertEqual(self.rc["noack"], 0, self.logs["noack"])
        self.assertEqual(sorted(ft.seqs(self.entries["noack"], self.token)), list(range(N)))
        self.assertEqual(self.acks["noack"], [])
        self.assertEqual(st["batches_acked"], 0)
        self.assertEqual(st["events_acked"], st["events_in"])      # counted as written
        self.assertEqual(len(self.entries["noack"]), st["events_in"])
        self.assertEqual(st["queued_batches"], 0)

    def test_batches_are_limited_by_count(self):
        # --batch-count 16 on the plain forwarder
        st = self.stats["plain"]
        self.assertGreaterEqual(st["batches_sent"] * 16, st["events_acked"])

    def test_gzip_sends_fewer_bytes_for_the_same_events(self):
        per_event = {k: self.stats[k]["bytes_sent"] / self.stats[k]["events_acked"] for k in ("plain", "gzip")}
        self.assertLess(per_event["gzip"], per_event["plain"] / 3, per_event)


if __name__ == "__main__":
    ft.vh.main()
