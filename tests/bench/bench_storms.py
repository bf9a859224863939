#!/usr/bin/env python3
"""Syscall-storm benchmark: what tracing costs the traced, per condition, in one run.

Workloads (each a C program timing its own loop):
  other      N getppid calls: a syscall no policy hooks
  open_out   N open+close of /etc/hostname (outside every watched prefix)
  open_in    N/10 open+close of /etc/shadow (inside monitor-sensitive-files' prefix: an event each)
  connect    N/20 TCP connects to a loopback listener, accepted and closed
  exec       N/200 fork+exec of a tiny static binary
  compile    N/3333 small C files compiled one after another (cc -c): a realistic workload

Conditions, interleaved round by round (the order rotates each round):
  none       no agent
  floor      empty BPF programs on raw_syscalls/sys_enter and cgroup connect4 (any hook's cost)
  floor_fe   one empty fentry program on __x64_sys_openat: the floor of vigil's openat hooks
             where the kernel has BPF trampolines (one trampoline call an open)
  watch      one inotify watch on /opt, no BPF: what any fsnotify mark on the storms' filesystem
             costs its opens and closes (the agent's policy directory watch did, until it
             became a look four times a second)
  bpftrace   bpftrace with one-liners printing what the default configuration reports
             (execs, exits, opens under the watched prefixes, connects)
  bare       vigild --output compact without policies or rules
  default    vigild as scripts/run.sh starts it: --output compact (its standard output to a
             file), rules/policies + rules/lua, nothing subscribed to its bus
  default_sub  default plus one `vigil getevents -o json` subscriber writing a file: what a
             bus consumer adds
  before     (with --before DIR) the default configuration run by another build's vigild; added
             by --before, or at its place in --conditions (which refuses it without --before)
  auditd     (named, with --audit-ok) auditd -n writing its log, with audit rules equivalent to
             the default configuration; all its rounds run after every other condition
             (enabling audit costs every later process until reboot): for the vm lane

Per condition and workload: median wall ratio to `none` of the same round with its spread
(min-max), the same for the storm's own CPU time (user + system, its children included: what
the hooks cost in the traced task's context, and far less moved by other load on a shared
machine than wall time), agent CPU per operation of the storm, agent peak RSS, policy events
delivered for the storm (a subscriber's, for the storm's own pid; else the agent's compact
lines naming the storm's binary), and losses (kernel ring buffer full, bus
dropped). With --progstats, a last pass per vigil condition runs each storm once more with
kernel.bpf_stats_enabled and prints each program's runs and ns per run.

usage: bench_storms.py [--opens 1000000] [--rounds 5] [--build build] [--before DIR] [--vigil DIR]
                       [--conditions none,floor,bpftrace,bare,default,default_sub] [--storms ...]
                       [--progstats] [--tiny] [--audit-ok] [--ready-timeout 30]
"""
import argparse
import ctypes
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "host"))
import vigilhost as vh  # noqa: E402
from progstats import ProgStats  # noqa: E402

SOURCE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def cgroup2_root():
    with open("/proc/mounts") as f:
        for line in f:
            parts = line.split()
            if parts[2] == "cgroup2":
                return parts[1]
    return None


def proc_cpu_seconds(pid):
    """CPU time of every thread of pid, in ns from the scheduler (/proc/PID/task/*/schedstat),
    not /proc/PID/stat's clock ticks: an exec storm's few thousand operations are too few for
    10 ms ticks. Falls back to the ticks where schedstat is missing."""
    total, found = 0, False
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        tasks = []
    for t in tasks:
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                total += int(f.read().split()[0])
                found = True
        except (OSError, ValueError, IndexError):
            pass
    if found:
        return total / 1e9
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_switches(pid):
    """Context switches of every thread of pid (schedstat's third field): each a wake-up."""
    total = 0
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return 0
    for t in tasks:
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                total += int(f.read().split()[2])
        except (OSError, ValueError, IndexError):
            pass
    return total


def peak_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


