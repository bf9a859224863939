"""flbtest - what vigil-forward's plugin-lane tests share: a real agent (../../host/vigilhost.py),
the real Forward server (fluent_server.js on @fluent-org/logger's FluentServer), the forwarder
under test, and numbered streams of real execs.

Node.js and the npm package: `node` and `npm` are taken from PATH (this project's machines
ship Node.js 20 with npm 11). Only when one is missing, and we are root, Debian's packages
are installed (`nodejs`, `npm`: Node.js 18, which FluentServer supports). The npm package is
installed into this folder from the committed package-lock.json when node_modules lacks it.
A test that cannot get its peer fails under CI (CI=true) and is skipped elsewhere, with the
reason either way.
"""
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "host"))
import vigilhost as vh  # noqa: E402

FORWARD = os.environ.get("VIGIL_FORWARD", os.path.join(vh.BUILD, "plugins", "fluentbit", "vigil-forward"))
SERVER_JS = os.path.join(HERE, "fluent_server.js")
SERVER_PKG = os.path.join(HERE, "node_modules", "@fluent-org", "logger", "package.json")
TRUE = os.path.realpath("/bin/true")
CI = bool(os.environ.get("CI"))
_live = []      # processes started here; Workdir's exit kills those still running


def cannot_run(reason):
    """The test lacks something it needs: fail in CI, skip elsewhere, and say what."""
    if CI:
        raise RuntimeError("cannot run under CI: " + reason)
    raise unittest.SkipTest(reason)


def require_root():
    if os.geteuid() != 0:
        cannot_run("needs root: the agent loads BPF programs")


def _apt_install(*packages):
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, timeout=300)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + list(packages), check=True,
                   env=env, timeout=600)


def node_and_npm():
    """Paths of node and npm, installing Debian's packages only when they are absent."""
    node, npm = shutil.which("node") or shutil.which("nodejs"), shutil.which("npm")
    missing = [p for p, have in (("nodejs", node), ("npm", npm)) if not have]
    if missing:
        if os.geteuid() != 0:
            cannot_run("%s not on PATH and not root to apt-get install it" % " and ".join(missing))
        try:
            _apt_install(*missing)
        except (subprocess.SubprocessError, OSError) as e:
            cannot_run("apt-get install %s failed: %s" % (" ".join(missing), e))
        node, npm = shutil.which("node") or shutil.which("nodejs"), shutil.which("npm")
        if not node or not npm:
            cannot_run("node/npm still missing after apt-get install %s" % " ".join(missing))
    return node, npm


def ensure_server():
    """The node binary, with @fluent-org/logger installed next to fluent_server.js."""
    node, npm = node_and_npm()
    # two build trees may test at once; the lock lives outside the source tree
    with open(os.path.join(tempfile.gettempdir(), "vigil-fluentbit-npm.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(SERVER_PKG):
            r = subprocess.run([npm, "install", "--no-audit", "--no-fund"], cwd=HERE, capture_output=True,
                               text=True, timeout=300)
            if r.returncode != 0 or not os.path.exists(SERVER_PKG):
                cannot_run("npm install in %s failed:\n%s%s" % (HERE, r.stdout, r.stderr))
    with open(SERVER_PKG) as f:
        version = json.load(f)["version"]
    if version != "1.0.10":
        cannot_run("node_modules holds @fluent-org/logger %s, package-lock.json pins 1.0.10" % version)
    return node


def wait_until(pred, timeout, interval=0.05, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))


def read_json_lines(path):
    """Complete JSON lines of a file that may still be written to."""
    out = []
    try:
        with open(path) as f:
            data = f.read()
    except FileNotFoundError:
        return out
    for line in data.split("\n")[:-1]:      # the last piece may be a partial line
        if line.strip():
            out.append(json.loads(line))
    return out


class Server:
    """fluent_server.js: one process, its output in a file of its own."""

    def __init__(self, node, workdir, name, unix=None, port=None, count=False):
        self.node, self.name = node, name
        self.unix, self.port = unix, port
        self.out = os.path.join(workdir, name + ".out")
        self.err = os.path.join(workdir, name + ".err")
        self.args = [node, SERVER_JS] + (["--unix", unix] if unix else ["--port", str(port)]) + (
            ["--count"] if count else [])
        self.proc = None

    def start(self, timeout=20):
        with open(self.out, "w") as o, open(self.err, "w") as e:
            self.proc = subprocess.Popen(self.args, stdout=o, stderr=e)
        _live.append(self.proc)
        wait_until(lambda: self._listening(), timeout, what="%s to listen" % self.name)
        return self

    def _listening(self):
        if self.proc.poll() is not None:
            raise AssertionError("%s exited: %s" % (self.name, open(self.err).read()))
        return any("listening" in l for l in read_json_lines(self.out))

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=10)

    def lines(self):
        return read_json_lines(self.out)

    def entries(self):
        return [l for l in self.lines() if "tag" in l]

    def acks(self):
        return [l["ack"] for l in self.lines() if "ack" in l]


