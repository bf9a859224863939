"""Plugin lane: vigil-forward --source journal resumes where the peer's acks left it, across
its own restarts, against a real agent and the real Forward server.

- Stopped (SIGTERM), it saves its journal position in the spool directory; execs made while
  it is down all arrive once it is started again, and nothing is reported missed.
- Killed (SIGKILL) while the peer is down, with events taken but never acknowledged, it
  reads them again from the journal at the next start: they all arrive.
- With a journal too small to hold what happened while it was down, the next start ships a
  vigil.delivery_loss record that starts exactly at the saved position, and every exec the
  journal still had.
"""
import os
import signal
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flbtest as ft  # noqa: E402

vh = ft.vh
BURST = os.path.join(vh.PROGS, "exec_burst")
N = 400


def burst_execs(entries, tag):
    return sum(1 for e in entries if (e.get("record", {}).get("process_exec") or {}).get(
        "process", {}).get("arguments") == "0 " + tag)


def position(spool):
    with open(os.path.join(spool, "journal.pos")) as f:
        words = f.read().split()
    return words[-2], int(words[-1])


class Resume(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ft.require_root()
        node = ft.ensure_server()
        token = ft.new_token()
        cls.tag = "fwdresume%d" % os.getpid()
        with ft.Workdir() as wd, vh.Agent("--journal-dir", os.path.join(wd, "journal"), outputs=()) as agent:
            spool = os.path.join(wd, "spool")
            sock = os.path.join(wd, "fwd.sock")
            srv = ft.Server(node, wd, "server", unix=sock).start()

            def forwarder(name):
                return ft.Forwarder(wd, name, agent.bus, "unix://" + sock, "--flush-ms", "50", "--source",
                                    "journal", "--control", agent.control, "--spool-dir", spool).start()

            # 1. a clean stop, execs while down, a start
            f = forwarder("fwd1")
            ft.wait_bus_live(f, token)
            cls.rc1 = f.stop()
            cls.pos1 = position(spool)
            subprocess.run([BURST, str(N), cls.tag + "a"], check=True)
            f = forwarder("fwd2")
            ft.wait_until(lambda: burst_execs(srv.entries(), cls.tag + "a") >= N, 30,
                          what="the execs made while the forwarder was down")
            cls.log2 = f.log()
            # 2. the peer goes away, events are taken but never acknowledged, SIGKILL
            srv.kill()
            before = f.stats()["events_in"]
            subprocess.run([BURST, str(N), cls.tag + "b"], check=True)
            # its execs and exits taken in, none acknowledged (no peer)
            cls.taken = f.wait_stats(lambda st: st["events_in"] >= before + 2 * N, 20,
                                     "the second burst to be taken")
            f.proc.send_signal(signal.SIGKILL)
            f.proc.wait()
            srv = ft.Server(node, wd, "server2", unix=sock).start()
            f = forwarder("fwd3")
            ft.wait_until(lambda: burst_execs(srv.entries(), cls.tag + "b") >= N, 30,
                          what="the unacknowledged execs again")
            cls.rc3 = f.stop()
            cls.stats3 = f.stats()
            cls.entries = srv.entries()

    def test_clean_stop_saves_the_next_seq(self):
        self.assertEqual(self.rc1, 0)
        inc, nxt = self.pos1
        self.assertRegex(inc, "^[0-9a-f]{16}$")
        self.assertGreater(nxt, 1)
        self.assertIn("resuming the journal at seq %d of agent incarnation %s" % (nxt, inc), self.log2)

    def test_nothing_is_reported_missed(self):
        # (setUpClass waited for every exec made while the forwarder was down)
        self.assertEqual(self.rc3, 0)
        self.assertEqual((self.stats3["events_missed"], self.stats3["gaps"]), (0, 0))

    def test_unacknowledged_events_are_read_again_after_a_kill(self):
        self.assertEqual(self.taken["connected"], 0)
        self.assertGreaterEqual(burst_execs(self.entries, self.tag + "b"), N)
        self.assertFalse([e for e in self.entries if e["tag"] == "vigil.delivery_loss"])


class ResumePastEviction(unittest.TestCase):
    """--journal-max-mb 1 holds a few hundred execs: a 3000-exec burst while the forwarder
    is down evicts the seqs it was to resume at."""

    @classmethod
    def setUpClass(cls):
        ft.require_root()
        node = ft.ensure_server()
        token = ft.new_token()
        cls.tag = "fwdevict%d" % os.getpid()
        with ft.Workdir() as wd, vh.Agent("--journal-dir", os.path.join(wd, "journal"), "--journal-max-mb", "1",
                                          outputs=()) as agent:
            spool = os.path.join(wd, "spool")
            sock = os.path.join(wd, "fwd.sock")
            srv = ft.Server(node, wd, "server", unix=sock).start()

            def forwarder(name):
                return ft.Forwarder(wd, name, agent.bus, "unix://" + sock, "--flush-ms", "50", "--source",
                                    "journal", "--control", agent.control, "--spool-dir", spool).start()

            f = forwarder("fwd1")
            ft.wait_bus_live(f, token)
            f.stop()
            cls.inc, cls.pos = position(spool)
            subprocess.run([BURST, "3000", cls.tag], check=True)
            f = forwarder("fwd2")
            ft.wait_until(lambda: [e for e in srv.entries() if e["tag"] == "vigil.delivery_loss"], 20,
                          what="a delivery_loss record")
            subprocess.run([ft.TRUE, token + "-after"], check=True)
            ft.wait_until(lambda: any(token + "-after" in str(e.get("record", {})) for e in srv.entries()), 20,
                          what="an exec after the burst")
            cls.rc = f.stop()
            cls.stats = f.stats()
            cls.entries = srv.entries()
            cls.status = agent.status()
            # `vigil status -o text` with a bus subscriber connected
            with open(os.devnull, "w") as null:
                sub = subprocess.Popen([vh.VIGIL, "getevents", "--bus", agent.bus], stdout=null)
                try:
                    ft.wait_until(lambda: any(s["pid"] == sub.pid for s in agent.status()["delivery"]["subscribers"]),
                                  10, what="getevents to subscribe")
                    cls.text = subprocess.run([vh.VIGIL, "status", "-o", "text", "--control", agent.control],
                                              capture_output=True, text=True, check=True).stdout
                    cls.sub_pid = sub.pid
                finally:
                    sub.terminate()
                    sub.wait(timeout=10)

    def test_the_loss_record_starts_at_the_saved_position(self):
        loss = [e["record"]["delivery_loss"] for e in self.entries if e["tag"] == "vigil.delivery_loss"]
        # the hole of the burst starts where the first forwarder stopped; catching up through
        # a 1 MB journal while the host keeps publishing may cost more, each reported the
        # same way (the first forwarder's first pull may have had one too)
        burst = [r for r in loss if r["first_seq"] == self.pos]
        self.assertEqual(len(burst), 1, loss)
        self.assertEqual((burst[0]["incarnation"], burst[0]["source"]), (self.inc, "journal"))
        self.assertGreater(burst[0]["last_seq"], self.pos + 3000)
        for r in loss:
            self.assertEqual(r["missed"], r["last_seq"] - r["first_seq"] + 1)
        self.assertEqual(self.stats["events_missed"], sum(r["missed"] for r in loss if r["first_seq"] >= self.pos))
        self.assertGreater(self.status["counters"]["journal_evicted"], 0)
        self.assertLess(self.pos, self.status["counters"]["journal_oldest_seq"])
        # the burst's execs the journal still had arrived; the evicted ones are the record's
        got = burst_execs(self.entries, self.tag)
        self.assertGreater(got, 0)
        self.assertLess(got, 3000)

    def test_status_text_shows_delivery_and_the_journal(self):
        t = self.text
        self.assertIn("\ndelivery:\n  incarnation        %s\n  last seq           " % self.inc, t)
        self.assertRegex(t, r"\n  journal            \d+ written, \d+ dropped, [1-9]\d* evicted, \d+ bytes, "
                            r"seq [1-9]\d*\.\.[1-9]\d*\n")
        self.assertRegex(t, r"\n    %d +0 +\d+ +\d+ +\d+\n" % self.sub_pid)


if __name__ == "__main__":
    unittest.main(verbosity=2)