class Storm:
    def __init__(self, name, argv, ops, attributed=True):
        """attributed: the storm's own process (its pid, its binary) is the one that posts its
        policy events; not the compile storm's python, whose events are its children's."""
        self.name, self.argv, self.ops = name, argv, ops
        # the compact line names the executable's path as the kernel resolved it
        self.binary = os.path.realpath(argv[0]) if attributed else None

    def run(self):
        """Seconds the loop took, the storm's CPU seconds (its waited-for children included)
        and its pid (to find its events). A storm killed by a signal is run again (twice at
        most): other agents on shared machines enforce too."""
        for attempt in range(5):
            p = subprocess.Popen(self.argv, stdout=subprocess.PIPE, text=True)
            out = p.stdout.read()
            p.stdout.close()
            _, status, ru = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
            if p.returncode >= 0:
                break
            print("%s (pid %d) killed by signal %d; again" % (self.name, p.pid, -p.returncode), flush=True)
            time.sleep(2)
        if p.returncode:
            raise RuntimeError("%s failed (%d)" % (self.argv[0], p.returncode))
        return float(out), ru.ru_utime + ru.ru_stime, p.pid


class NoAgent:
    proc = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class Watch(NoAgent):
    """One inotify watch (IN_CREATE) on /opt, nothing else: with a mark anywhere on a
    filesystem, every open and close on it takes fsnotify's slow path (Linux 6.1), as under
    `default` until its agent looked at its policy directory instead of watching it."""
    def __enter__(self):
        libc = ctypes.CDLL(None, use_errno=True)
        self.fd = libc.inotify_init()
        if self.fd < 0 or libc.inotify_add_watch(self.fd, b"/opt", 0x100) < 0:
            raise OSError(ctypes.get_errno(), "inotify watch on /opt")
        return self

    def __exit__(self, *exc):
        os.close(self.fd)
        return False


class Floor:
    def __init__(self, build, hooks=None):
        if hooks is None:
            hooks = ["raw", "tp:sched/sched_process_exec"]
            root = cgroup2_root()
            if root:
                hooks.append("connect4:" + root)
        self.argv = [os.path.join(build, "tests", "bench", "floor_hook")] + hooks
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            self.proc.wait()
            raise RuntimeError("floor_hook did not attach")
        return self

    def __exit__(self, *exc):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)
        return False


# What the default configuration reports, as bpftrace one-liners: every exec and exit
# (process_exec / process_exit), opens under monitor-sensitive-files' prefixes and opens for
# writing under write-etc-boot's, every connect (lua-network).
BPFTRACE = r"""
BEGIN { printf("ready\n"); }
tracepoint:sched:sched_process_exec { printf("exec %d %s\n", pid, str(args->filename)); }
tracepoint:sched:sched_process_exit { printf("exit %d\n", pid); }
tracepoint:syscalls:sys_enter_openat
/strncmp(str(args->filename), "/etc/shadow", 11) == 0 ||
 strncmp(str(args->filename), "/etc/kubernetes/pki", 19) == 0 ||
 strncmp(str(args->filename), "/var/run/secrets/kubernetes.io", 30) == 0 ||
 strncmp(str(args->filename), "/run/secrets/kubernetes.io", 26) == 0 ||
 ((args->flags & 0x243) && (strncmp(str(args->filename), "/etc/", 5) == 0 ||
                            strncmp(str(args->filename), "/boot/", 6) == 0))/
{ printf("open %d %s %d\n", pid, str(args->filename), args->flags); }
tracepoint:syscalls:sys_enter_connect { printf("connect %d %d\n", pid, args->fd); }
"""


