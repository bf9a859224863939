#!/usr/bin/env python3
"""Falco plugin benchmark: events per second extracted through Debian's sysdig with a filter
on two vigil fields, against sysdig reading the same stream with no filter, in one run.

The stream is real: a vigild runs an exec storm (fork+exec of a tiny static binary) and a
sysdig with the legacy plugin records what the bus carries into a capture file (counting
what the live path lost, if anything). The capture is then replayed in paired rounds, so
both sides read exactly the same events: no filter (the plugin's events are read, nothing
is extracted) and `vigil.process.binary = <tiny> and vigil.process.pid > 0` (every event
decoded once, both fields extracted and compared). Reports medians and their ratio.

usage: bench_falco.py [--execs 25000] [--rounds 5] [--build build]   (root; needs sysdig)
"""
import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "host"))
import vigilhost as vh  # noqa: E402


def connections(sock_path):
    n = 0
    with open("/proc/net/unix") as f:
        next(f)
        for line in f:
            parts = line.split()
            if len(parts) >= 8 and parts[7] == sock_path and parts[5] == "03":
                n += 1
    return n


def timed(cmd):
    t = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    t = time.monotonic() - t
    if p.returncode:
        raise RuntimeError("%s failed: %s" % (" ".join(cmd), p.stderr))
    return t


def count(sysdig, plugin, cap, flt=None):
    cmd = [sysdig, "-H", plugin, "-r", cap, "-p", "%evt.num"] + ([flt] if flt else [])
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return sum(1 for line in out.splitlines() if line.strip())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--execs", type=int, default=25000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--build", default=vh.BUILD)
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    vh.BUILD, vh.VIGILD, vh.VIGIL = build, os.path.join(build, "core", "cli", "vigild"), \
        os.path.join(build, "core", "cli", "vigil")
    sysdig = shutil.which("sysdig")
    plugin = os.path.join(build, "plugins", "falco", "libvigil_falco_legacy.so")
    storm = os.path.join(build, "tests", "bench", "exec_storm")
    tiny = os.path.join(build, "tests", "bench", "tiny")
    if not sysdig or os.geteuid() != 0:
        sys.exit("bench_falco: needs root and sysdig (apt-get install --no-install-recommends sysdig)")
    for path in (plugin, storm, tiny, vh.VIGILD, vh.VIGIL):
        if not os.path.exists(path):
            sys.exit("bench_falco: %s not built (build the tree in %s first)" % (path, build))
    work = tempfile.mkdtemp(prefix="vigil-bench-falco-")
    cap = os.path.join(work, "vigil.scap")
    try:
        # 1. record the live stream
        with vh.Agent(outputs=("json",)) as agent:
            sock = agent.bus[len("ipc://"):]
            rec = subprocess.Popen([sysdig, "-H", plugin + ':{"bus":"%s","batch_size":512}' % agent.bus,
                                    "-I", plugin, "-w", cap], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                deadline = time.time() + 20
                while connections(sock) < 2 and time.time() < deadline:
                    time.sleep(0.05)
                time.sleep(0.3)
                out = subprocess.run([storm, str(args.execs), tiny], capture_output=True, text=True, check=True)
                storm_s = float(out.stdout)
                time.sleep(1.0)
            finally:
                rec.send_signal(signal.SIGINT)
                try:
                    rec.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    rec.kill()
                    rec.wait()
            published = agent.events("json")
        recorded = count(sysdig, plugin, cap)
        flt = "vigil.process.binary = %s and vigil.process.pid > 0" % tiny
        selected = count(sysdig, plugin, cap, flt)
        tiny_published = sum(1 for e in published for k in ("process_exec", "process_exit")
                             if k in e and e[k]["process"].get("binary") == tiny)
        print("live: exec storm of %d execs in %.2f s; agent published %d events (%d of tiny); "
              "sysdig recorded %d (%d of tiny pass the filter)"
              % (args.execs, storm_s, len(published), tiny_published, recorded, selected))
        print("  capture %s: %.1f MB, %.0f bytes per event on average"
              % (cap, os.path.getsize(cap) / 1e6, os.path.getsize(cap) / max(recorded, 1)))

        # 2. replay the same capture, paired rounds
        plain, filtered = [], []
        startup = timed([sysdig, "-H", plugin, "-r", cap, "-q", "-n", "1"])
        for r in range(args.rounds):
            a = timed([sysdig, "-H", plugin, "-r", cap, "-q"])
            b = timed([sysdig, "-H", plugin, "-r", cap, "-q", flt])
            plain.append(a)
            filtered.append(b)
            print("round %d: no filter %.3f s (%.0f evt/s); two-field filter %.3f s (%.0f evt/s)"
                  % (r + 1, a, recorded / a, b, recorded / b))
        a, b = statistics.median(plain), statistics.median(filtered)
        print("sysdig 0.29.3 + libvigil_falco_legacy.so, %d events, %d paired rounds" % (recorded, args.rounds))
        print("  no filter:        median %.3f s  -> %.0f evt/s" % (a, recorded / a))
        print("  filter (2 fields): median %.3f s  -> %.0f evt/s" % (b, recorded / b))
        print("  ratio filtered/plain time: %.2f; extraction cost %.2f us per event "
              "(sysdig start-up, included above: %.3f s)" % (b / a, (b - a) / recorded * 1e6, startup))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
