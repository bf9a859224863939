"""Host lane: process lifecycle events from the real kernel, through the bus.

One agent runs real programs; every assertion is on the events a `vigil getevents`
subscriber printed (JSON and compact), and on what the agent left in the kernel.
"""
import base64
import datetime
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import vigilhost as vh  # noqa: E402

TRUE = os.path.realpath("/bin/true")
SH = os.path.realpath("/bin/sh")
SLEEP = os.path.realpath("/bin/sleep")


def reader_promises(agent, seconds=1.0):
    """vg_reader's value (when the reader will next look, CLOCK_MONOTONIC ns; 0: idle) sampled
    with the time of each sample, while a loop of /bin/true keeps records coming."""
    held = vh.bpf_ids_held(agent.proc.pid)["map"]
    maps = json.loads(subprocess.run(["bpftool", "-j", "map", "show"], capture_output=True, text=True,
                                     check=True).stdout)
    ids = [m["id"] for m in maps if m.get("name") == "vg_reader" and m["id"] in held]
    assert len(ids) == 1, ids
    loop = subprocess.Popen([SH, "-c", "while :; do %s; done" % TRUE])
    samples = []
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            dump = json.loads(subprocess.run(["bpftool", "-j", "map", "dump", "id", str(ids[0])],
                                             capture_output=True, text=True, check=True).stdout)
            value = dump[0]["value"]
            if isinstance(value, list):
                value = int.from_bytes(bytes(int(b, 16) for b in value), "little")
            samples.append((time.monotonic_ns(), value))
    finally:
        loop.kill()
        loop.wait()
    return samples


WALL_STEP_S = 600


def step_wall_clock_and_exec():
    """Step the wall clock WALL_STEP_S forward, exec /bin/true with a marker, step it back:
    the wall time just after the step (the exec's event must carry about that)."""
    time.clock_settime(time.CLOCK_REALTIME, time.clock_gettime(time.CLOCK_REALTIME) + WALL_STEP_S)
    try:
        stepped = time.clock_gettime(time.CLOCK_REALTIME)
        time.sleep(0.05)  # a reader round after the step
        subprocess.run([TRUE, "wall-clock-stepped"], check=True)
        time.sleep(0.05)
    finally:
        time.clock_settime(time.CLOCK_REALTIME, time.clock_gettime(time.CLOCK_REALTIME) - WALL_STEP_S)
    return stepped


