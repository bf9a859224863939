"""vigilhost - run a real vigild on the running kernel and collect what reaches the bus.

Used by the host-lane tests: each test gets a private bus and control socket in a
temporary directory, a subscriber (`vigil getevents`) connected before the agent starts,
and the events it printed, parsed.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

BUILD = os.environ.get("VIGIL_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
VIGILD = os.path.join(BUILD, "core", "cli", "vigild")
VIGIL = os.path.join(BUILD, "core", "cli", "vigil")
PROGS = os.path.join(BUILD, "tests", "host")


def require_root(test):
    """Host tests load BPF programs: that needs root (CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN)."""
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            raise RuntimeError("host lane must run as root in CI")
        return unittest.skip("needs root to load BPF programs")(test)
    return test


SKIP_RETURN_CODE = 77   # ctest's SKIP_RETURN_CODE for every python lane (tests/*/CMakeLists.txt)


def main():
    """unittest.main for a lane: a run in which every test skipped exits 77, so ctest shows
    the lane as skipped instead of passed; a partial skip is listed on stderr."""
    result = unittest.main(verbosity=2, exit=False).result
    if not result.wasSuccessful():
        sys.exit(1)
    if result.skipped:
        for test, why in result.skipped:
            print(f"SKIPPED {test.id()}: {why}", file=sys.stderr)
        if len(result.skipped) == result.testsRun:
            sys.exit(SKIP_RETURN_CODE)
    sys.exit(0)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def bpf_prog_ids():
    out = subprocess.run(["bpftool", "-j", "prog", "list"], capture_output=True, text=True, check=True)
    return {p["id"] for p in json.loads(out.stdout or "[]")}


def bpf_link_ids():
    out = subprocess.run(["bpftool", "-j", "link", "list"], capture_output=True, text=True, check=True)
    return {l["id"] for l in json.loads(out.stdout or "[]")}


def bpf_ids_held(pid):
    """{"prog": ids, "map": ids, "link": ids} of the BPF objects pid holds open (its
    /proc/PID/fdinfo): the objects one agent loaded, where bpftool lists every agent's."""
    held = {"prog": set(), "map": set(), "link": set()}
    d = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(d):
        try:
            with open(os.path.join(d, fd)) as f:
                text = f.read()
        except OSError:
            continue    # closed meanwhile
        for line in text.splitlines():
            key, _, value = line.partition(":")
            if key in ("prog_id", "map_id", "link_id"):
                held[key[:-3]].add(int(value))
    return held


