"""Host lane: the agent SIGKILLed and restarted.

Without --keep-enforcing the kernel drops everything the agent attached when its fds close,
and the next agent rebuilds its process state from /proc: a process started before the
restart keeps one exec_id for its later children and its exit. With --keep-enforcing the
enforcing policies stay pinned under a root-only bpffs directory and kill through the gap
(an attempt made while no agent runs dies with SIGKILL); the next agent replaces the pins
once its own programs are attached; a clean stop keeps them; an agent started without the
flag removes them.
"""
import errno
import json
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import vigilhost as vh  # noqa: E402
from test_enforcement import EXIT_KILL_POLICY  # noqa: E402  a Sigkill on a classic tracepoint

MARKER = os.path.join(vh.PROGS, "marker")
USER = "vigilrst"


def run(*argv):
    return subprocess.run(list(argv), capture_output=True, text=True).returncode


def fd_objects(pid):
    """The BPF program and link ids the process holds fds of (from /proc/<pid>/fdinfo)."""
    progs, links = set(), set()
    d = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(d):
        try:
            with open(os.path.join(d, fd)) as f:
                info = dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
        except OSError:
            continue
        if "link_id" in info:
            links.add(int(info["link_id"]))
        elif "prog_id" in info:
            progs.add(int(info["prog_id"]))
    return progs, links


def wait_gone(ids, lister, timeout=5.0):
    """ids that still exist after timeout (the kernel frees programs after an RCU grace period)."""
    deadline = time.time() + timeout
    left = ids & lister()
    while left and time.time() < deadline:
        time.sleep(0.1)
        left = ids & lister()
    return left


def sigkill(agent):
    t0 = time.monotonic()
    agent.proc.send_signal(signal.SIGKILL)
    agent.proc.wait(timeout=10)
    return t0


def pinned_link_ids(root):
    ids = set()
    for p in pinned_files(root):
        out = subprocess.run(["bpftool", "-j", "link", "show", "pinned", os.path.join(root, p)],
                             capture_output=True, text=True, check=True)
        ids.add(json.loads(out.stdout)["id"])
    return ids


def pinned_files(root):
    out = []
    for d, _, files in os.walk(root):
        out += [os.path.relpath(os.path.join(d, f), root) for f in files]
    return sorted(out)


