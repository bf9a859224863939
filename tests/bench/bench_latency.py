#!/usr/bin/env python3
"""Kernel-to-subscriber latency: a vigild with one policy (syscalls/sys_enter_getppid of the
bench_latency binary, nothing else) on a private bus, and bench_latency subscribed to it
making RATE getppid calls a second. Prints the latency percentiles at that rate and the
latency of lone events (each alone in the ring buffer: the reader finds it by its poll bound,
--poll-ms, 20 ms by default, since the kernel batches wake-ups).

usage: sudo python3 tests/bench/bench_latency.py [--rate 50000] [--seconds 5] [--build build] [--vigil DIR]
                                                 [--tiny] [--chrt] [--progstats] [-- vigild options...]

--vigil DIR runs DIR's vigild and libvigil.so* (another build's, copied there) instead of
--build's, the subscriber and the CLI still from --build: before/after a change on the same
machine in the same minutes (alternate the two, a run each, several times: on a shared machine
one run's p99 moves by a factor of two).

--chrt runs the agent and the subscriber SCHED_FIFO (chrt -f 10), so that on a loaded machine
the latency measured is the pipeline's, not the run queue's. --progstats adds the kernel's
cost per run of the agent's programs (kernel.bpf_stats_enabled, progstats.py): the getppid
hook's is the cost per record.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from progstats import ProgStats  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.abspath(os.path.join(HERE, "..", ".."))

POLICY = """apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: bench-latency
spec:
  tracepoints:
  - subsystem: "syscalls"
    event: "sys_enter_getppid"
    args:
    - index: 0
      type: "int"
    selectors:
    - matchBinaries:
      - operator: "In"
        values: ["%s"]
"""


def status(build, ctl):
    r = subprocess.run([os.path.join(build, "core", "cli", "vigil"), "status", "-o", "json", "--control", ctl],
                       capture_output=True, text=True, check=True)
    return json.loads(r.stdout)["counters"]


def agent_cpu_switches(pid):
    """The agent's CPU time (ns) and context switches, all threads (schedstat)."""
    cpu = sw = 0
    for t in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                v = f.read().split()
            cpu, sw = cpu + int(v[0]), sw + int(v[2])
        except (OSError, ValueError, IndexError):
            pass
    return cpu, sw


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=int, default=50000)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--build", default=os.path.join(SOURCE, "build"))
    ap.add_argument("--tiny", action="store_true", help="1000/s for 1 s, 2 lone events: proves it runs")
    ap.add_argument("--chrt", action="store_true", help="agent and subscriber SCHED_FIFO 10")
    ap.add_argument("--vigil", metavar="DIR", help="vigild and libvigil.so* from DIR (another build's)")
    ap.add_argument("--progstats", action="store_true", help="BPF ns per run of the agent's programs")
    ap.add_argument("vigild_args", nargs="*")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("bench_latency: needs root (loads BPF programs)", file=sys.stderr)
        return 77
    if args.tiny:
        args.rate, args.seconds = 1000, 1
    build = os.path.abspath(args.build)
    driver = os.path.join(build, "tests", "bench", "bench_latency")
    d = tempfile.mkdtemp(prefix="vigil-bench-latency-")
    os.chmod(d, 0o700)
    pol = os.path.join(d, "policies")
    os.mkdir(pol, 0o700)
    with open(os.path.join(pol, "latency.yaml"), "w") as f:
        f.write(POLICY % driver)
    bus, ctl = "ipc://%s/events.sock" % d, "ipc://%s/control.sock" % d
    log = open(os.path.join(d, "vigild.log"), "w")
    rt = ["chrt", "-f", "10"] if args.chrt else []
    env = dict(os.environ)
    vigild = os.path.join(build, "core", "cli", "vigild")
    if args.vigil:
        vigild = os.path.join(os.path.abspath(args.vigil), "vigild")
        env["LD_LIBRARY_PATH"] = os.path.abspath(args.vigil)
    agent = subprocess.Popen(rt + [vigild, "--bus", bus, "--control", ctl,
                              "--tracing-policy-dir", pol, "--rules-dir", d] + args.vigild_args,
                             stdout=subprocess.DEVNULL, stderr=log, env=env)
    try:
        for _ in range(120):
            r = subprocess.run([os.path.join(build, "core", "cli", "vigil"), "status", "--control", ctl],
                               capture_output=True)
            if r.returncode == 0:
                break
            if agent.poll() is not None:
                raise RuntimeError("vigild exited: " + open(os.path.join(d, "vigild.log")).read())
            time.sleep(0.5)
        st0 = status(build, ctl)
        cpu0, sw0 = agent_cpu_switches(agent.pid)
        cmd = rt + [driver, bus, str(args.rate), str(args.seconds), "2" if args.tiny else "5"]
        if args.progstats:
            with ProgStats(agent.pid) as ps:
                out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        else:
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        cpu1, sw1 = agent_cpu_switches(agent.pid)
        st = status(build, ctl)
        res = json.loads(out)
        # the agent's CPU and wake-ups per event of the stream (the lone events' included)
        res["agent_us_per_event"] = round((cpu1 - cpu0) / 1e3 / max(res["sent"], 1), 2)
        res["agent_switches_per_event"] = round((sw1 - sw0) / max(res["sent"], 1), 3)
        # where the missing ones went: the kernel's ring buffer, the bus's queue, or the
        # subscriber's own (holes in the stamps it saw: missed)
        res["kernel_lost"] = st["kernel_ringbuf_full"] - st0["kernel_ringbuf_full"]
        res["bus_dropped"] = st["bus_dropped"] - st0["bus_dropped"]
        if args.progstats:
            res["progs"] = [{"name": n, "runs": r, "ns_per_run": round(per, 1)} for n, _, r, per, _ in ps.rows()]
        print(json.dumps(res))
        print("rate %d/s: %d of %d received (kernel lost %d, bus dropped %d, subscriber missed %d), latency "
              "p50 %.0f us, p99 %.0f us, max %.0f us; p99 of each half second, sorted: %s us; lone events: %s ms; "
              "agent %.2f us and %.3f switches an event"
              % (res["rate"], res["received"], res["sent"], res["kernel_lost"], res["bus_dropped"], res["missed"],
                 res["p50_us"], res["p99_us"], res["max_us"], " ".join("%.0f" % x for x in res["p99_windows_us"]),
                 ", ".join("%.1f" % x for x in res["lone_ms"]), res["agent_us_per_event"],
                 res["agent_switches_per_event"]))
        return 0 if res["received"] and len(res["lone_ms"]) else 1
    finally:
        agent.terminate()
        agent.wait(timeout=30)
        log.close()


if __name__ == "__main__":
    sys.exit(main())