class Agent:
    """A vigild with a private bus, plus subscribers started before it."""

    def __init__(self, *agent_args, outputs=("json",), stdout_name=None):
        """stdout_name: a file in the agent's directory for vigild's standard output (what
        its --output prints) apart from its log; None: both in vigild.log."""
        self.dir = tempfile.mkdtemp(prefix="vigil-host-")
        self.bus = "ipc://" + os.path.join(self.dir, "events.sock")
        self.control = "ipc://" + os.path.join(self.dir, "control.sock")
        self.agent_args = list(agent_args)
        # isolation: no shipped policies unless the test names a directory
        if "--tracing-policy-dir" not in self.agent_args:
            self.agent_args += ["--tracing-policy-dir", ""]
        if "--rules-dir" not in self.agent_args:
            self.agent_args += ["--rules-dir", ""]
        self.outputs = outputs
        self.stdout_path = os.path.join(self.dir, stdout_name) if stdout_name else None
        self.stdout = None
        self.subs = {}
        self.proc = None

    def __enter__(self):
        for fmt in self.outputs:
            path = os.path.join(self.dir, "events." + fmt)
            f = open(path, "w")
            p = subprocess.Popen([VIGIL, "getevents", "-o", fmt, "--color", "never", "--bus", self.bus],
                                 stdout=f, stderr=subprocess.PIPE)
            self.subs[fmt] = (p, f, path)
        self.log = open(os.path.join(self.dir, "vigild.log"), "w")
        if self.stdout_path:
            self.stdout = open(self.stdout_path, "w")
        self.proc = subprocess.Popen([VIGILD, "--bus", self.bus, "--control", self.control] + self.agent_args,
                                     stdout=self.stdout or self.log, stderr=self.log)
        try:
            self.wait_ready()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def wait_ready(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("vigild exited early:\n" + self.read_log())
            r = subprocess.run([VIGIL, "status", "--control", self.control, "-o", "json"],
                               capture_output=True, text=True)
            if r.returncode == 0:
                self.ready_at = time.monotonic()  # first status answered (restart gaps)
                # subscribers connect within nanomsg's 100 ms reconnect interval
                time.sleep(0.3)
                return json.loads(r.stdout)
            time.sleep(0.1)
        raise RuntimeError("vigild not ready:\n" + self.read_log())

    def status(self):
        r = subprocess.run([VIGIL, "status", "--control", self.control, "-o", "json"],
                           capture_output=True, text=True, check=True)
        return json.loads(r.stdout)

    def read_log(self):
        self.log.flush()
        with open(os.path.join(self.dir, "vigild.log")) as f:
            return f.read()

    def stop(self):
        """SIGTERM the agent; return its exit code."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def add_policy_files(self, directory, files):
        """Write each {name: yaml text} into directory and `vigil tracingpolicy add` it:
        {name: CompletedProcess}, so a test can assert on each refusal or success."""
        added = {}
        for name, text in files.items():
            path = os.path.join(directory, name)
            with open(path, "w") as f:
                f.write(text)
            added[name] = subprocess.run([VIGIL, "tracingpolicy", "add", path, "--control", self.control],
                                         capture_output=True, text=True)
        return added

    def events(self, fmt="json", settle=0.5):
        """Stop the subscriber for fmt after a settle delay; return its output."""
        time.sleep(settle)
        p, f, path = self.subs[fmt]
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=10)
        f.close()
        with open(path) as fh:
            text = fh.read()
        if fmt == "json":
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        return text.splitlines()

    def __exit__(self, *exc):
        self.stop()
        for p, f, _ in self.subs.values():
            if p.poll() is None:
                p.kill()
                p.wait()
            f.close()
        self.log.close()
        if self.stdout:
            self.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        return False


def of_type(events, key):
    return [e[key] for e in events if key in e]


def find(events, key, pred):
    return [e[key] for e in events if key in e and pred(e[key])]


def exec_policy(name, binary, action=None, mode=None):
    """A TracingPolicy that selects the exec of one binary: sched_process_exec as a raw
    tracepoint, linux_binprm's path Equal to binary. action: the matchActions entry as YAML
    lines ("action: Sigkill", "action: Signal\\nargSig: 10"), None to only observe; mode: the
    policy-mode option ("enforce", "monitor"), None for the agent's default."""
    lines = ["apiVersion: cilium.io/v1alpha1", "kind: TracingPolicy", "metadata:",
             '  name: "%s"' % name, "spec:"]
    if mode:
        lines += ["  options:", '  - name: "policy-mode"', '    value: "%s"' % mode]
    lines += ["  tracepoints:", '  - subsystem: "sched"', '    event: "sched_process_exec"',
              "    raw: true", "    args:", "    - index: 2", '      type: "linux_binprm"',
              "    selectors:", "    - matchArgs:", "      - index: 2", '        operator: "Equal"',
              '        values: ["%s"]' % binary]
    if action:
        first, *rest = action.splitlines()
        lines += ["      matchActions:", "      - " + first] + ["        " + line for line in rest]
    return "\n".join(lines) + "\n"


def connect_errno(addr, timeout=None):
    """The errno a TCP connect to addr fails with, 0 when it succeeds."""
    s = socket.socket()
    s.settimeout(timeout)
    try:
        s.connect(addr)
        return 0
    except OSError as e:
        return e.errno
    finally:
        s.close()


def kill_rule(name, desc, output, binary):
    """A Lua rule (rules/lua's form) that kill()s every exec of binary."""
    return textwrap.dedent("""\
        return {
          name = "%s",
          desc = "%s",
          priority = "critical",
          tags = { "test" },
          output = "%s",
          events = { "process_exec" },
          on_event = function(ev)
            if ev["process.binary"] == "%s" then kill(ev["process.pid"]) end
          end,
        }
        """) % (name, desc, output, binary)
