#!/usr/bin/env python3
"""Agent memory with the shipped configuration (rules/policies, rules/lua) on a private bus:
its resident set (and proportional set, PSS) when started, with N more live processes (forked
sleepers, each in the process cache), and after they are gone; where it is (heap and other
anonymous memory, BPF map mappings: the ring buffer is mapped twice, so its pages count twice
in RSS and once in PSS, libvigil.so, the rest).

With --malloc, glibc's own account too (malloc_stats() called in the agent through gdb, which
stops it for a moment): the bytes malloc holds from the system and those in use, over all
its arenas, and how many arenas there are.

usage: sudo python3 tests/bench/bench_rss.py [--procs 30000] [--build build] [--settle 12] [--malloc]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.abspath(os.path.join(HERE, "..", ".."))


def memory(pid):
    """VmRSS, VmHWM and PSS (smaps_rollup), and the resident kB of [heap] (with the other
    anonymous mappings: malloc's arenas and mmap'd blocks), BPF map mappings (the ring
    buffer: its data pages are mapped twice, so RSS counts them twice and PSS once),
    libvigil.so and the rest (other libraries, stacks), from smaps."""
    out = {"heap": 0, "bpf_maps": 0, "bpf_maps_pss": 0, "libvigil": 0, "other": 0}
    name = None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 5 and "-" in parts[0] and ":" not in parts[0]:
                name = parts[5] if len(parts) > 5 else ""
            elif parts and parts[0] in ("Rss:", "Pss:"):
                if name and "bpf-map" in name:
                    key = "bpf_maps" if parts[0] == "Rss:" else "bpf_maps_pss"
                elif parts[0] == "Pss:":
                    continue
                elif name in ("[heap]", ""):
                    key = "heap"
                elif "libvigil.so" in name:
                    key = "libvigil"
                else:
                    key = "other"
                out[key] += int(parts[1])
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1])
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith("Pss:"):
                out["Pss"] = int(line.split()[1])
    return {k: round(v / 1024, 1) for k, v in out.items()}


def malloc_account(pid, log_path):
    """Call malloc_stats() in pid (it prints to the agent's stderr, log_path) and read back the
    totals: system bytes and in-use bytes (MiB), arenas, threads."""
    with open(log_path) as f:
        f.seek(0, 2)
        start = f.tell()
    subprocess.run(["gdb", "-p", str(pid), "-batch", "-nx", "-ex", "call (void)malloc_stats()"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    time.sleep(0.2)
    with open(log_path) as f:
        f.seek(start)
        text = f.read()
    out = {"arenas": len(re.findall(r"^Arena \d+:", text, re.M))}
    m = re.search(r"Total \(incl\. mmap\):\s*system bytes\s*=\s*(\d+)\s*in use bytes\s*=\s*(\d+)", text)
    if m:
        out["malloc_system"] = round(int(m.group(1)) / 1048576, 1)
        out["malloc_in_use"] = round(int(m.group(2)) / 1048576, 1)
    out["threads"] = len(os.listdir("/proc/%d/task" % pid))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--procs", type=int, default=30000)
    ap.add_argument("--build", default=os.path.join(SOURCE, "build"))
    ap.add_argument("--settle", type=float, default=12,
                    help="seconds after start-up before measuring (the kernel BTF the policies' compiles "
                         "loaded is freed 10 s after the last one)")
    ap.add_argument("--malloc", action="store_true",
                    help="also glibc's account of the heap (malloc_stats through gdb)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("bench_rss: needs root (loads BPF programs)", file=sys.stderr)
        return 77
    with open("/proc/sys/kernel/pid_max") as f:
        pid_max = int(f.read())
    live = len([d for d in os.listdir("/proc") if d.isdigit()])
    if args.procs + live + 2000 > pid_max:
        print("bench_rss: %d processes would leave fewer than 2000 pids free (pid_max %d, %d live): "
              "raise kernel.pid_max or ask for fewer" % (args.procs, pid_max, live), file=sys.stderr)
        return 2
    build = os.path.abspath(args.build)
    vigil = os.path.join(build, "core", "cli", "vigil")
    d = tempfile.mkdtemp(prefix="vigil-bench-rss-")
    os.chmod(d, 0o700)
    bus, ctl = "ipc://%s/events.sock" % d, "ipc://%s/control.sock" % d
    log_path = os.path.join(d, "vigild.log")
    log = open(log_path, "w")
    agent = subprocess.Popen([os.path.join(build, "core", "cli", "vigild"), "--bus", bus, "--control", ctl,
                              "--tracing-policy-dir", os.path.join(SOURCE, "rules", "policies"),
                              "--rules-dir", os.path.join(SOURCE, "rules", "lua")],
                             stdout=subprocess.DEVNULL, stderr=log)

    def cache_size():
        r = subprocess.run([vigil, "status", "-o", "json", "--control", ctl], capture_output=True, text=True)
        return json.loads(r.stdout)["counters"].get("pcache_size", -1) if r.returncode == 0 else None

    res = {}
    try:
        for _ in range(240):
            if cache_size() is not None:
                break
            if agent.poll() is not None:
                raise RuntimeError("vigild exited: " + open(os.path.join(d, "vigild.log")).read())
            time.sleep(0.5)
        time.sleep(args.settle)
        res["started"] = memory(agent.pid)
        res["started"]["cache"] = cache_size()
        if args.malloc:
            log.flush()
            res["started"].update(malloc_account(agent.pid, log_path))
        sl = subprocess.Popen([os.path.join(build, "tests", "bench", "sleepers"), str(args.procs)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready = sl.stdout.readline()
        time.sleep(3)   # the reader drains the forks
        res["with_%d" % args.procs] = memory(agent.pid)
        res["with_%d" % args.procs]["cache"] = cache_size()
        if args.malloc:
            log.flush()
            res["with_%d" % args.procs].update(malloc_account(agent.pid, log_path))
        res["with_%d" % args.procs]["sleepers"] = ready.strip()
        sl.stdin.close()
        sl.wait(timeout=300)
        time.sleep(3)
        res["after"] = memory(agent.pid)
        res["after"]["cache"] = cache_size()
        if args.malloc:
            log.flush()
            res["after"].update(malloc_account(agent.pid, log_path))
    finally:
        agent.terminate()
        agent.wait(timeout=60)
        log.close()
    print(json.dumps(res))
    for k, v in res.items():
        print("%-14s RSS %6.1f MiB (peak %6.1f), PSS %6.1f: heap %6.1f, BPF maps %5.1f (PSS %4.1f), "
              "libvigil.so %4.1f, other %5.1f; cache %s" %
              (k, v["VmRSS"], v["VmHWM"], v["Pss"], v["heap"], v["bpf_maps"], v["bpf_maps_pss"], v["libvigil"],
               v["other"], v.get("cache")))
        if "malloc_system" in v:
            print("%-14s malloc: %.1f MiB from the system, %.1f in use, %d arenas, %d threads" %
                  ("", v["malloc_system"], v["malloc_in_use"], v["arenas"], v["threads"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
