#!/usr/bin/env python3
"""vigil-forward at fixed offered rates: acked events per second and the forwarder's CPU per
event, into the Forward server the plugin tests use (fluent_server.js, count-only mode).

A C publisher (tests/plugins/falco's falco_feed --agent-pub: libvigil's own publisher, stamped as vigild stamps) offers a mix of
exec, exit, kprobe and alert events as the agent encodes them on a private ipc:// bus, at
each rate for --seconds. Per rate: offered, taken by the forwarder, acked, dropped anywhere
(bus + spool), the wall rate of acks, and the forwarder's user+system CPU per taken event
(/proc/<pid>/stat, so it includes every syscall it makes).

With --callgrind the forwarder runs under valgrind's callgrind instead, and the line says
how many instructions it executed per event taken (start-up included; use a low rate, the
forwarder runs ~50 times slower): a count that repeats on a loaded machine.

With --fluent-bit PATH the peer is a real Fluent Bit instead (in_forward on a UNIX socket,
out_null, its HTTP server on a free loopback port): its own counters
(/api/v1/metrics: records in at forward.0, records out at null.0) are read after each rate
and must equal what the forwarder had acked, and its CPU is reported beside the forwarder's.
Debian 12 ships no Fluent Bit: the recipe that builds one is in tests/bench/DELIVERY.md.

usage: bench_forward_rate.py [--build build] [--rates 20000,50000,100000] [--seconds 3] [--callgrind]
                             [--forward PATH] [--forward-args '...'] [--fluent-bit PATH]
Runs as any user; needs node (tests/plugins/fluentbit/flbtest.py sets the server up) unless
--fluent-bit is given.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "plugins", "fluentbit"))
import flbtest as ft  # noqa: E402

SPECS = ["exec:4242:/usr/bin/curl:-s https://example.com/install.sh", "exit:4242:/usr/bin/curl:0",
         "kprobe:4243:/usr/bin/cat:/etc/shadow:10.0.0.7:443", "alert:4244:shell-in-container:warning"]


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class FluentBit:
    """A real Fluent Bit: in_forward on a UNIX socket (acks a chunk once it is in its input
    buffer), out_null, and its HTTP server for the record counters."""

    def __init__(self, binary, wd, name):
        self.unix = os.path.join(wd, name + ".sock")
        self.port = ft.free_port()
        self.conf = os.path.join(wd, name + ".conf")
        self.log = os.path.join(wd, name + ".log")
        with open(self.conf, "w") as f:
            f.write("[SERVICE]\n    Flush 1\n    Log_Level warn\n    HTTP_Server On\n"
                    "    HTTP_Listen 127.0.0.1\n    HTTP_Port %d\n"
                    "[INPUT]\n    Name forward\n    Unix_Path %s\n"
                    "[OUTPUT]\n    Name null\n    Match *\n" % (self.port, self.unix))
        self.args = [binary, "-c", self.conf]
        self.proc = None

    def start(self):
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT)

        def up():
            if self.proc.poll() is not None:
                raise AssertionError("fluent-bit exited: " + open(self.log).read())
            try:
                self.metrics()
            except OSError:
                return False
            return os.path.exists(self.unix)
        ft.wait_until(up, 20, what="fluent-bit to listen")
        return self

    def metrics(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/api/v1/metrics" % self.port, timeout=5) as r:
            return json.load(r)

    def records(self):
        """(records in at the forward input, records out of the null output)"""
        m = self.metrics()
        return (sum(v.get("records", 0) for v in m.get("input", {}).values()),
                sum(v.get("proc_records", 0) for v in m.get("output", {}).values()))

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def settle(fwd, timeout=120):
    last = [None, time.time()]

    def done(s):
        key = (s["events_in"], s["events_acked"])
        if key != last[0]:
            last[:] = [key, time.time()]
        # a hole in the stamps' seqs becomes a vigil.delivery_loss record of its own
        return (s["events_acked"] + s["dropped_events"] == s["events_in"] + s["loss_records"]
                and s["queued_batches"] == 0
                and time.time() - last[1] > 0.3)
    return fwd.wait_stats(done, timeout, "the forwarder to settle")


def one(args, node, wd, rate, feed):
    url = "ipc://" + os.path.join(wd, "bus-%d.sock" % rate)
    if args.fluent_bit:
        server = FluentBit(args.fluent_bit, wd, "flb-%d" % rate).start()
    else:
        server = ft.Server(node, wd, "server-%d" % rate, unix=os.path.join(wd, "s%d.sock" % rate), count=True).start()
    fwd = ft.Forwarder(wd, "fwd-%d" % rate, url, "unix://" + server.unix, *args.forward_args)
    cg = os.path.join(wd, "callgrind.%d.out" % rate)
    if args.callgrind:
        fwd.args = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + cg] + fwd.args
    fwd.start()
    try:
        count = int(rate * args.seconds)
        cpu0, scpu0 = cpu_seconds(fwd.proc.pid), cpu_seconds(server.proc.pid)
        out = subprocess.run([feed, "--bus", url, "--count", str(count), "--rate", str(rate), "--agent-pub"] + SPECS,
                             capture_output=True, text=True, timeout=300)
        t_fed = time.time() - 0.5       # falco_feed lingers 0.5 s after its last send
        if out.returncode:
            raise RuntimeError("falco_feed: " + out.stderr)
        send_s = float(out.stdout.split()[-2])
        took = [int(l.split()[4].rstrip(",")) for l in out.stderr.splitlines() if " took " in l]
        fed_dropped = int(out.stdout.split()[3])
        st = settle(fwd)
        t1 = time.time() - 0.3          # settle() waits 0.3 s of quiet
        # wall time from the first send to the last ack: the feeder's send time, then the tail
        wall = send_s + max(t1 - t_fed, 0)
        cpu = cpu_seconds(fwd.proc.pid) - cpu0
        scpu = cpu_seconds(server.proc.pid) - scpu0
        peer = None
        if args.fluent_bit:
            # in_forward counts a record when it appends it, out_null after its flush (1 s)
            want = st["events_acked"]
            peer = ft.wait_until(lambda: (lambda r: r if r[1] >= want else None)(server.records()), 10, 0.2,
                                 "fluent-bit to flush %d records" % want) if want else server.records()
    finally:
        fwd.stop(timeout=120)
        server.kill()
    taken = st["events_in"]
    ir = None
    if args.callgrind:
        with open(cg) as f:
            ir = next(int(l.split()[1]) for l in f if l.startswith(("summary:", "totals:")))
    acked = st["events_acked"] - st["loss_records"]    # events, not the loss records
    return {"rate": rate, "offered": count, "taken": taken, "acked": acked,
            "dropped": count - acked, "missed": st["events_missed"], "spool_dropped": st["dropped_events"], "acked_rate": acked / wall, "loss_records": st["loss_records"],
            "cpu": cpu, "us_per_event": 1e6 * cpu / max(taken, 1), "batches": st.get("batches_acked", 0),
            "fed_dropped": fed_dropped, "queued": sum(took), "server_cpu": scpu, "peer": peer, "ir_per_event": ir / max(taken, 1) if ir else None}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(HERE, "..", "..", "build"))
    ap.add_argument("--rates", default="20000,50000,100000")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--callgrind", action="store_true")
    ap.add_argument("--forward-args", type=lambda a: a.split(), default=[],
                    help="extra vigil-forward options, space-separated")
    ap.add_argument("--fluent-bit", help="a fluent-bit binary: measure against it instead of fluent_server.js")
    ap.add_argument("--forward", help="another vigil-forward binary to measure (default: the build's)")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    ft.FORWARD = args.forward or os.path.join(build, "plugins", "fluentbit", "vigil-forward")
    feed = os.path.join(build, "tests", "plugins", "falco", "falco_feed")
    for path in (ft.FORWARD, feed):
        if not os.path.exists(path):
            sys.exit("bench_forward_rate: %s not built" % path)
    node = None if args.fluent_bit else ft.ensure_server()
    failed = False
    with tempfile.TemporaryDirectory(prefix="vigil-bench-fwd-") as wd:
        for rate in (int(r) for r in args.rates.split(",")):
            r = one(args, node, wd, rate, feed)
            failed |= r["acked"] == 0
            if r["peer"] is not None:
                want = r["acked"] + r["loss_records"]
                failed |= r["peer"] != (want, want)
            print("vigil-forward offered %6d/s for %.1f s: offered %d (publisher refused %d, queued for the forwarder %d), taken %d, acked %d, "
                  "lost %d (bus %d, spool %d); %.0f acked events/s; forwarder CPU %.3f s = %.2f us per event (%d batches); %s CPU %.2f s%s%s"
                  % (rate, args.seconds, r["offered"], r["fed_dropped"], r["queued"], r["taken"], r["acked"], r["dropped"],
                     r["missed"], r["spool_dropped"], r["acked_rate"], r["cpu"], r["us_per_event"], r["batches"],
                     "fluent-bit" if args.fluent_bit else "server", r["server_cpu"],
                     "; fluent-bit records in %d, out %d" % r["peer"] if r["peer"] else "",
                     "; %.0f instructions per event (callgrind)" % r["ir_per_event"] if r["ir_per_event"] else ""),
                  flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