@vh.require_root
class RestartWithoutKeep(unittest.TestCase):
    """SIGKILL without --keep-enforcing: nothing stays attached; state rebuilt from /proc."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-rst-")
        flag = os.path.join(cls.tmp, "go")
        cls.child_marker = os.path.join(cls.tmp, "child.marker")
        script = "while [ ! -e %s ]; do sleep 0.05; done; %s %s; exit 7" % (flag, MARKER, cls.child_marker)
        cls.miner = os.path.join(cls.tmp, "miner")
        shutil.copy(MARKER, cls.miner)
        kill_yaml = os.path.join(cls.tmp, "kill.yaml")
        with open(kill_yaml, "w") as f:
            f.write(vh.exec_policy("kill-restart-miner", cls.miner, "action: Sigkill"))
        with vh.Agent("--tracing-policy", kill_yaml, outputs=("json",)) as a1:
            m = os.path.join(cls.tmp, "alive.marker")
            cls.alive = (run(cls.miner, m), os.path.exists(m))
            # a process the first agent saw start
            cls.waiter = subprocess.Popen(["sh", "-c", script])
            time.sleep(0.3)
            cls.progs, cls.links = fd_objects(a1.proc.pid)
            t0 = sigkill(a1)
            m = os.path.join(cls.tmp, "gap.marker")
            cls.in_gap = (run(cls.miner, m), os.path.exists(m))
        with vh.Agent(outputs=("json",)) as a2:
            cls.gap = a2.ready_at - t0
            cls.progs_left = wait_gone(cls.progs, vh.bpf_prog_ids)
            cls.links_left = wait_gone(cls.links, vh.bpf_link_ids)
            open(flag, "w").close()
            cls.waiter_rc = cls.waiter.wait(timeout=10)
            cls.events = a2.events("json")
        print("\nrestart gap (SIGKILL to the new agent answering status, nothing pinned): %.3f s" % cls.gap,
              file=sys.stderr)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_sigkill_leaves_no_program_or_link_attached(self):
        self.assertTrue(self.progs and self.links, "the agent held no BPF fds: nothing was tested")
        self.assertEqual(self.progs_left, set())
        self.assertEqual(self.links_left, set())

    def test_without_the_flag_the_gap_lets_a_denied_exec_run(self):
        self.assertEqual(self.alive, (-9, False))
        self.assertEqual(self.in_gap, (0, True))

    def test_restart_gap_is_measured(self):
        self.assertLess(self.gap, 10.0)

    def test_process_started_before_restart_is_rebuilt_from_proc(self):
        self.assertEqual(self.waiter_rc, 7)
        seeded = [e["process_exec"]["process"] for e in self.events if "process_exec" in e
                  and e["process_exec"]["process"]["pid"] == self.waiter.pid]
        self.assertEqual(len(seeded), 1, seeded)
        self.assertIn("procFS", seeded[0]["flags"])
        exec_id = seeded[0]["exec_id"]
        # its child's exec names it as parent, with the same exec_id
        child = [e["process_exec"] for e in self.events if "process_exec" in e
                 and e["process_exec"]["process"].get("binary") == MARKER]
        self.assertEqual(len(child), 1)
        self.assertEqual(child[0]["parent"]["exec_id"], exec_id)
        self.assertEqual(child[0]["process"]["parent_exec_id"], exec_id)
        self.assertEqual(child[0]["parent"]["pid"], self.waiter.pid)
        # and its exit carries the same exec_id and its parent (this test)
        exits = [e["process_exit"] for e in self.events if "process_exit" in e
                 and e["process_exit"]["process"]["pid"] == self.waiter.pid]
        self.assertEqual(len(exits), 1)
        self.assertEqual(exits[0]["process"]["exec_id"], exec_id)
        self.assertEqual(exits[0]["parent"]["pid"], os.getpid())
        self.assertEqual(exits[0]["process"]["parent_exec_id"], exits[0]["parent"]["exec_id"])


@vh.require_root
class KeepEnforcing(unittest.TestCase):
    """--keep-enforcing: a SIGKILL leaves the Sigkill policy enforcing through the gap."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-keep-")
        os.chmod(cls.tmp, 0o755)
        cls.pin = "/sys/fs/bpf/vigil-test-%d" % os.getpid()
        cls.miner = os.path.join(cls.tmp, "miner")
        cls.watched = os.path.join(cls.tmp, "watched")
        for p in (cls.miner, cls.watched):
            shutil.copy(MARKER, p)
        kill_yaml = os.path.join(cls.tmp, "kill.yaml")
        watch_yaml = os.path.join(cls.tmp, "watch.yaml")
        with open(kill_yaml, "w") as f:
            f.write(vh.exec_policy("kill-restart-miner", cls.miner, "action: Sigkill"))
        with open(watch_yaml, "w") as f:
            f.write(vh.exec_policy("watch-restart-marker", cls.watched))  # observes only: never pinned
        args = ("--keep-enforcing", "--pin-dir", cls.pin, "--tracing-policy", kill_yaml,
                "--tracing-policy", watch_yaml)
        subprocess.run(["useradd", "-M", "-s", "/bin/sh", USER], capture_output=True)
        cls.uid = pwd.getpwnam(USER).pw_uid
        r = {}

        def attempt(tag):
            m = os.path.join(cls.tmp, tag + ".marker")
            r[tag] = (run(cls.miner, m), os.path.exists(m))

        with vh.Agent(*args, outputs=("json",)) as a1:
            attempt("alive")
            cls.pins1 = pinned_files(cls.pin)
            st = os.stat(cls.pin)
            cls.root_mode, cls.root_uid = stat.S_IMODE(st.st_mode), st.st_uid
            cls.tamper = {
                "list": run("runuser", "-u", USER, "--", "ls", cls.pin),
                "create": run("runuser", "-u", USER, "--", "mkdir", os.path.join(cls.pin, "x")),
                "remove": run("runuser", "-u", USER, "--", "rm", "-rf", cls.pin),
            }
            _, cls.links1 = fd_objects(a1.proc.pid)
            cls.pinned1 = pinned_link_ids(cls.pin)
            t0 = sigkill(a1)
            # the gap: no agent runs
            attempt("gap")
            cls.gap_pins = pinned_files(cls.pin)
            cls.gap_links = cls.links1 & vh.bpf_link_ids()
            # attempts all through the restart: the old pins hand over to the new programs
            stop = threading.Event()
            cls.storm = []

            def storm():
                i = 0
                while not stop.is_set():
                    m = os.path.join(cls.tmp, "storm%d.marker" % i)
                    cls.storm.append((run(cls.miner, m), os.path.exists(m)))
                    i += 1
                    time.sleep(0.02)
            th = threading.Thread(target=storm)
            th.start()
            try:
                a2 = vh.Agent(*args, outputs=("json",))
                a2.__enter__()
                time.sleep(0.5)
            finally:
                stop.set()
                th.join()
        try:
            cls.gap = a2.ready_at - t0
            attempt("restarted")
            cls.pins2 = pinned_files(cls.pin)
            cls.pinned2 = pinned_link_ids(cls.pin)
            cls.links1_left = wait_gone(cls.links1, vh.bpf_link_ids)
            _, links2 = fd_objects(a2.proc.pid)
            cls.events2 = a2.events("json")
            cls.stop_rc = a2.stop()
        finally:
            a2.__exit__(None, None, None)
        attempt("after_clean_stop")
        cls.pins_after_stop = pinned_files(cls.pin)
        cls.links2_unpinned_left = wait_gone(links2 - cls.pinned2, vh.bpf_link_ids)
        cls.links2_after_stop = links2 & vh.bpf_link_ids()
        # an agent without the flag takes over: the pins go once it runs
        with vh.Agent("--pin-dir", cls.pin, outputs=("json",)):
            cls.pins3 = pinned_files(cls.pin)
            attempt("unpinned")
        cls.links2_left = wait_gone(links2, vh.bpf_link_ids)
        cls.r = r
        print("\nrestart gap with --keep-enforcing (SIGKILL to the new agent answering status): %.3f s; "
              "attempt during the gap: exit %d, ran: %s; attempts through the restart: %d, outcomes %s"
              % (cls.gap, r["gap"][0], r["gap"][1], len(cls.storm), sorted(set(cls.storm))), file=sys.stderr)

    @classmethod
    def tearDownClass(cls):
        subprocess.run(["rm", "-rf", cls.pin])
        subprocess.run(["userdel", USER], capture_output=True)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_denied_exec_is_killed_while_the_agent_runs(self):
        self.assertEqual(self.r["alive"], (-9, False))

    def test_only_enforcing_policy_and_process_programs_are_pinned(self):
        run_dirs = {p.split("/")[0] for p in self.pins1}
        self.assertEqual(len(run_dirs), 1, self.pins1)
        names = {p.split("/", 1)[1] for p in self.pins1}
        self.assertEqual(names, {"process_exec", "process_fork", "process_exit", "kill-restart-miner/h1"})

    def test_pin_dir_is_root_only_and_users_cannot_tamper(self):
        self.assertEqual((self.root_mode, self.root_uid), (0o700, 0))
        self.assertNotEqual(self.tamper["list"], 0)
        self.assertNotEqual(self.tamper["create"], 0)
        self.assertNotEqual(self.tamper["remove"], 0)
        self.assertTrue(self.pins1)

    def test_attempt_during_the_gap_is_killed(self):
        self.assertEqual(self.r["gap"], (-9, False))
        self.assertEqual(self.gap_pins, self.pins1)
        self.assertEqual(len(self.pinned1), 4)
        self.assertLessEqual(self.pinned1, self.gap_links)
        # the watch policy's link was not pinned
        self.assertEqual(len(self.links1 - self.pinned1), 1)

    def test_every_attempt_through_the_restart_is_killed(self):
        self.assertGreater(len(self.storm), 10)
        self.assertEqual(set(self.storm), {(-9, False)})

    def test_restarted_agent_replaces_the_pins_and_enforces(self):
        self.assertEqual(self.r["restarted"], (-9, False))
        old = {p.split("/")[0] for p in self.pins1}
        new = {p.split("/")[0] for p in self.pins2}
        self.assertEqual(len(new), 1)
        self.assertFalse(old & new, "the previous run's pins were not replaced")
        self.assertEqual(self.links1_left, set(), "links of the previous run still attached")
        kills = [e["process_tracepoint"] for e in self.events2 if "process_tracepoint" in e
                 and e["process_tracepoint"]["policy_name"] == "kill-restart-miner"]
        self.assertTrue(kills)
        self.assertEqual({k["action"] for k in kills}, {"KPROBE_ACTION_SIGKILL"})
        # what was killed while no agent read the ring buffer was never reported
        attempts = 1 + len(self.storm) + 1
        self.assertLess(len(kills), attempts)

    def test_clean_stop_keeps_the_pins_enforcing(self):
        self.assertEqual(self.stop_rc, 0)
        self.assertEqual(self.pins_after_stop, self.pins2)
        self.assertEqual(self.r["after_clean_stop"], (-9, False))
        self.assertEqual(self.links2_after_stop, self.pinned2)
        self.assertEqual(self.links2_unpinned_left, set())

    def test_agent_without_the_flag_removes_the_pins(self):
        self.assertEqual(self.pins3, [])
        self.assertEqual(self.r["unpinned"], (0, True))
        self.assertEqual(self.links2_left, set())


