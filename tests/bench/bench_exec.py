#!/usr/bin/env python3
"""Exec-storm benchmark: fork+exec of a tiny static binary N times, with no agent and with
the agent running, in paired rounds within one run. Reports the median overhead ratio,
the agent's CPU time and peak RSS, and whether every exec reached the bus.

usage: bench_exec.py [--execs 5000] [--rounds 5] [--build build] [--wakeup-batch N]
                     [--default-config [SOURCE]]

--default-config runs the agent as scripts/run.sh does (every shipped policy and Lua rule,
from SOURCE's rules/, default this checkout), not bare.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "host"))
import vigilhost as vh  # noqa: E402


def storm(build, n):
    out = subprocess.run([os.path.join(build, "tests", "bench", "exec_storm"), str(n),
                          os.path.join(build, "tests", "bench", "tiny")], capture_output=True, text=True, check=True)
    return float(out.stdout)


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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--execs", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--build", default=vh.BUILD)
    ap.add_argument("--wakeup-batch", type=int, default=64)
    ap.add_argument("--default-config", nargs="?", const=os.path.join(os.path.dirname(__file__), "..", ".."),
                    metavar="SOURCE")
    args = ap.parse_args()
    extra = []
    if args.default_config:
        rules = os.path.join(os.path.abspath(args.default_config), "rules")
        extra = ["--tracing-policy-dir", os.path.join(rules, "policies"), "--rules-dir", os.path.join(rules, "lua")]
    args.build = os.path.abspath(args.build)
    vh.BUILD = args.build
    vh.VIGILD = os.path.join(args.build, "core", "cli", "vigild")
    vh.VIGIL = os.path.join(args.build, "core", "cli", "vigil")

    storm(args.build, 200)  # warm the page cache
    ratios, base_times, agent_times = [], [], []
    cpu = 0.0
    rss = 0
    # Paired rounds: agent-free baseline, then with a freshly started agent.
    for r in range(args.rounds):
        base = storm(args.build, args.execs)
        with vh.Agent("--wakeup-batch", str(args.wakeup_batch), *extra, outputs=("json",)) as agent:
            pid = agent.proc.pid
            cpu0 = proc_cpu_seconds(pid)
            t = storm(args.build, args.execs)
            time.sleep(0.3)
            cpu += proc_cpu_seconds(pid) - cpu0
            rss = max(rss, peak_rss_kib(pid))
            st = agent.status()["counters"]
            events = agent.events("json")
        tiny = os.path.join(args.build, "tests", "bench", "tiny")
        seen = sum(1 for e in events if "process_exec" in e and e["process_exec"]["process"].get("binary") == tiny)
        base_times.append(base)
        agent_times.append(t)
        ratios.append(t / base)
        print("round %d: baseline %.3fs agent %.3fs ratio %.3f; execs on bus %d/%d; kernel lost %d; bus dropped %d"
              % (r + 1, base, t, t / base, seen, args.execs, st["kernel_ringbuf_full"], st["bus_dropped"]))
    print("exec storm, %d execs x %d paired rounds, wake-up batch %d, %s" % (args.execs, args.rounds, args.wakeup_batch,
          "default configuration (shipped policies and rules)" if extra else "bare agent"))
    print("  median ratio (agent / no agent): %.3f" % statistics.median(ratios))
    print("  median baseline %.3fs, with agent %.3fs" % (statistics.median(base_times), statistics.median(agent_times)))
    print("  agent CPU during storms: %.3fs total (%.1f us per exec)" % (cpu, cpu / (args.execs * args.rounds) * 1e6))
    print("  agent peak RSS: %d KiB" % rss)


if __name__ == "__main__":
    main()