class Forwarder:
    """vigil-forward under test, with its stats file polled every 100 ms."""

    def __init__(self, workdir, name, bus, to, *args):
        self.name = name
        self.stats_path = os.path.join(workdir, name + ".stats.json")
        self.log_path = os.path.join(workdir, name + ".log")
        self.args = [FORWARD, "--bus", bus, "--to", to, "--stats-file", self.stats_path, "--stats-ms", "100"] + \
            list(args)
        self.proc = None

    def start(self):
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT)
        _live.append(self.proc)
        wait_until(lambda: self._alive() and os.path.exists(self.stats_path), 20, what=self.name + " to start")
        return self

    def _alive(self):
        if self.proc.poll() is not None:
            raise AssertionError("%s exited with %s:\n%s" % (self.name, self.proc.returncode, self.log()))
        return True

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stats(self):
        for _ in range(50):
            try:
                with open(self.stats_path) as f:
                    return json.load(f)
            except (FileNotFoundError, json.JSONDecodeError):
                time.sleep(0.02)
        raise AssertionError("no readable stats from " + self.name)

    def wait_stats(self, pred, timeout, what):
        """Poll the stats until pred holds; return the stats that satisfied it."""
        def check():
            self._alive()
            st = self.stats()
            return st if pred(st) else None
        return wait_until(check, timeout, 0.1, what)

    def stop(self, timeout=30):
        """SIGTERM; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("%s ignored SIGTERM for %d s" % (self.name, timeout))
        return self.proc.returncode

    def log(self):
        with open(self.log_path) as f:
            return f.read()


def new_token():
    """A word that marks this test's execs apart from anything else running."""
    return "vgl%d%s" % (os.getpid(), os.urandom(3).hex())


def run_seq(token, start, count, rate=None):
    """Exec /bin/true <token>-<i> for i in [start, start + count), paced at rate per second."""
    t0 = time.time()
    for k in range(count):
        subprocess.run([TRUE, "%s-%d" % (token, start + k)], check=True)
        if rate:
            ahead = t0 + (k + 1) / rate - time.time()
            if ahead > 0:
                time.sleep(ahead)


def seq_of(entry, token):
    """The sequence number of a forwarded exec of this test's stream, else None."""
    ex = entry.get("record", {}).get("process_exec")
    if not ex or ex["process"].get("binary") != TRUE:
        return None
    args = ex["process"].get("arguments", "")
    if not args.startswith(token + "-"):
        return None
    tail = args[len(token) + 1:]
    return int(tail) if tail.isdigit() else None


def seqs(entries, token):
    return [s for s in (seq_of(e, token) for e in entries) if s is not None]


def wait_bus_live(fwd, token, timeout=20):
    """Exec probes until the forwarder has taken events from the bus: subscribed end to end."""
    def probe():
        subprocess.run([TRUE, token + "-probe"], check=True)
        return fwd.stats()["events_in"] > 0
    wait_until(probe, timeout, 0.2, "%s to receive bus events" % fwd.name)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Workdir:
    """A temporary folder for sockets, outputs and logs; VIGIL_KEEP=1 keeps it."""

    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="vigil-flb-")
        return self.path

    def __exit__(self, *exc):
        while _live:
            p = _live.pop()
            if p.poll() is None:
                p.kill()
            p.wait()
        if os.environ.get("VIGIL_KEEP"):
            print("kept " + self.path, file=sys.stderr)
        else:
            shutil.rmtree(self.path, ignore_errors=True)
        return False