@vh.require_root
class PinDirChecks(unittest.TestCase):
    def test_pin_dir_owned_by_a_user_is_refused(self):
        subprocess.run(["useradd", "-M", "-s", "/bin/sh", USER + "2"], capture_output=True)
        path = "/sys/fs/bpf/vigil-evil-%d" % os.getpid()
        try:
            self.assertEqual(run("runuser", "-u", USER + "2", "--", "mkdir", path), 0)
            r = subprocess.run([vh.VIGILD, "--keep-enforcing", "--pin-dir", path, "--tracing-policy-dir", "",
                                "--rules-dir", "", "--bus", "ipc:///tmp/vigil-evil-%d.sock" % os.getpid(),
                                "--control", "ipc:///tmp/vigil-evil-ctl-%d.sock" % os.getpid()],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 1)
            self.assertIn("not a directory owned by root", r.stderr)
            self.assertEqual(os.listdir(path), [])
            # without the flag there is nothing to pin: the agent starts, and leaves it alone
            with vh.Agent("--pin-dir", path) as agent:
                self.assertIn("leaving %s alone" % path, agent.read_log())
            self.assertEqual(os.stat(path).st_uid, pwd.getpwnam(USER + "2").pw_uid)
        finally:
            subprocess.run(["rm", "-rf", path])
            subprocess.run(["userdel", USER + "2"], capture_output=True)

    def test_a_pin_that_fails_refuses_the_hook_without_falling_back(self):
        """The policy's pin directory taken by a symlink (bpffs allows them): the Sigkill hook's
        pin fails, so the policy is refused naming its file and the pin; no other mechanism is
        tried (a sched tracepoint would have been recompiled without tracepoints), and the
        policy already running and the agent's own pins stay as they were."""
        path = "/sys/fs/bpf/vigil-pinfail-%d" % os.getpid()
        tmp = tempfile.mkdtemp(prefix="vigil-pinfail-")
        watch_yaml = os.path.join(tmp, "watch.yaml")
        with open(watch_yaml, "w") as f:
            f.write(vh.exec_policy("watch-pinfail", MARKER))
        try:
            with vh.Agent("--keep-enforcing", "--pin-dir", path, "--tracing-policy", watch_yaml) as agent:
                (run_dir,) = os.listdir(path)
                pins = pinned_files(path)
                os.symlink("/dev/null", os.path.join(path, run_dir, "kill-on-exit"))
                r = agent.add_policy_files(tmp, {"kill.yaml": EXIT_KILL_POLICY})["kill.yaml"]
                policies = {p["name"]: p for p in agent.status()["policies"]}
                log = agent.read_log()
                pins_after = [p for p in pinned_files(path) if p != run_dir + "/kill-on-exit"]
        finally:
            subprocess.run(["rm", "-rf", path])
            shutil.rmtree(tmp, ignore_errors=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(os.path.join(tmp, "kill.yaml"), r.stderr)
        self.assertRegex(r.stderr, r"--keep-enforcing: cannot pin its link as %s/h\d+: \w"
                         % re.escape("%s/%s/kill-on-exit" % (path, run_dir)))
        self.assertNotIn("not available", r.stderr)
        self.assertNotIn("falling back", log)
        self.assertEqual(set(policies), {"watch-pinfail"})
        self.assertTrue(policies["watch-pinfail"]["hooks"][0]["attached"])
        self.assertEqual(pins_after, pins)

    def test_bad_option_values_are_refused(self):
        for argv in (["--pin-dir", "relative/dir"], ["--pin-dir", "/sys/fs/bpf/../x"], ["--keep-enforcing=yes"]):
            r = subprocess.run([vh.VIGILD] + argv, capture_output=True, text=True)
            self.assertEqual(r.returncode, 2, argv)
            self.assertIn("usage", r.stderr)


if __name__ == "__main__":
    vh.main()
