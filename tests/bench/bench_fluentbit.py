#!/usr/bin/env python3
"""vigil-forward benchmark: events per second forwarded *with acks* to the real Forward
server (@fluent-org/logger's FluentServer, in count-only mode), and the forwarder's CPU and
peak RSS. Not a ctest test; run by hand as root after a build:

  python3 tests/bench/bench_fluentbit.py [--build build] [--execs 5000] [--rates 5000,10000,20000,40000]

Two measurements:
  live    a real agent, an exec storm (tests/bench/exec_storm of the static `tiny`), every
          exec and exit event through the forwarder; the rate is what the kernel and the
          agent produce, the forwarder's CPU per event is the figure of merit.
  replay  real bus messages captured from the live run are published again (libvigil's own
          vigil_pub__send, through ctypes) on a private bus at fixed rates for a few seconds
          each, to find where forwarder + server stop keeping up. nanomsg PUB drops silently
          for a subscriber that falls behind, so each rate reports published vs. taken vs.
          acked.
"""
import argparse
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "plugins", "fluentbit"))
import flbtest as ft  # noqa: E402

vh = ft.vh


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    vals = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("VmHWM:", "VmRSS:")):
                vals[line.split(":")[0]] = int(line.split()[1])
    return vals.get("VmRSS", 0), vals.get("VmHWM", 0)


class Lib:
    """libvigil's bus through ctypes: subscribe to capture, publish to replay."""

    def __init__(self, build):
        self.so = ctypes.CDLL(os.path.join(build, "core", "libvigil.so"))
        self.so.vigil_sub__open.restype = ctypes.c_void_p
        self.so.vigil_sub__open.argtypes = [ctypes.c_char_p, ctypes.c_int]
        self.so.vigil_sub__recv.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]
        self.so.vigil_sub__close.argtypes = [ctypes.c_void_p]
        self.so.vigil_bus_msg_free.argtypes = [ctypes.c_void_p]
        self.so.vigil_pub__open.restype = ctypes.c_void_p
        self.so.vigil_pub__open.argtypes = [ctypes.c_char_p, ctypes.c_uint]
        self.so.vigil_pub__send.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
        self.so.vigil_pub__close.argtypes = [ctypes.c_void_p]


def capture(lib, url, limit, stop):
    """Raw bus messages, as published, until stop is set or limit is reached."""
    msgs = []
    sub = lib.so.vigil_sub__open(url.encode(), 100)
    data = ctypes.c_void_p()
    while not stop.is_set() and len(msgs) < limit:
        n = lib.so.vigil_sub__recv(sub, ctypes.byref(data))
        if n > 0:
            msgs.append(ctypes.string_at(data, n))
            lib.so.vigil_bus_msg_free(data)
    lib.so.vigil_sub__close(sub)
    return msgs


def settle(fwd, timeout=120):
    """Wait until everything the forwarder took is acked or counted as dropped, and quiet."""
    last = [None, time.time()]

    def done(s):
        key = (s["events_in"], s["events_acked"])
        if key != last[0]:
            last[:] = [key, time.time()]
        return (s["events_acked"] + s["dropped_events"] == s["events_in"] and s["queued_batches"] == 0
                and time.time() - last[1] > 0.5)
    return fwd.wait_stats(done, timeout, "the forwarder to settle")


def live(args, node, wd, lib):
    storm = os.path.join(args.build, "tests", "bench", "exec_storm")
    tiny = os.path.join(args.build, "tests", "bench", "tiny")
    with vh.Agent("--node-name", "bench", outputs=()) as agent:
        server = ft.Server(node, wd, "server-live", unix=os.path.join(wd, "live.sock"), count=True).start()
        fwd = ft.Forwarder(wd, "fwd-live", agent.bus, "unix://" + server.unix).start()
        ft.wait_bus_live(fwd, "bench")
        st0, cpu0 = settle(fwd), cpu_seconds(fwd.proc.pid)
        stop = threading.Event()
        captured = []
        cap = threading.Thread(target=lambda: captured.extend(capture(lib, agent.bus, 20000, stop)))
        cap.start()
        time.sleep(0.3)
        t0 = time.time()
        subprocess.run([storm, str(args.execs), tiny], check=True, capture_output=True)
        st1 = settle(fwd)
        t1 = time.time() - 0.5          # settle() waits 0.5 s of quiet after the last ack
        cpu1 = cpu_seconds(fwd.proc.pid)
        rss, hwm = rss_kib(fwd.proc.pid)
        stop.set()
        cap.join()
        fwd.stop()
        server.kill(signal.SIGTERM)
        agent_status = agent.status()
    events = st1["events_acked"] - st0["events_acked"]
    return {"events": events, "seconds": t1 - t0, "rate": events / (t1 - t0), "cpu": cpu1 - cpu0,
            "rss_kib": rss, "hwm_kib": hwm, "bytes": st1["bytes_sent"] - st0["bytes_sent"],
            "batches": st1["batches_acked"] - st0["batches_acked"], "captured": captured,
            "bus_dropped": agent_status.get("counters", {}).get("bus_dropped")}


