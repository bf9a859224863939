#!/usr/bin/env python3
"""Open-storm benchmark: N open+close calls with no agent, with the agent and no policy,
and with the agent and a sys_enter_openat policy whose selector matches nothing, in paired
rounds within one run. Reports median ratios to no agent, and how many events of the
policy reached user space (must be 0: the selector is decided in the kernel).

usage: bench_open.py [--opens 1000000] [--rounds 3] [--build build]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "host"))
import vigilhost as vh  # noqa: E402

POLICY = """\
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "bench-nothing"
spec:
  tracepoints:
  - subsystem: "syscalls"
    event: "sys_enter_openat"
    args:
    - index: 6
      type: "string"
    selectors:
    - matchArgs:
      - index: 6
        operator: "Prefix"
        values: ["/nonexistent-vigil-bench/"]
"""


def storm(build, n):
    out = subprocess.run([os.path.join(build, "tests", "bench", "open_storm"), str(n), "/etc/hostname"],
                         capture_output=True, text=True, check=True)
    return float(out.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--opens", type=int, default=1000000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--build", default=vh.BUILD)
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    vh.BUILD, vh.VIGILD, vh.VIGIL = (args.build, os.path.join(args.build, "core", "cli", "vigild"),
                                     os.path.join(args.build, "core", "cli", "vigil"))
    policy = os.path.join(tempfile.mkdtemp(prefix="vigil-bench-"), "nothing.yaml")
    with open(policy, "w") as f:
        f.write(POLICY)

    storm(args.build, 10000)  # warm up
    base, bare, pol, leaked = [], [], [], 0
    for r in range(args.rounds):
        b = storm(args.build, args.opens)
        with vh.Agent(outputs=("json",)):
            a = storm(args.build, args.opens)
        with vh.Agent("--tracing-policy", policy, outputs=("json",)) as agent:
            p = storm(args.build, args.opens)
            events = agent.events("json")
        n = sum(1 for e in events if "process_tracepoint" in e)
        leaked += n
        base.append(b), bare.append(a / b), pol.append(p / b)
        print("round %d: no agent %.3fs; agent %.3f; agent + policy %.3f; policy events in user space %d"
              % (r + 1, b, a / b, p / b, n))
    print("open storm, %d open+close x %d rounds" % (args.opens, args.rounds))
    print("  median no agent: %.3fs" % statistics.median(base))
    print("  median ratio, agent without policies: %.3f" % statistics.median(bare))
    print("  median ratio, agent + openat policy matching nothing: %.3f" % statistics.median(pol))
    print("  policy events that reached user space: %d" % leaked)


if __name__ == "__main__":
    main()