class Bpftrace:
    """bpftrace running BPFTRACE, its output to a file (as a deployment would keep it)."""

    def __init__(self):
        self.proc = None
        self.dir = tempfile.mkdtemp(prefix="vigil-bench-bt-")
        self.out = os.path.join(self.dir, "out")

    def __enter__(self):
        # line-buffered standard output into the file: with -o, bpftrace holds its output in a
        # block buffer, so "ready" would not show on a quiet machine until 4 KiB had followed it
        with open(self.out, "w") as out:
            self.proc = subprocess.Popen(["bpftrace", "-B", "line", "-e", BPFTRACE], stdout=out,
                                         stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("bpftrace exited: " + self.proc.stderr.read())
            with open(self.out) as f:
                if "ready" in f.read(4096):
                    return self
            time.sleep(0.2)
        self.proc.kill()
        self.proc.wait()
        raise RuntimeError("bpftrace did not attach")

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        shutil.rmtree(self.dir, ignore_errors=True)
        return False


# What the default configuration reports, as audit rules (64-bit syscalls): every exec and exit,
# opens under monitor-sensitive-files' prefixes (a watch: any access), writes under /etc and
# /boot (write-etc-boot, a watch for writes and attribute changes), every connect (lua-network).
# Watches are added only on paths that exist (auditctl refuses the others' missing parents).
AUDIT_RULES = [
    "-a always,exit -F arch=b64 -S execve,execveat -k exec",
    "-a always,exit -F arch=b64 -S exit_group -k exit",
    "-w /etc/shadow -p rwa -k sensitive",
    "-w /etc/kubernetes/pki -p rwa -k sensitive",
    "-w /var/run/secrets/kubernetes.io -p rwa -k sensitive",
    "-w /run/secrets/kubernetes.io -p rwa -k sensitive",
    "-w /etc -p wa -k etc-write",
    "-w /boot -p wa -k boot-write",
    "-a always,exit -F arch=b64 -S connect -k connect",
]

# Debian 12's /etc/audit/auditd.conf, but the log in the run's directory, no plugins, no
# rotation, and no action on low disk (a tmpfs in the vm lane): what it costs to write a log
AUDITD_CONF = """local_events = yes
write_logs = yes
log_file = {dir}/audit.log
log_group = root
log_format = ENRICHED
flush = INCREMENTAL_ASYNC
freq = 50
max_log_file = 8
num_logs = 5
priority_boost = 4
name_format = NONE
max_log_file_action = IGNORE
space_left = 2
space_left_action = IGNORE
verify_email = no
action_mail_acct = root
admin_space_left = 1
admin_space_left_action = IGNORE
disk_full_action = IGNORE
disk_error_action = IGNORE
use_libwrap = no
tcp_listen_queue = 5
tcp_max_per_addr = 1
tcp_client_max_idle = 0
transport = TCP
distribute_network = no
q_depth = 2000
overflow_action = SYSLOG
max_restarts = 10
plugin_dir = {dir}/plugins.d
end_of_event_timeout = 2
"""


def auditctl(*args):
    r = subprocess.run(["auditctl"] + list(args), capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("auditctl %s: %s" % (" ".join(args), (r.stderr or r.stdout).strip()))
    return r.stdout


def audit_status():
    """auditctl -s as {key: int}: enabled, pid, lost, backlog..."""
    st = {}
    for line in auditctl("-s").splitlines():
        k, _, v = line.partition(" ")
        if v.strip().lstrip("-").isdigit():
            st[k] = int(v)
    return st


class Auditd:
    """auditd in the foreground (-n) writing its log, with AUDIT_RULES loaded. Enabling audit
    gives every task created afterwards a per-syscall audit context until reboot (the kernel
    keeps audit_ever_enabled), so this condition runs after all the others, and only where
    that is acceptable (--audit-ok: the vm lane's throwaway guest)."""

    def __init__(self):
        self.proc = None
        self.dir = tempfile.mkdtemp(prefix="vigil-bench-audit-")
        self.log = os.path.join(self.dir, "audit.log")

    def __enter__(self):
        os.makedirs(os.path.join(self.dir, "plugins.d"))
        with open(os.path.join(self.dir, "auditd.conf"), "w") as f:
            f.write(AUDITD_CONF.format(dir=self.dir))
        os.chmod(os.path.join(self.dir, "auditd.conf"), 0o640)
        self.err = open(os.path.join(self.dir, "auditd.err"), "w")
        self.proc = subprocess.Popen(["auditd", "-n", "-c", self.dir], stdout=self.err, stderr=subprocess.STDOUT)
        deadline = time.time() + 120
        while audit_status().get("pid") != self.proc.pid:
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                with open(os.path.join(self.dir, "auditd.err")) as f:
                    raise RuntimeError("auditd did not start: " + f.read()[-2000:])
            time.sleep(0.2)
        auditctl("-D")
        auditctl("-b", "8192")
        for rule in AUDIT_RULES:
            path = rule.split()[1] if rule.startswith("-w ") else None
            if path and not os.path.exists(path):
                continue
            auditctl(*rule.split())
        return self

    def status(self):
        return audit_status()

    def records(self, pids):
        """type=SYSCALL records of the storms' pids and of their children (the exec storm's
        execs and exits), per storm pid: the events auditd delivered, from its log."""
        counts = dict.fromkeys(pids, 0)
        with open(self.log, errors="replace") as f:
            for line in f:
                if not line.startswith("type=SYSCALL"):
                    continue
                for key in (" pid=", " ppid="):
                    i = line.find(key)
                    if i < 0:
                        continue
                    pid = int(line[i + len(key):].split(" ", 1)[0])
                    if pid in counts:
                        counts[pid] += 1
                        break
        return counts

    def stop(self):
        if self.proc and self.proc.poll() is None:
            subprocess.run(["auditctl", "-D"], capture_output=True)
            self.proc.terminate()  # auditd flushes its log and sets the kernel's audit pid to 0
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        return False


def vigil_agent(build, default_config, libdir=None, subscriber=False):
    """vigild as scripts/run.sh starts it (compact events on its standard output, here a file
    in its directory), with or without the shipped policies and rules; subscriber: plus a
    `vigil getevents -o json` on its bus writing a file."""
    extra = ["--output", "compact"]
    if default_config:
        rules = os.path.join(SOURCE, "rules")
        extra += ["--tracing-policy-dir", os.path.join(rules, "policies"), "--rules-dir", os.path.join(rules, "lua")]
    if libdir:
        vh.VIGILD = os.path.join(libdir, "vigild")
        os.environ["LD_LIBRARY_PATH"] = libdir
    else:
        vh.VIGILD = os.path.join(build, "core", "cli", "vigild")
        os.environ.pop("LD_LIBRARY_PATH", None)
    return SlowStartAgent(*extra, outputs=("json",) if subscriber else (), stdout_name="events.compact")


class SlowStartAgent(vh.Agent):
    """vh.Agent waiting READY_TIMEOUT seconds for the first status (under TCG emulation the
    shipped policies take minutes to load)."""
    READY_TIMEOUT = 30

    def wait_ready(self, timeout=None):
        return super().wait_ready(self.READY_TIMEOUT)


def measure(cond, make, storms, results):
    """One round of one condition: every storm under one instance of the condition."""
    print("round: %s" % cond, flush=True)
    with make() as agent:
        proc = getattr(agent, "proc", None)
        is_vigil = isinstance(agent, vh.Agent)
        is_audit = isinstance(agent, Auditd)
        pids, starts = {}, []
        for s in storms:
            cpu0 = proc_cpu_seconds(proc.pid) if is_vigil or is_audit else 0.0
            sw0 = proc_switches(proc.pid) if is_vigil or is_audit else 0
            st0 = agent.status()["counters"] if is_vigil else None
            au0 = agent.status() if is_audit else None
            if is_vigil:  # where the storm's compact lines begin
                starts.append((os.path.getsize(agent.stdout_path), s))
            t, own, pid = s.run()
            r = results.setdefault((cond, s.name), {"t": [], "own": [], "cpu": [], "sw": [], "rss": 0, "lost": 0,
                                                    "dropped": 0, "delivered": 0, "posted": 0})
            r["t"].append(t)
            r["own"].append(own)
            if is_vigil:
                time.sleep(0.2)  # let the reader drain what the storm posted
                st = agent.status()["counters"]
                r["cpu"].append((proc_cpu_seconds(proc.pid) - cpu0) / s.ops)
                r["sw"].append((proc_switches(proc.pid) - sw0) / s.ops)
                r["rss"] = max(r["rss"], peak_rss_kib(proc.pid))
                r["lost"] += st["kernel_ringbuf_full"] - st0["kernel_ringbuf_full"]
                r["dropped"] += st["bus_dropped"] - st0["bus_dropped"]
                r["posted"] += st["events_policy"] - st0["events_policy"]
            if is_audit:
                time.sleep(0.2)
                au = agent.status()
                r["cpu"].append((proc_cpu_seconds(proc.pid) - cpu0) / s.ops)
                r["rss"] = max(r["rss"], peak_rss_kib(proc.pid))
                r["lost"] += au.get("lost", 0) - au0.get("lost", 0)  # the kernel's audit backlog overflowed
            pids[pid] = s
        if is_vigil:
            time.sleep(0.5)
            if "json" in agent.subs:
                count_delivered(agent, cond, pids, results)
            else:
                count_compact(agent.stdout_path, cond, starts, results)
        if is_audit:
            agent.stop()  # flushes the log
            for pid, n in agent.records(pids).items():
                results[(cond, pids[pid].name)]["delivered"] += n


def count_delivered(agent, cond, pids, results):
    """Policy events of the storms on the bus, streamed: a storm can post 10^5 of them."""
    p, f, path = agent.subs["json"]
    p.terminate()
    p.wait(timeout=10)
    f.close()
    pids = {pid: s for pid, s in pids.items() if s.binary}
    marks = {'"pid":%d,' % pid: pid for pid in pids}
    with open(path) as fh:
        for line in fh:
            if not any(m in line for m in marks):
                continue
            e = json.loads(line)
            for key in ("process_kprobe", "process_tracepoint", "process_lsm"):
                pid = e.get(key, {}).get("process", {}).get("pid")
                if pid in pids:
                    results[(cond, pids[pid].name)]["delivered"] += 1


# The compact lines of events that are not a policy's: exec and exit (the process records),
# loader and throttle, and the agent's own (Lua rule alerts, actions and states, policy states)
NOT_POLICY_MARKS = {"🚀", "💥", "🧬", "🚨", "⚡", "⚠️", "📜"}


def count_compact(path, cond, starts, results):
    """Policy events of the storms in the agent's compact output: a line "<mark> <label>
    <source> <binary> ..." naming a storm's binary is that storm's, the latest of the storms
    run from that binary (open_out and open_in share one) to start before the line."""
    binaries = {s.binary.encode() for _, s in starts if s.binary}
    pos = 0
    with open(path, "rb") as fh:
        for raw in fh:
            at, pos = pos, pos + len(raw)
            if not any(b in raw for b in binaries):
                continue
            words = raw.decode(errors="replace").split()
            if len(words) < 4 or words[0] in NOT_POLICY_MARKS:
                continue
            owner = None
            for start, s in starts:
                if start <= at and s.binary == words[3]:
                    owner = s
            if owner:
                results[(cond, owner.name)]["delivered"] += 1


def progstats_pass(cond, make, storms):
    """Each storm once more under cond with the kernel's run-time counters on: what each of
    the agent's programs cost per run (the counters add a clock read per run, so the wall
    ratios above are measured without them)."""
    print("\nkernel time per program, %s (kernel.bpf_stats_enabled, one run of each storm)" % cond)
    print("%-9s %-24s %-15s %10s %9s %9s" % ("storm", "program", "type", "runs", "ns/run", "total ms"))
    with make() as agent:
        if cond == "default":  # which mechanism each hook got on this kernel
            r = subprocess.run([vh.VIGIL, "tp", "list", "--control", agent.control], capture_output=True, text=True)
            print(r.stdout + r.stderr, flush=True)
        for s in storms:
            with ProgStats(agent.proc.pid) as ps:
                s.run()
            for name, typ, runs, per, total in ps.rows()[:10]:
                print("%-9s %-24s %-15s %10d %9.1f %9.1f" % (s.name, name, typ, runs, per, total))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--opens", type=int, default=1000000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--build", default=vh.BUILD)
    ap.add_argument("--before", metavar="DIR", help="a directory with another build's vigild and libvigil.so*")
    ap.add_argument("--vigil", metavar="DIR", help="run bare/default/default_sub from this copy of vigild and libvigil.so*")
    ap.add_argument("--conditions", default="none,floor,bpftrace,bare,default,default_sub")
    ap.add_argument("--storms", default="other,open_out,open_in,connect,exec,compile")
    ap.add_argument("--progstats", action="store_true", help="then kernel time per program, per condition")
    ap.add_argument("--tiny", action="store_true", help="prove it runs: 2 rounds of tiny storms")
    ap.add_argument("--audit-ok", action="store_true",
                    help="allow the auditd condition: enabling audit slows every process created "
                         "afterwards until reboot; only on a machine you will reboot (the vm lane)")
    ap.add_argument("--ready-timeout", type=float, default=30, help="seconds for vigild to answer its first status")
    args = ap.parse_args()
    SlowStartAgent.READY_TIMEOUT = args.ready_timeout
    if args.tiny:
        args.opens, args.rounds = 2000, 2
    args.build = os.path.abspath(args.build)
    vh.BUILD = args.build
    vh.VIGIL = os.path.join(args.build, "core", "cli", "vigil")
    if args.vigil and os.path.exists(os.path.join(args.vigil, "vigil")):
        vh.VIGIL = os.path.join(os.path.abspath(args.vigil), "vigil")
    bench = os.path.join(args.build, "tests", "bench")
    here = os.path.dirname(os.path.abspath(__file__))
    storms = [Storm("other", [os.path.join(bench, "getppid_storm"), str(args.opens)], args.opens),
              Storm("open_out", [os.path.join(bench, "open_storm"), str(args.opens), "/etc/hostname"], args.opens),
              Storm("open_in", [os.path.join(bench, "open_storm"), str(args.opens // 10), "/etc/shadow"],
                    args.opens // 10),
              Storm("connect", [os.path.join(bench, "connect_storm"), str(args.opens // 20)], args.opens // 20),
              Storm("exec", [os.path.join(bench, "exec_storm"), str(max(args.opens // 200, 10)),
                             os.path.join(bench, "tiny")], max(args.opens // 200, 10)),
              Storm("compile", [sys.executable, os.path.join(here, "compile_storm.py"), str(max(args.opens // 3333, 3))],
                    max(args.opens // 3333, 3), attributed=False)]
    wanted = args.storms.split(",")
    storms = [s for s in storms if s.name in wanted]
    makers = {"none": NoAgent, "floor": lambda: Floor(args.build),
              "floor_fe": lambda: Floor(args.build, ["fentry:__x64_sys_openat"]), "bpftrace": Bpftrace, "watch": Watch,
              "bare": lambda: vigil_agent(args.build, False, args.vigil),
              "default": lambda: vigil_agent(args.build, True, args.vigil),
              "default_sub": lambda: vigil_agent(args.build, True, args.vigil, subscriber=True)}
    conds = args.conditions.split(",")
    known = set(makers) | {"before", "auditd"}
    for i, cond in enumerate(conds):
        if cond not in known:
            ap.error("--conditions: unknown condition %r (known: %s)" % (cond, ", ".join(sorted(known))))
        if cond in conds[:i]:
            ap.error("--conditions: %r named twice" % cond)
    if "before" in conds and not args.before:
        ap.error("--conditions: 'before' needs --before DIR (the other build's vigild)")
    if "bpftrace" in conds and not shutil.which("bpftrace"):
        print("bpftrace not installed (Debian package bpftrace): that condition is left out", flush=True)
        conds.remove("bpftrace")
    audit_last = False
    if "auditd" in conds:
        # run after every other condition, all its rounds at the end: once audit was enabled,
        # no other measurement in this boot is clean
        conds.remove("auditd")
        if not args.audit_ok:
            sys.exit("the auditd condition enables audit until reboot: pass --audit-ok to mean it "
                     "(run it in the vm lane: tests/bench/README.md)")
        missing = [t for t in ("auditd", "auditctl") if not shutil.which(t)]
        if missing:
            print("%s not found (Debian package auditd): that condition is left out" % ", ".join(missing), flush=True)
        else:
            makers["auditd"] = Auditd
            audit_last = True
    if args.before:
        makers["before"] = lambda: vigil_agent(args.build, True, os.path.abspath(args.before))
        if "before" not in conds:  # --before alone adds it; named in --conditions it keeps its place
            conds.append("before")
    if "none" not in conds:
        conds.insert(0, "none")

    for s in storms:  # warm the page cache and the listener path
        Storm(s.name, s.argv[:-1] + ["3"] if s.name == "compile" else s.argv[:1] + ["100"] + s.argv[2:], 1).run()
    print("storms: " + ", ".join("%s %d ops" % (s.name, s.ops) for s in storms), flush=True)
    results = {}
    for r in range(args.rounds):
        order = conds[r % len(conds):] + conds[:r % len(conds)]
        for cond in order:
            measure(cond, makers[cond], storms, results)
        print("round %d done (%s)" % (r + 1, " ".join(order)), flush=True)
    if audit_last:
        for r in range(args.rounds):  # ratios against `none` of round r, measured before audit
            measure("auditd", makers["auditd"], storms, results)
        conds.append("auditd")

    print("\n%d rounds, conditions interleaved" % args.rounds)
    print("%-8s %-11s %-22s %-22s %10s %7s %8s %9s %6s %7s" % ("storm", "condition", "wall ratio [min-max]",
                                                              "cpu ratio [min-max]", "agent us/op", "wake/op",
                                                              "RSS MiB", "delivered", "lost", "dropped"))
    for s in storms:
        base, base_own = results[("none", s.name)]["t"], results[("none", s.name)]["own"]
        print("%-8s %-11s %-22s %-22s" % (s.name, "none", "%.3fs loop" % statistics.median(base),
                                         "%.3fs cpu" % statistics.median(base_own)))
        for cond in conds:
            if cond == "none":
                continue
            r = results[(cond, s.name)]
            ratios = [t / b for t, b in zip(r["t"], base)]
            own = [t / b for t, b in zip(r["own"], base_own) if b > 0]
            cpu = "%.2f" % (statistics.median(r["cpu"]) * 1e6) if r["cpu"] else "-"
            sw = "%.2f" % statistics.median(r["sw"]) if r["sw"] else "-"
            rss = "%.1f" % (r["rss"] / 1024) if r["rss"] else "-"
            vig = cond not in ("floor", "floor_fe", "bpftrace", "watch")  # auditd: its log, and the kernel's lost count
            # the compile storm's events are its children's: not attributed by vigil's counts
            delivered = r["delivered"] if vig and (s.binary or cond == "auditd") else "-"
            print("%-8s %-11s %-22s %-22s %10s %7s %8s %9s %6s %7s"
                  % (s.name, cond, "%.3f [%.3f-%.3f]" % (statistics.median(ratios), min(ratios), max(ratios)),
                     "%.3f [%.3f-%.3f]" % (statistics.median(own), min(own), max(own)) if own else "-",
                     cpu, sw, rss, delivered, r["lost"] if vig else "-",
                     r["dropped"] if vig and cond != "auditd" else "-"), flush=True)
    if args.progstats:
        for cond in conds:
            if cond not in ("none", "auditd", "watch"):  # (no programs of their own)
                progstats_pass(cond, makers[cond], storms)


if __name__ == "__main__":
    main()
