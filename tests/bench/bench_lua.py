#!/usr/bin/env python3
"""Lua host benchmark: events per second through the agent's per-event work with the
shipped rules (rules/lua) loaded, against the same synthetic stream with no rules, in paired
rounds within one run. Reports the median rates, their ratio and the per-event cost the
rules add.

The driver (bench_lua.c) encodes each event to msgpack as the agent does for the bus, and,
when a rule wants the event's type, decodes it and hands it to the host, as agent_dispatch
did before the rules had their own thread; a fourth configuration runs the shipped rules the
agent's way now (queued for the rules thread) and reports the reader's own rate beside the
end-to-end one. It is compiled here against the build's libvigil.so. A third configuration, one rule
whose on_event does nothing, measures the floor: the decode and one protected call.

usage: bench_lua.py [--events 200000] [--rounds 5] [--build build]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.abspath(os.path.join(HERE, "..", ".."))


def build_driver(build, out):
    cflags = subprocess.run(["pkg-config", "--cflags", "msgpack"], capture_output=True, text=True).stdout.split()
    cmd = ["cc", "-O2", "-Wall", "-Werror", "-D_GNU_SOURCE", "-I", os.path.join(SOURCE, "core"), *cflags,
           os.path.join(HERE, "bench_lua.c"), "-o", out, "-L", os.path.join(build, "core"), "-lvigil", "-ldl",
           "-Wl,-rpath," + os.path.join(build, "core")]
    subprocess.run(cmd, check=True)


def run(driver, rules, events, *mode):
    out = subprocess.run([driver, rules, str(events), *mode], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=200000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--build", default=os.path.join(SOURCE, "build"))
    ap.add_argument("--rules", default=os.path.join(SOURCE, "rules", "lua"))
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    tmp = tempfile.mkdtemp(prefix="vigil-bench-lua-")
    driver = os.path.join(tmp, "bench_lua")
    build_driver(args.build, driver)

    empty = os.path.join(tmp, "empty")
    os.mkdir(empty)
    with open(os.path.join(empty, "empty.lua"), "w") as f:
        f.write('return { name = "empty", events = {"exec", "exit", "tracepoint"}, on_event = function(ev) end }\n')

    run(driver, args.rules, 20000)  # warm up
    none, rules, floor, posted, reader, last = [], [], [], [], [], None
    for r in range(args.rounds):
        a = run(driver, "", args.events)
        b = run(driver, args.rules, args.events)
        c = run(driver, empty, args.events)
        d = run(driver, args.rules, args.events, "post")
        # per CPU second: wall time means nothing on a loaded machine
        none.append(a["events_per_cpu_s"])
        rules.append(b["events_per_cpu_s"])
        floor.append(c["events_per_cpu_s"])
        posted.append(d["events_per_s"])
        reader.append(d["reader_events_per_s"])
        last = b
        print("round %d: no rules %.0f ev/CPU-s; %d shipped rules %.0f ev/CPU-s, "
              "%d rule calls, %d alerts" % (r + 1, a["events_per_cpu_s"], b["rules"],
                                            b["events_per_cpu_s"], b["calls"], b["alerts"]))
    n, w, e = statistics.median(none), statistics.median(rules), statistics.median(floor)
    print("Lua host, %d events x %d rounds (synthetic stream: 3/8 exec, 2/8 exit, 3/8 tracepoints)"
          % (args.events, args.rounds))
    print("  median no rules:      %10.0f events/CPU-s  (%.0f ns/event: msgpack encoding only)" % (n, 1e9 / n))
    print("  median shipped rules: %10.0f events/CPU-s  (%.0f ns/event)" % (w, 1e9 / w))
    print("  the rules thread alone: %8.0f events/CPU-s  (what the rules add to the encoding)"
          % (1e9 / (1e9 / w - 1e9 / n)))
    print("  ratio (rules / none): %.3f" % (w / n))
    print("  cost the rules add:   %.0f ns/event (%.2f rule calls per event)"
          % (1e9 / w - 1e9 / n, last["calls"] / last["events"]))
    print("  of which the floor:   %.0f ns/event (one empty on_event call, %.0f events/CPU-s)"
          % (1e9 / e - 1e9 / n, e))
    p, rd = statistics.median(posted), statistics.median(reader)
    print("  rules thread (the agent's way): %10.0f events/s end to end; the reader alone %.0f events/s"
          " (%.0f ns/event: encode + queue a copy)" % (p, rd, 1e9 / rd))
    work = 1e9 / w - 1e9 / e
    print("  the rules' own work:  %.0f ns/event, about %.0f ns per rule call"
          % (work, work / (last["calls"] / last["events"])))


if __name__ == "__main__":
    main()
