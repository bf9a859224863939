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
  bpftrace   bpftrace with one-liners printing what the default configuration reports
             (execs, exits, opens under the watched prefixes, connects)
  bare       vigild without policies or rules
  default    vigild as scripts/run.sh starts it (rules/policies + rules/lua)
  before     (with --before DIR) the default configuration run by another build's vigild

Per condition and workload: median wall ratio to `none` of the same round with its spread
(min-max), the same for the storm's own CPU time (user + system, its children included: what
the hooks cost in the traced task's context, and far less moved by other load on a shared
machine than wall time), agent CPU per operation of the storm, agent peak RSS, policy events
delivered to a subscriber for the storm's own pid, and losses (kernel ring buffer full, bus
dropped). With --progstats, a last pass per vigil condition runs each storm once more with
kernel.bpf_stats_enabled and prints each program's runs and ns per run.

usage: bench_storms.py [--opens 1000000] [--rounds 5] [--build build] [--before DIR] [--vigil DIR]
                       [--conditions none,floor,bpftrace,bare,default] [--storms ...] [--progstats]
                       [--tiny]
"""
import argparse
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
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


class Storm:
    def __init__(self, name, argv, ops):
        self.name, self.argv, self.ops = name, argv, ops

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


class Floor:
    def __init__(self, build):
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


def vigil_agent(build, default_config, libdir=None):
    extra = []
    if default_config:
        rules = os.path.join(SOURCE, "rules")
        extra = ["--tracing-policy-dir", os.path.join(rules, "policies"), "--rules-dir", os.path.join(rules, "lua")]
    if libdir:
        vh.VIGILD = os.path.join(libdir, "vigild")
        os.environ["LD_LIBRARY_PATH"] = libdir
    else:
        vh.VIGILD = os.path.join(build, "core", "cli", "vigild")
        os.environ.pop("LD_LIBRARY_PATH", None)
    return vh.Agent(*extra, outputs=("json",))


def measure(cond, make, storms, results):
    """One round of one condition: every storm under one instance of the condition."""
    print("round: %s" % cond, flush=True)
    with make() as agent:
        proc = getattr(agent, "proc", None)
        is_vigil = isinstance(agent, vh.Agent)
        pids = {}
        for s in storms:
            cpu0 = proc_cpu_seconds(proc.pid) if is_vigil else 0.0
            st0 = agent.status()["counters"] if is_vigil else None
            t, own, pid = s.run()
            r = results.setdefault((cond, s.name), {"t": [], "own": [], "cpu": [], "rss": 0, "lost": 0,
                                                    "dropped": 0, "delivered": 0, "posted": 0})
            r["t"].append(t)
            r["own"].append(own)
            if is_vigil:
                time.sleep(0.2)  # let the reader drain what the storm posted
                st = agent.status()["counters"]
                r["cpu"].append((proc_cpu_seconds(proc.pid) - cpu0) / s.ops)
                r["rss"] = max(r["rss"], peak_rss_kib(proc.pid))
                r["lost"] += st["kernel_ringbuf_full"] - st0["kernel_ringbuf_full"]
                r["dropped"] += st["bus_dropped"] - st0["bus_dropped"]
                r["posted"] += st["events_policy"] - st0["events_policy"]
            pids[pid] = s.name
        if is_vigil:
            count_delivered(agent, cond, pids, results)


def count_delivered(agent, cond, pids, results):
    """Policy events of the storms on the bus, streamed: a storm can post 10^5 of them."""
    time.sleep(0.5)
    p, f, path = agent.subs["json"]
    p.terminate()
    p.wait(timeout=10)
    f.close()
    marks = {'"pid":%d,' % pid: pid for pid in pids}
    with open(path) as fh:
        for line in fh:
            if not any(m in line for m in marks):
                continue
            e = json.loads(line)
            for key in ("process_kprobe", "process_tracepoint", "process_lsm"):
                pid = e.get(key, {}).get("process", {}).get("pid")
                if pid in pids:
                    results[(cond, pids[pid])]["delivered"] += 1


def progstats_pass(cond, make, storms):
    """Each storm once more under cond with the kernel's run-time counters on: what each of
    the agent's programs cost per run (the counters add a clock read per run, so the wall
    ratios above are measured without them)."""
    print("\nkernel time per program, %s (kernel.bpf_stats_enabled, one run of each storm)" % cond)
    print("%-9s %-24s %-15s %10s %9s %9s" % ("storm", "program", "type", "runs", "ns/run", "total ms"))
    with make() as agent:
        for s in storms:
            with ProgStats(agent.proc.pid) as ps:
                s.run()
            for name, typ, runs, per, total in ps.rows()[:6]:
                print("%-9s %-24s %-15s %10d %9.1f %9.1f" % (s.name, name, typ, runs, per, total))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--opens", type=int, default=1000000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--build", default=vh.BUILD)
    ap.add_argument("--before", metavar="DIR", help="a directory with another build's vigild and libvigil.so*")
    ap.add_argument("--vigil", metavar="DIR", help="run bare/default from this copy of vigild and libvigil.so*")
    ap.add_argument("--conditions", default="none,floor,bpftrace,bare,default")
    ap.add_argument("--storms", default="other,open_out,open_in,connect,exec,compile")
    ap.add_argument("--progstats", action="store_true", help="then kernel time per program, per condition")
    ap.add_argument("--tiny", action="store_true", help="prove it runs: 2 rounds of tiny storms")
    args = ap.parse_args()
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
                    max(args.opens // 3333, 3))]
    wanted = args.storms.split(",")
    storms = [s for s in storms if s.name in wanted]
    makers = {"none": NoAgent, "floor": lambda: Floor(args.build), "bpftrace": Bpftrace,
              "bare": lambda: vigil_agent(args.build, False, args.vigil),
              "default": lambda: vigil_agent(args.build, True, args.vigil)}
    conds = args.conditions.split(",")
    if "bpftrace" in conds and not shutil.which("bpftrace"):
        print("bpftrace not installed (Debian package bpftrace): that condition is left out", flush=True)
        conds.remove("bpftrace")
    if args.before:
        makers["before"] = lambda: vigil_agent(args.build, True, os.path.abspath(args.before))
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

    print("\n%d rounds, conditions interleaved" % args.rounds)
    print("%-8s %-9s %-22s %-22s %10s %8s %9s %6s %7s" % ("storm", "condition", "wall ratio [min-max]",
                                                         "cpu ratio [min-max]", "agent us/op", "RSS MiB",
                                                         "delivered", "lost", "dropped"))
    for s in storms:
        base, base_own = results[("none", s.name)]["t"], results[("none", s.name)]["own"]
        print("%-8s %-9s %-22s %-22s" % (s.name, "none", "%.3fs loop" % statistics.median(base),
                                         "%.3fs cpu" % statistics.median(base_own)))
        for cond in conds:
            if cond == "none":
                continue
            r = results[(cond, s.name)]
            ratios = [t / b for t, b in zip(r["t"], base)]
            own = [t / b for t, b in zip(r["own"], base_own) if b > 0]
            cpu = "%.2f" % (statistics.median(r["cpu"]) * 1e6) if r["cpu"] else "-"
            rss = "%.1f" % (r["rss"] / 1024) if r["rss"] else "-"
            vig = cond not in ("floor", "bpftrace")
            print("%-8s %-9s %-22s %-22s %10s %8s %9s %6s %7s"
                  % (s.name, cond, "%.3f [%.3f-%.3f]" % (statistics.median(ratios), min(ratios), max(ratios)),
                     "%.3f [%.3f-%.3f]" % (statistics.median(own), min(own), max(own)) if own else "-",
                     cpu, rss, r["delivered"] if vig else "-", r["lost"] if vig else "-",
                     r["dropped"] if vig else "-"), flush=True)
    if args.progstats:
        for cond in conds:
            if cond != "none":
                progstats_pass(cond, makers[cond], storms)


if __name__ == "__main__":
    main()
