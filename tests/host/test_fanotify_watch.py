"""Host lane: an open hook whose selectors only name paths is watched with fanotify marks.

On this kernel (no trampolines, no BPF LSM) the hook gets no program at all: fanotify marks on
the named file and directory report opens of exactly those, so opens of anything else cost
nothing. Checked here, with real opens by an unprivileged user: the mechanism `vigil tp list`
names; the event of a watched open (policy, path; flags marked unknown); no event and no
fanotify report for 2,000 unwatched opens (the agent's own counter), and no program of the
agent on sys_enter_openat; a hook that also tests the flags keeps its tracepoint and says why.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import vigilhost as vh  # noqa: E402

PATHS = """\
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "fan-paths"
spec:
  options:
  - name: "file-watch"
    value: "auto"
  tracepoints:
  - subsystem: "syscalls"
    event: "sys_enter_openat"
    args:
    - index: 6
      type: "string"
      label: "path"
    - index: 7
      type: "int"
      label: "flags"
    selectors:
    - matchArgs:
      - index: 6
        operator: "Equal"
        values: ["%(file)s"]
    - matchArgs:
      - index: 6
        operator: "Prefix"
        values: ["%(dir)s/"]
"""

FLAGS = """\
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "fan-flags"
spec:
  options:
  - name: "file-watch"
    value: "auto"
  tracepoints:
  - subsystem: "syscalls"
    event: "sys_enter_openat"
    args:
    - index: 6
      type: "string"
    - index: 7
      type: "int"
    selectors:
    - matchArgs:
      - index: 6
        operator: "Prefix"
        values: ["%(dir)s/"]
      - index: 7
        operator: "Mask"
        values: ["0x43"]
"""

AS_NOBODY = ["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups"]


def counter(status, name):
    """A counter of `vigil status -o json`, wherever the status nests it."""
    def walk(o):
        if isinstance(o, dict):
            if name in o:
                return o[name]
            for v in o.values():
                r = walk(v)
                if r is not None:
                    return r
        return None
    return walk(status)


@vh.require_root
class FanotifyWatch(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        tmp = tempfile.mkdtemp(prefix="vigil-fan-")
        os.chmod(tmp, 0o755)
        cls.file = os.path.join(tmp, "secret.key")
        cls.dir = os.path.join(tmp, "vault")
        cls.nested = os.path.join(cls.dir, "sub", "token")
        cls.other = os.path.join(tmp, "public.txt")
        os.makedirs(os.path.dirname(cls.nested), mode=0o755)
        os.chmod(cls.dir, 0o755)
        for p in (cls.file, cls.nested, cls.other):
            with open(p, "w") as f:
                f.write("x\n")
            os.chmod(p, 0o644)
        pols = []
        for name, text in (("paths", PATHS), ("flags", FLAGS)):
            pols.append(os.path.join(tmp, name + ".yaml"))
            with open(pols[-1], "w") as f:
                f.write(text % {"file": cls.file, "dir": cls.dir})
        with vh.Agent("--tracing-policy", pols[0], "--tracing-policy", pols[1]) as agent:
            cls.tplist = subprocess.run([vh.VIGIL, "tp", "list", "--control", agent.control],
                                        capture_output=True, text=True).stdout
            cls.perf = [p for p in json.loads(subprocess.run(["bpftool", "-j", "perf", "list"], capture_output=True,
                                                             text=True, check=True).stdout or "[]")
                        if p.get("pid") == agent.proc.pid and p.get("tracepoint") == "sys_enter_openat"]
            before = counter(agent.status(), "fanotify_events")
            # 2,000 unwatched opens by an unprivileged user, in one process
            cls.unwatched = subprocess.run(AS_NOBODY + ["python3", "-c",
                                           "import sys\nfor _ in range(2000): open(sys.argv[1]).close()",
                                           cls.other], capture_output=True, text=True)
            cls.gained_unwatched = counter(agent.status(), "fanotify_events") - before
            # the opener lives on a moment: a process that has exited by the time its open is
            # read is reported by pid only (README: what fanotify events differ in)
            cls.cat_file = subprocess.Popen(AS_NOBODY + ["python3", "-c",
                                            "import sys, time\nopen(sys.argv[1]).close()\ntime.sleep(1)", cls.file])
            cls.cat_file.wait()
            cls.cat_nested = subprocess.Popen(AS_NOBODY + ["cat", cls.nested], stdout=subprocess.DEVNULL)
            cls.cat_nested.wait()
            cls.events = agent.events("json", settle=1.0)

    def hook_line(self, policy):
        """The hook line under the policy's line in `vigil tp list`."""
        lines = self.tplist.splitlines()
        at = [i for i, line in enumerate(lines) if line.startswith(policy + " ")]
        self.assertEqual(len(at), 1, self.tplist)
        return lines[at[0] + 1]

    def opens(self, path):
        return [e["process_tracepoint"] for e in self.events if "process_tracepoint" in e
                and e["process_tracepoint"]["policy_name"] == "fan-paths"
                and e["process_tracepoint"]["args"][0].get("string_arg") == path]

    def test_path_filter_hook_is_watched_with_fanotify(self):
        self.assertIn("via fanotify (opens of the watched paths only)", self.hook_line("fan-paths"))
        # no program of the agent's on sys_enter_openat: fan-flags (below) is in the
        # raw_syscalls dispatcher's table, fan-paths has none
        self.assertEqual(len(self.perf), 0, self.perf)

    def test_flags_filter_keeps_a_syscall_hook_and_says_why(self):
        line = self.hook_line("fan-flags")
        self.assertIn("via raw_syscalls dispatcher", line)
        self.assertIn("not fanotify: selector 1 filters on more than the path", line)

    def test_watched_file_open_is_an_event(self):
        ev = self.opens(self.file)
        self.assertEqual([e["process"]["pid"] for e in ev], [self.cat_file.pid])
        self.assertIn("python3", ev[0]["process"]["binary"], ev[0]["process"])
        self.assertEqual(ev[0]["process"]["uid"], 65534)
        self.assertIn("error_arg", ev[0]["args"][1])  # the opener's flags: not in a fanotify event

    def test_watched_prefix_reaches_nested_directories(self):
        self.assertEqual([e["process"]["pid"] for e in self.opens(self.nested)], [self.cat_nested.pid])

    def test_unwatched_opens_cost_nothing(self):
        self.assertEqual(self.unwatched.returncode, 0, self.unwatched.stderr)
        self.assertEqual(self.gained_unwatched, 0)
        self.assertEqual(self.opens(self.other), [])


