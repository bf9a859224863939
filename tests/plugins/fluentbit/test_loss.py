"""Plugin lane: what vigil-forward does when it falls behind, against a real agent and the
real Forward server.

- On the bus (the default source), a forwarder stopped (SIGSTOP) through an exec storm
  misses events; it counts them from the stamps (events_missed, gaps in its stats), ships a
  vigil.delivery_loss record per hole (missed, first_seq, last_seq, incarnation) and the
  records add up to exactly what the agent says it dropped for that subscriber.
- From the agent's journal (--source journal), a forwarder stopped through the same storm
  ships every exec of it once resumed, and reports nothing missed.
"""
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flbtest as ft  # noqa: E402

vh = ft.vh
BURST = os.path.join(vh.PROGS, "exec_burst")
STORM = 4000


def storm_execs(entries, tag):
    """Forwarded exec events of exec_burst children carrying tag."""
    n = 0
    for e in entries:
        ex = e.get("record", {}).get("process_exec")
        if ex and ex["process"].get("arguments") == "0 " + tag:
            n += 1
    return n


def peer(agent, pid):
    for s in agent.status()["delivery"]["subscribers"]:
        if s["pid"] == pid:
            return s
    return None


class Loss(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ft.require_root()
        node = ft.ensure_server()
        token = ft.new_token()
        cls.tag = tag = "fwdloss%d" % os.getpid()
        with ft.Workdir() as wd, vh.Agent("--journal-dir", os.path.join(wd, "journal"), outputs=()) as agent:
            sb = ft.Server(node, wd, "server-bus", unix=os.path.join(wd, "bus.sock")).start()
            sj = ft.Server(node, wd, "server-journal", unix=os.path.join(wd, "journal.sock")).start()
            fb = ft.Forwarder(wd, "fwd-bus", agent.bus, "unix://" + sb.unix, "--flush-ms", "50",
                              "--bus-rcvbuf", "128K").start()
            fj = ft.Forwarder(wd, "fwd-journal", agent.bus, "unix://" + sj.unix, "--flush-ms", "50",
                              "--source", "journal", "--control", agent.control).start()
            for f in (fb, fj):
                ft.wait_bus_live(f, token)
            fb.proc.send_signal(signal.SIGSTOP)
            fj.proc.send_signal(signal.SIGSTOP)
            subprocess.run([BURST, str(STORM), tag], check=True)
            fb.proc.send_signal(signal.SIGCONT)
            fj.proc.send_signal(signal.SIGCONT)
            ft.wait_until(lambda: storm_execs(sj.entries(), tag) >= STORM, 60,
                          what="the journal forwarder to ship the storm")
            # the bus forwarder drains; an exec after that closes its last hole
            ft.wait_until(lambda: (peer(agent, fb.proc.pid) or {}).get("queued_bytes", 1) == 0, 30,
                          what="the bus forwarder to drain its queue")
            subprocess.run([ft.TRUE, token + "-after"], check=True)
            ft.wait_until(lambda: any("-after" in str(e.get("record", {})) for e in sb.entries()), 20,
                          what="the bus forwarder to ship an event after the storm")
            cls.dropped_for_bus = peer(agent, fb.proc.pid)["dropped"]
            ft.wait_until(lambda: fb.stats()["loss_records"] == len(
                [e for e in sb.entries() if e["tag"] == "vigil.delivery_loss"]), 20,
                what="the loss records to arrive")
            cls.bus_entries, cls.journal_entries = sb.entries(), sj.entries()
            cls.rc = {"bus": fb.stop(), "journal": fj.stop()}
            cls.stats = {"bus": fb.stats(), "journal": fj.stats()}
            cls.log = {"bus": fb.log(), "journal": fj.log()}
        print("\nbus forwarder: %d of %d storm execs, %s; agent dropped %d for it" % (
            storm_execs(cls.bus_entries, tag), STORM,
            {k: cls.stats["bus"][k] for k in ("events_missed", "gaps", "loss_records")}, cls.dropped_for_bus),
            file=sys.stderr)
        print("journal forwarder: %d of %d storm execs, %s" % (
            storm_execs(cls.journal_entries, tag), STORM,
            {k: cls.stats["journal"][k] for k in ("events_missed", "gaps", "journal_errors")}), file=sys.stderr)

    def test_bus_forwarder_ships_a_delivery_loss_record_per_hole(self):
        st = self.stats["bus"]
        self.assertEqual(self.rc["bus"], 0)
        self.assertGreater(st["events_missed"], 0, "the pause cost nothing: no test")
        loss = [e for e in self.bus_entries if e["tag"] == "vigil.delivery_loss"]
        self.assertEqual(len(loss), st["gaps"])
        self.assertEqual(st["loss_records"], st["gaps"])
        total = 0
        for e in loss:
            r = e["record"]["delivery_loss"]
            self.assertEqual(r["missed"], r["last_seq"] - r["first_seq"] + 1)
            self.assertEqual(r["source"], "bus")
            self.assertRegex(r["incarnation"], "^[0-9a-f]{16}$")
            self.assertIn("time", e["record"])
            total += r["missed"]
        self.assertEqual(total, st["events_missed"])
        # exactly what the agent could not queue for this subscriber
        self.assertEqual(st["events_missed"], self.dropped_for_bus)
        self.assertIn("shipped as a vigil.delivery_loss record", self.log["bus"])
        self.assertLess(storm_execs(self.bus_entries, self.tag), STORM)

    def test_journal_forwarder_ships_every_event_of_the_storm(self):
        st = self.stats["journal"]
        self.assertEqual(self.rc["journal"], 0)
        self.assertEqual(storm_execs(self.journal_entries, self.tag), STORM)
        self.assertEqual((st["events_missed"], st["gaps"], st["loss_records"]), (0, 0, 0))
        self.assertFalse([e for e in self.journal_entries if e["tag"] == "vigil.delivery_loss"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
