#!/usr/bin/env python3
"""Syscall-storm benchmark: what tracing costs the traced, per condition, in one run.

Workloads (each a C program timing its own loop):
  other      N getppid calls: a syscall no policy hooks
  open_out   N open+close of /etc/hostname (outside every watched prefix)
  open_in    N/10 open+close of /etc/shadow (inside monitor-sensitive-files' prefix: an event each)
  connect    N/20 TCP connects to a loopback listener, accepted and closed

Conditions, interleaved round by round (the order rotates each round):
  none       no agent
  floor      empty BPF programs on raw_syscalls/sys_enter and cgroup connect4 (any hook's cost)
  bare       vigild without policies or rules
  default    vigild as scripts/run.sh starts it (rules/policies + rules/lua)
  before     (with --before DIR) the default configuration run by another build's vigild

Per condition and workload: median wall ratio to `none` of the same round with its spread
(min-max), agent CPU per operation of the storm, agent peak RSS, policy events delivered to a
subscriber for the storm's own pid, and losses (kernel ring buffer full, bus dropped).

usage: bench_storms.py [--opens 1000000] [--rounds 5] [--build build] [--before DIR] [--vigil DIR]
                       [--conditions none,floor,bare,default] [--tiny]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "host"))
import vigilhost as vh  # noqa: E402

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
        """Seconds the loop took, and the storm's pid (to find its events). A storm killed by
        a signal is run again (twice at most): other agents on shared machines enforce too."""
        for attempt in range(5):
            p = subprocess.Popen(self.argv, stdout=subprocess.PIPE, text=True)
            out, _ = p.communicate()
            if p.returncode >= 0:
                break
            print("%s (pid %d) killed by signal %d; again" % (self.name, p.pid, -p.returncode), flush=True)
            time.sleep(2)
        if p.returncode:
            raise RuntimeError("%s failed (%d)" % (self.argv[0], p.returncode))
        return float(out), p.pid


class NoAgent:
    proc = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class Floor:
    def __init__(self, build):
        hooks = ["raw"]
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
            t, pid = s.run()
            r = results.setdefault((cond, s.name), {"t": [], "cpu": [], "rss": 0, "lost": 0, "dropped": 0,
                                                    "delivered": 0, "posted": 0})
            r["t"].append(t)
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--opens", type=int, default=1000000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--build", default=vh.BUILD)
    ap.add_argument("--before", metavar="DIR", help="a directory with another build's vigild and libvigil.so*")
    ap.add_argument("--vigil", metavar="DIR", help="run bare/default from this copy of vigild and libvigil.so*")
    ap.add_argument("--conditions", default="none,floor,bare,default")
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
    storms = [Storm("other", [os.path.join(bench, "getppid_storm"), str(args.opens)], args.opens),
              Storm("open_out", [os.path.join(bench, "open_storm"), str(args.opens), "/etc/hostname"], args.opens),
              Storm("open_in", [os.path.join(bench, "open_storm"), str(args.opens // 10), "/etc/shadow"],
                    args.opens // 10),
              Storm("connect", [os.path.join(bench, "connect_storm"), str(args.opens // 20)], args.opens // 20)]
    makers = {"none": NoAgent, "floor": lambda: Floor(args.build),
              "bare": lambda: vigil_agent(args.build, False, args.vigil),
              "default": lambda: vigil_agent(args.build, True, args.vigil)}
    conds = args.conditions.split(",")
    if args.before:
        makers["before"] = lambda: vigil_agent(args.build, True, os.path.abspath(args.before))
        conds.append("before")
    if "none" not in conds:
        conds.insert(0, "none")

    for s in storms:  # warm the page cache and the listener path
        Storm(s.name, s.argv[:1] + ["100"] + s.argv[2:], 100).run()
    print("storms: " + ", ".join("%s %d ops" % (s.name, s.ops) for s in storms), flush=True)
    results = {}
    for r in range(args.rounds):
        order = conds[r % len(conds):] + conds[:r % len(conds)]
        for cond in order:
            measure(cond, makers[cond], storms, results)
        print("round %d done (%s)" % (r + 1, " ".join(order)), flush=True)

    print("\n%d rounds, conditions interleaved" % args.rounds)
    print("%-8s %-9s %-22s %10s %8s %9s %6s %7s" % ("storm", "condition", "ratio median [min-max]", "agent us/op",
                                                   "RSS MiB", "delivered", "lost", "dropped"))
    for s in storms:
        base = results[("none", s.name)]["t"]
        print("%-8s %-9s %-22s %10s %8s %9s %6s %7s" % (s.name, "none", "%.3fs loop" % statistics.median(base),
                                                       "", "", "", "", ""))
        for cond in conds:
            if cond == "none":
                continue
            r = results[(cond, s.name)]
            ratios = [t / b for t, b in zip(r["t"], base)]
            cpu = "%.2f" % (statistics.median(r["cpu"]) * 1e6) if r["cpu"] else "-"
            rss = "%.1f" % (r["rss"] / 1024) if r["rss"] else "-"
            vig = cond not in ("floor",)
            print("%-8s %-9s %-22s %10s %8s %9s %6s %7s"
                  % (s.name, cond, "%.3f [%.3f-%.3f]" % (statistics.median(ratios), min(ratios), max(ratios)),
                     cpu, rss, r["delivered"] if vig else "-", r["lost"] if vig else "-",
                     r["dropped"] if vig else "-"))


if __name__ == "__main__":
    main()