DENY = """\
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "fan-deny"
spec:
  options:
  - name: "file-watch"
    value: "fanotify"
  kprobes:
  - call: "sys_openat"
    syscall: true
    args:
    - index: 1
      type: "string"
    selectors:
    - matchArgs:
      - index: 1
        operator: "Equal"
        values: ["%(file)s"]
      matchActions:
      - action: Override
        argError: -1
"""


def alive(pid):
    """Running (a zombie waiting for its new parent to reap it is not)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def children(pid):
    with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
        return [int(c) for c in f.read().split()]


@vh.require_root
class FanotifyDeny(unittest.TestCase):
    """Override through permission events; neither a stopped agent nor a stopped responder
    holds an open past the deadline, and a stall is allowed, not denied."""

    def cat(self, path, timeout=10):
        t = time.monotonic()
        r = subprocess.run(AS_NOBODY + ["cat", path], capture_output=True, text=True, timeout=timeout)
        return r, time.monotonic() - t

    def test_deny_and_stalls(self):
        tmp = tempfile.mkdtemp(prefix="vigil-fan-deny-")
        os.chmod(tmp, 0o755)
        secret, other = os.path.join(tmp, "deny.key"), os.path.join(tmp, "other")
        for p in (secret, other):
            with open(p, "w") as f:
                f.write("x\n")
            os.chmod(p, 0o644)
        pol = os.path.join(tmp, "deny.yaml")
        with open(pol, "w") as f:
            f.write(DENY % {"file": secret})
        with vh.Agent() as agent:
            # added through the control socket: its connection's thread forks the responder
            # and ends; the responder must outlive that thread
            added = subprocess.run([vh.VIGIL, "tp", "add", pol, "--control", agent.control],
                                   capture_output=True, text=True)
            self.assertEqual(added.returncode, 0, added.stderr)
            time.sleep(0.5)
            tplist = subprocess.run([vh.VIGIL, "tp", "list", "--control", agent.control],
                                    capture_output=True, text=True).stdout
            self.assertIn("via fanotify", tplist)
            denied, _ = self.cat(secret)
            self.assertNotEqual(denied.returncode, 0)
            self.assertIn("Operation not permitted", denied.stderr)
            self.assertEqual(self.cat(other)[0].returncode, 0)
            responder = children(agent.proc.pid)
            self.assertEqual(len(responder), 1, responder)
            # the agent stopped: the responder still answers, at once
            os.kill(agent.proc.pid, signal.SIGSTOP)
            try:
                stopped, took = self.cat(secret)
            finally:
                os.kill(agent.proc.pid, signal.SIGCONT)
            self.assertIn("Operation not permitted", stopped.stderr)
            self.assertLess(took, 2.0)
            # the responder stopped: the agent allows past the deadline (250 ms) and counts
            os.kill(responder[0], signal.SIGSTOP)
            try:
                late, took = self.cat(secret)
            finally:
                os.kill(responder[0], signal.SIGCONT)
            self.assertEqual(late.returncode, 0, late.stderr)
            self.assertLess(took, 3.0)
            self.assertGreaterEqual(counter(agent.status(), "fanotify_allowed_past_deadline"), 1)
            events = [e["process_kprobe"] for e in agent.events("json", settle=1.0) if "process_kprobe" in e
                      and e["process_kprobe"]["policy_name"] == "fan-deny"]
            self.assertEqual(events[0]["action"], "KPROBE_ACTION_OVERRIDE", events[0])
            self.assertEqual(events[0]["process"]["uid"], 65534)
            # the agent killed: its responder ends with it, and opens go on
            agent.proc.kill()
            agent.proc.wait()
            time.sleep(0.5)
            self.assertFalse(alive(responder[0]), "the responder outlived the agent")
            self.assertEqual(self.cat(secret, timeout=5)[0].returncode, 0)


if __name__ == "__main__":
    unittest.main()