def wall_seconds(rfc3339):
    t = datetime.datetime.strptime(rfc3339[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    frac = rfc3339[19:].rstrip("Z")
    return t.timestamp() + (float(frac) if frac else 0.0)


@vh.require_root
class ProcessEvents(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # started before the agent: must appear as a procFS exec
        cls.old = subprocess.Popen([SLEEP, "300.5"])
        time.sleep(0.1)
        with vh.Agent("--node-name", "host-test", outputs=("json", "compact")) as agent:
            cls.status = agent.status()
            # this agent's own programs and links: other agents on the host load and unload theirs
            cls.held = vh.bpf_ids_held(agent.proc.pid)
            cls.promises = reader_promises(agent)
            cls.sh = subprocess.Popen([SH, "-c", 'cd /tmp && exec /bin/true a "b c"'])
            cls.sh.wait()
            fork = subprocess.run([os.path.join(vh.PROGS, "fork_noexec")], capture_output=True, text=True,
                                  check=True)
            cls.fork_child = int(fork.stdout.strip())
            cls.exit3 = subprocess.Popen([os.path.join(vh.PROGS, "exit_code"), "3"])
            cls.exit3.wait()
            cls.term = subprocess.Popen([SLEEP, "30"])
            time.sleep(0.2)
            cls.term.send_signal(signal.SIGTERM)
            cls.term.wait()
            cls.stepped = step_wall_clock_and_exec()
            cls.events = agent.events("json")
            cls.compact = agent.events("compact", settle=0)
            cls.agent_rc = agent.stop()
            cls.agent_log = agent.read_log()
        cls.old.kill()
        cls.old.wait()
        time.sleep(0.2)
        cls.progs_after = vh.bpf_prog_ids()
        cls.links_after = vh.bpf_link_ids()
        cls.me = os.getpid()

    def execs(self, pred):
        return vh.find(self.events, "process_exec", pred)

    def exits(self, pred):
        return vh.find(self.events, "process_exit", pred)

    def the_one(self, items, what):
        self.assertEqual(len(items), 1, "expected exactly one %s, got %d" % (what, len(items)))
        return items[0]

    def harness_exec(self):
        return self.the_one(self.execs(lambda e: e["process"]["pid"] == self.me), "exec of the test harness")

    # --- exec ---------------------------------------------------------------------------

    def test_exec_reports_full_binary_path_arguments_cwd_and_uid(self):
        ev = self.the_one(self.execs(lambda e: e["process"]["pid"] == self.sh.pid
                                     and e["process"].get("binary") == TRUE), "exec of /bin/true")
        p = ev["process"]
        self.assertEqual(p["binary"], TRUE)
        self.assertEqual(p["arguments"], 'a "b c"')
        self.assertEqual(p["cwd"], "/tmp")
        self.assertEqual(p["uid"], 0)
        self.assertEqual(p["flags"], "execve")

    def test_exec_of_shell_is_flagged_clone_and_parented_to_the_harness(self):
        ev = self.the_one(self.execs(lambda e: e["process"]["pid"] == self.sh.pid
                                     and e["process"].get("binary") == SH), "exec of /bin/sh")
        self.assertEqual(ev["process"]["flags"], "execve clone")
        self.assertEqual(ev["process"]["arguments"], '-c "cd /tmp && exec /bin/true a \\"b c\\""')
        self.assertEqual(ev["process"]["parent_exec_id"], self.harness_exec()["process"]["exec_id"])
        self.assertEqual(ev["parent"]["pid"], self.me)

    def test_parent_exec_id_chain_leads_from_true_to_the_harness(self):
        true = self.the_one(self.execs(lambda e: e["process"].get("binary") == TRUE
                                       and e["process"]["pid"] == self.sh.pid), "exec of /bin/true")
        harness = self.harness_exec()
        self.assertEqual(true["process"]["parent_exec_id"], harness["process"]["exec_id"])
        self.assertEqual(true["parent"]["exec_id"], harness["process"]["exec_id"])
        self.assertIn("procFS", harness["process"]["flags"])

    def test_exec_id_is_base64_of_node_ktime_pid(self):
        ev = self.harness_exec()
        node, ktime, pid = base64.b64decode(ev["process"]["exec_id"]).decode().split(":")
        self.assertEqual(node, "host-test")
        self.assertEqual(int(pid), self.me)
        self.assertGreater(int(ktime), 0)

    def test_procfs_entry_for_process_started_before_agent(self):
        ev = self.the_one(self.execs(lambda e: e["process"]["pid"] == self.old.pid), "procFS exec")
        self.assertEqual(ev["process"]["binary"], SLEEP)
        self.assertEqual(ev["process"]["arguments"], "300.5")
        self.assertIn("procFS", ev["process"]["flags"].split())
        self.assertEqual(ev["parent"]["pid"], self.me)

    def test_event_carries_node_name_time_and_namespaces(self):
        ev = next(e for e in self.events if "process_exec" in e)
        self.assertEqual(ev["node_name"], "host-test")
        self.assertRegex(ev["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
        ns = self.harness_exec()["process"]["ns"]
        self.assertTrue(ns["pid"]["is_host"])
        self.assertTrue(ns["mnt"]["is_host"])

    def test_event_time_follows_a_step_of_the_wall_clock(self):
        # events give the boot clock's ktime in wall time, with the offset between the two
        # clocks as it is at the time: not as it was at start-up (this VM kind's wall clock
        # drifts 5 ms a second from its boot clock; NTP steps it)
        ev = self.the_one([e for e in self.events if "process_exec" in e
                           and e["process_exec"]["process"].get("arguments") == "wall-clock-stepped"],
                          "exec after the step")
        self.assertAlmostEqual(wall_seconds(ev["time"]), self.stepped, delta=2.0)

    # --- fork and exit ------------------------------------------------------------------

    def test_fork_without_exec_exits_with_clone_flag_and_parent_binary(self):
        ex = self.the_one(self.exits(lambda e: e["process"]["pid"] == self.fork_child), "exit of forked child")
        prog = os.path.join(vh.PROGS, "fork_noexec")
        parent = self.the_one(self.execs(lambda e: e["process"].get("binary") == prog), "exec of fork_noexec")
        self.assertEqual(ex["process"]["flags"], "clone")
        self.assertEqual(ex["process"]["binary"], prog)
        self.assertEqual(ex["process"]["parent_exec_id"], parent["process"]["exec_id"])
        self.assertEqual(ex["status"], 7)
        self.assertNotEqual(ex["process"]["exec_id"], parent["process"]["exec_id"])

    def test_exit_status_is_reported(self):
        ex = self.the_one(self.exits(lambda e: e["process"]["pid"] == self.exit3.pid), "exit of exit_code 3")
        self.assertEqual(ex["status"], 3)
        self.assertNotIn("signal", ex)

    def test_zero_exit_status_is_omitted(self):
        ex = self.the_one(self.exits(lambda e: e["process"]["pid"] == self.sh.pid), "exit of /bin/true")
        self.assertEqual(ex["process"]["binary"], TRUE)
        self.assertNotIn("status", ex)

    def test_exit_by_signal_names_the_signal(self):
        ex = self.the_one(self.exits(lambda e: e["process"]["pid"] == self.term.pid), "exit of killed sleep")
        self.assertEqual(ex["signal"], "SIGTERM")
        self.assertEqual(ex["process"]["binary"], SLEEP)

    def test_each_exit_is_reported_once(self):
        pids = [e["process_exit"]["process"]["pid"] for e in self.events if "process_exit" in e]
        self.assertEqual(len(pids), len(set(pids)))

    # --- compact output, status, cleanup ------------------------------------------------

    def test_compact_lines_match_tetra(self):
        # root processes carry tetra's CAP_SYS_ADMIN trailer, padded to column 120
        lines = [l.split(" \U0001f6d1 CAP_SYS_ADMIN")[0].rstrip() for l in self.compact]
        ours = [l for l in self.compact if TRUE in l or SLEEP + " 30" in l]
        self.assertTrue(ours)
        self.assertTrue(all(l.endswith("\U0001f6d1 CAP_SYS_ADMIN") for l in ours), ours)
        self.assertIn('🚀 process host-test %s a "b c"' % TRUE, lines)
        self.assertIn("💥 exit    host-test %s 30 SIGTERM" % SLEEP, lines)
        self.assertIn("💥 exit    host-test %s 3 3" % os.path.join(vh.PROGS, "exit_code"), lines)

    def test_status_reports_probed_mechanisms(self):
        mech = {m["name"]: m for m in self.status["mechanisms"]}
        self.assertEqual(set(mech), {"tp_btf", "raw_tp", "tracepoint", "kprobe", "fentry", "fmod_ret", "lsm",
                                     "cgroup_sock_addr", "ringbuf", "bpf_send_signal", "compat_syscalls"})
        self.assertTrue(mech["tp_btf"]["ok"])
        self.assertTrue(mech["ringbuf"]["ok"])
        self.assertEqual(self.status["process_mechanism"], "tp_btf")
        for m in mech.values():
            self.assertTrue(m["ok"] or m["reason"] != "ok", m)

    def test_reader_tells_the_kernel_when_it_looks(self):
        # while execs trickle in, the reader promises a look within its trickle poll (the
        # kernel's wake-up bound, --wakeup-us: 2 ms), in the kernel's clock (bpf_ktime_get_ns:
        # CLOCK_MONOTONIC), so records before then force no wake-up
        promised = [(now, v) for now, v in self.promises if v]
        self.assertTrue(promised, "vg_reader stayed 0 through %d samples" % len(self.promises))
        for now, v in promised:
            self.assertLess(v, now + 2 * 10**6, "a promise past the poll bound")
            self.assertGreater(v, now - 10**9, "a promise in another clock")

    def test_no_events_lost_or_malformed(self):
        c = self.status["counters"]
        self.assertEqual(c["kernel_ringbuf_full"], 0)
        self.assertEqual(c["bad_records"], 0)

    def test_sigterm_stops_agent_cleanly(self):
        self.assertEqual(self.agent_rc, 0, self.agent_log)

    def test_agent_leaves_no_bpf_programs_or_links(self):
        self.assertTrue(self.held["prog"] and self.held["link"], self.held)
        self.assertEqual(self.held["prog"] & self.progs_after, set())
        self.assertEqual(self.held["link"] & self.links_after, set())



@vh.require_root
class RawTpFallback(unittest.TestCase):
    """The process programs' raw_tp twins (for kernels without tp_btf, which this one has, so
    the agent never loads them here) pass this kernel's verifier: they probe-read what the
    tp_btf ones load directly, and a direct load slipped in once made them fail everywhere."""

    def test_every_process_program_loads_raw_tp_included(self):
        obj = os.path.join(vh.BUILD, "bpf-gen", "process.bpf.o")
        pins = tempfile.mkdtemp(prefix="vigil-rawtp-")
        subprocess.run(["mount", "-t", "bpf", "bpf", pins], check=True)
        try:
            r = subprocess.run(["bpftool", "prog", "loadall", obj, os.path.join(pins, "p")],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr[-3000:])
            self.assertLessEqual({"raw_tp_exec", "raw_tp_fork", "raw_tp_exit", "tp_btf_exec"},
                                 set(os.listdir(os.path.join(pins, "p"))))
        finally:
            subprocess.run(["umount", pins], check=True)
            os.rmdir(pins)


def catches_sigterm(pid):
    """Whether pid has a SIGTERM handler installed (/proc/<pid>/status SigCgt)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)))
    except OSError:
        pass
    return False


@vh.require_root
class StopWhileStarting(unittest.TestCase):
    """SIGTERM while the agent is still loading its programs stops it once the load is done,
    instead of being lost (the agent used to run on until a second signal)."""

    def test_sigterm_during_start_up_is_not_lost(self):
        d = vh.tempfile.mkdtemp(prefix="vigil-early-")
        try:
            with open(os.path.join(d, "vigild.log"), "w") as log:
                proc = subprocess.Popen([vh.VIGILD, "--bus", "ipc://" + d + "/ev.sock", "--control",
                                         "ipc://" + d + "/ctl.sock", "--tracing-policy-dir", ""],
                                        stdout=log, stderr=subprocess.STDOUT)
                # as soon as the handler is in place, well before the ~0.5 s BPF load ends
                while not catches_sigterm(proc.pid) and proc.poll() is None:
                    time.sleep(0.001)
                proc.send_signal(signal.SIGTERM)
                try:
                    rc = proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                    rc = None
            with open(os.path.join(d, "vigild.log")) as f:
                text = f.read()
            self.assertEqual(rc, 0, text)
            self.assertIn("stopped while starting", text)
        finally:
            vh.shutil.rmtree(d, ignore_errors=True)

if __name__ == "__main__":
    vh.main()