def replay(args, node, wd, lib, msgs, rate, extra):
    url = "ipc://" + os.path.join(wd, "replay-%d.sock" % rate)
    pub = lib.so.vigil_pub__open(url.encode(), 0o660)
    server = ft.Server(node, wd, "server-%d" % rate, unix=os.path.join(wd, "r%d.sock" % rate), count=True).start()
    fwd = ft.Forwarder(wd, "fwd-%d" % rate, url, "unix://" + server.unix, *extra).start()
    time.sleep(0.5)                     # nanomsg connects within its 100 ms reconnect interval
    cpu0 = cpu_seconds(fwd.proc.pid)
    total = int(rate * args.seconds)
    t0 = time.time()
    for i in range(total):
        m = msgs[i % len(msgs)]
        lib.so.vigil_pub__send(pub, m, len(m))
        if i % 64 == 63:
            ahead = t0 + (i + 1) / rate - time.time()
            if ahead > 0:
                time.sleep(ahead)
    sent_s = time.time() - t0
    st = settle(fwd)
    t1 = time.time() - 0.5
    cpu = cpu_seconds(fwd.proc.pid) - cpu0
    rss, hwm = rss_kib(fwd.proc.pid)
    fwd.stop()
    server.kill(signal.SIGTERM)
    counts = [l for l in server.lines() if "events" in l]
    lib.so.vigil_pub__close(pub)
    return {"rate": rate, "published": total, "publish_rate": total / sent_s, "taken": st["events_in"],
            "acked": st["events_acked"], "dropped": st["dropped_events"], "server": counts[-1]["events"] if counts else None,
            "acked_rate": st["events_acked"] / (t1 - t0), "cpu": cpu, "cpu_pct": 100 * cpu / (t1 - t0),
            "hwm_kib": hwm, "batches": st["batches_acked"], "bytes": st["bytes_sent"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=vh.BUILD)
    ap.add_argument("--execs", type=int, default=5000)
    ap.add_argument("--rates", default="5000,10000,20000,40000")
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--gzip", action="store_true", help="replay with --compress gzip as well")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    vh.BUILD = args.build
    vh.VIGILD = os.path.join(args.build, "core", "cli", "vigild")
    vh.VIGIL = os.path.join(args.build, "core", "cli", "vigil")
    ft.FORWARD = os.path.join(args.build, "plugins", "fluentbit", "vigil-forward")
    ft.require_root()
    node = ft.ensure_server()
    lib = Lib(args.build)
    with ft.Workdir() as wd:
        lv = live(args, node, wd, lib)
        print("live: %d events (exec storm of %d) forwarded and acked in %.2f s = %.0f events/s; "
              "forwarder CPU %.3f s (%.1f us/event, %.1f%% of one core); RSS %d KiB, peak %d KiB; "
              "%d batches, %.0f bytes/event; agent bus_dropped %s"
              % (lv["events"], args.execs, lv["seconds"], lv["rate"], lv["cpu"], 1e6 * lv["cpu"] / max(lv["events"], 1),
                 100 * lv["cpu"] / lv["seconds"], lv["rss_kib"], lv["hwm_kib"], lv["batches"],
                 lv["bytes"] / max(lv["events"], 1), lv["bus_dropped"]))
        msgs = lv["captured"]
        print("replay: %d captured real bus messages, mean %.0f bytes"
              % (len(msgs), sum(map(len, msgs)) / max(len(msgs), 1)))
        variants = [("packed", [])] + ([("gzip", ["--compress", "gzip"])] if args.gzip else [])
        for name, extra in variants:
            for rate in (int(r) for r in args.rates.split(",")):
                r = replay(args, node, wd, lib, msgs, rate, extra)
                print("replay %-6s target %6d/s: published %d (%.0f/s), forwarder took %d, acked %d, spool "
                      "dropped %d (server counted %s) = %.0f acked events/s; CPU %.2f s (%.0f%% of one core, "
                      "%.1f us per event taken); peak RSS %d KiB; %.0f bytes/event on the wire"
                      % (name, rate, r["published"], r["publish_rate"], r["taken"], r["acked"], r["dropped"], r["server"],
                         r["acked_rate"], r["cpu"], r["cpu_pct"], 1e6 * r["cpu"] / max(r["taken"], 1),
                         r["hwm_kib"], r["bytes"] / max(r["acked"], 1)))


if __name__ == "__main__":
    main()
