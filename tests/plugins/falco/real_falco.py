#!/usr/bin/env python3
"""vigil's Falco plugin in a real Falco (issue 13): the shipped config loads, and the
plugin's gap counter shows in Falco's own metrics output with the exact number of events
the agent dropped for Falco.

NOT run by ctest: Falco is not packaged in Debian 12, so CI has no Falco binary, and
building Falco from source takes far longer than a CI run. Run it by hand against a Falco
0.39 or later (plugin API 3.6 for get_metrics; see plugins/falco/README.md), built with its
metrics code (not MINIMAL_BUILD: a minimal build leaves plugin metrics out of `metrics:`):

    sudo python3 tests/plugins/falco/real_falco.py --falco /path/to/falco [--build build]

Needs root (vigild loads BPF) and the tree built (vigild, vigil, the plugin, exec_burst).
Every agent gets a private bus and control socket; Falco runs with the plugin as its only
source (--disable-source=syscall: no kernel driver for Falco).

1. The snippet as shipped (integrations/falco/falco.yaml, only its install paths pointed
   at this tree), and again with `event_types: []` (Falco hands that over as null), loads:
   Falco validates the rules, inits the plugin and opens the bus.
2. Gaps: Falco runs the shipped config plus `metrics:` (jsonl output file, plugin metrics
   on) and a rule counting the storm's execs. Falco is stopped (SIGSTOP) while exec_burst
   runs a storm, then continued. The agent counts what it could not queue for Falco's
   connection (`vigil status`: delivery.subscribers[pid].dropped); Falco's metrics
   snapshot must show plugins.vigil.events_missed equal to it, and the execs that reached
   the rule plus the ones missed must add up to the storm.
3. Optionally (--rate N) Falco's own events/s with the plugin: N events in the agent's
   encoding published by falco_feed at --rate-per-s while Falco, with the shipped rules
   (none fires on this mix), reads them: events taken, peak falco.evts_rate_sec, and
   Falco's CPU per event.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "host"))
import vigilhost as vh  # noqa: E402
import yaml  # noqa: E402

SNIPPET = os.path.join(ROOT, "integrations", "falco", "falco.yaml")
RULES = os.path.join(ROOT, "rules", "falco", "vigil_rules.yaml")


def wait_for(pred, timeout, step=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def shipped_config(plugin, bus, rules_files):
    """The snippet as shipped, with only the install locations pointed at this tree."""
    with open(SNIPPET) as f:
        cfg = yaml.safe_load(f)
    assert cfg["load_plugins"] == ["vigil"] and cfg["plugins"][0]["name"] == "vigil", cfg
    cfg["plugins"][0]["library_path"] = plugin
    cfg["plugins"][0]["init_config"]["bus"] = bus
    cfg["rules_files"] = rules_files
    # the snippet is merged into Falco's own falco.yaml, whose stdout output is on: Falco
    # refuses to start without an output
    cfg.setdefault("stdout_output", {"enabled": True})
    cfg.setdefault("log_stderr", True)
    cfg.setdefault("log_syslog", False)
    cfg.setdefault("log_level", "info")
    return cfg


class Falco:
    def __init__(self, falco, cfg, work, name):
        self.conf = os.path.join(work, name + ".yaml")
        with open(self.conf, "w") as f:
            yaml.safe_dump(cfg, f)
        self.out = os.path.join(work, name + ".out")
        self.fo = open(self.out, "w")
        self.cmd = [falco, "-c", self.conf, "--disable-source=syscall"]
        self.p = subprocess.Popen(self.cmd, stdout=self.fo, stderr=subprocess.STDOUT)

    def text(self):
        if not self.fo.closed:
            self.fo.flush()
        with open(self.out, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGCONT)
            self.p.send_signal(signal.SIGINT)
            try:
                self.p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.fo.close()
        return self.p.returncode


def peer(agent, pid):
    for s in agent.status()["delivery"]["subscribers"]:
        if s["pid"] == pid:
            return s
    return None


def burst(n, tag):
    subprocess.run([os.path.join(vh.PROGS, "exec_burst"), str(n), tag], check=True)


def metrics_lines(path):
    if not os.path.exists(path):
        return []
    out = []
    with open(path) as f:
        for line in f:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        check.failed += 1


check.failed = 0


def loads(falco, plugin, work, variant):
    """Part 1: the shipped snippet starts in Falco and reads the bus."""
    with vh.Agent(outputs=()) as agent:
        cfg = shipped_config(plugin, agent.bus, [RULES])
        if variant == "event_types: []":
            cfg["plugins"][0]["init_config"]["event_types"] = []
        f = Falco(falco, cfg, work, "load-" + variant.split(":")[0])
        try:
            connected = wait_for(lambda: f.p.poll() is None and peer(agent, f.p.pid), 30)
            text = f.text()
            check(connected is not None and f.p.poll() is None,
                  "shipped falco.yaml (%s): Falco started and subscribed to the bus" % variant)
            check("Loaded event sources: vigil" in text or "Opening 'vigil' source" in text
                  or "Enabled event sources: vigil" in text,
                  "Falco reports the vigil source (%s)" % variant)
            check("error" not in text.lower(), "no error in Falco's log (%s)" % variant)
        finally:
            rc = f.stop()
            print("  falco %s; exit %s; log:\n    %s" % (" ".join(f.cmd), rc,
                                                      "\n    ".join(f.text().strip().splitlines()[-12:])))


def gaps(falco, plugin, work, execs):
    """Part 2: a stopped Falco misses events; its metrics say exactly how many."""
    tag = "falcogap%d" % os.getpid()
    metrics = os.path.join(work, "metrics.jsonl")
    rules = os.path.join(work, "count_rules.yaml")
    with open(rules, "w") as f:
        f.write("""- rule: vigil storm exec
  desc: counts the storm's execs (real_falco.py)
  condition: vigil.event_type = process_exec and vigil.process.arguments contains %s
  output: STORM exec %%vigil.process.arguments
  priority: WARNING
  source: vigil
""" % tag)
    with vh.Agent(outputs=()) as agent:
        cfg = shipped_config(plugin, agent.bus, [RULES, rules])
        cfg.update({
            "rule_matching": "all",
            "priority": "debug",
            "stdout_output": {"enabled": True},
            "metrics": {
                "enabled": True, "interval": "1s", "output_rule": True, "output_file": metrics,
                "plugins_metrics_enabled": True, "rules_counters_enabled": True,
                "resource_utilization_enabled": False, "state_counters_enabled": False,
                "kernel_event_counters_enabled": False, "libbpf_stats_enabled": False,
                "include_empty_values": True, "convert_memory_to_mb": True,
            },
        })
        f = Falco(falco, cfg, work, "gaps")
        try:
            assert wait_for(lambda: f.p.poll() is None and peer(agent, f.p.pid), 30), f.text()

            def ready():
                burst(1, tag + "ready")
                time.sleep(0.3)
                return tag + "ready" in f.text()
            assert wait_for(ready, 20, step=0), "Falco never saw a marker exec:\n" + f.text()
            before = peer(agent, f.p.pid)

            f.p.send_signal(signal.SIGSTOP)
            t0 = time.monotonic()
            burst(execs, tag + "storm")
            storm_s = time.monotonic() - t0
            paused = peer(agent, f.p.pid)
            f.p.send_signal(signal.SIGCONT)
            # Falco drains what was queued for it; a marker after that closes the last gap
            wait_for(lambda: (peer(agent, f.p.pid) or {}).get("queued_bytes", 1) == 0, 30)

            def after():
                burst(1, tag + "after")
                time.sleep(0.3)
                return tag + "after" in f.text()
            assert wait_for(after, 20, step=0), "Falco stopped reading after SIGCONT:\n" + f.text()
            drained = peer(agent, f.p.pid)
            dropped = drained["dropped"] - before["dropped"]

            # snapshots come with events, once per interval: keep a trickle going until one
            # taken after the marker says it all
            def snapshot():
                burst(1, tag + "tick")
                time.sleep(0.5)
                for m in reversed(metrics_lines(metrics)):
                    o = m.get("output_fields", m)
                    if o.get("plugins.vigil.events_missed", 0) >= dropped and dropped:
                        return o
                return None
            snap = wait_for(snapshot, 30, step=0)
            seen = sum(1 for line in f.text().splitlines() if "STORM exec" in line and tag + "storm" in line)
        finally:
            rc = f.stop()
        print("storm: %d execs in %.1f s with Falco stopped; agent's view of Falco's connection: "
              "before %s, while stopped %s, drained %s" % (execs, storm_s, before, paused, drained))
        check(snap is not None, "a metrics snapshot in %s carries plugins.vigil.events_missed" % metrics)
        if snap:
            keys = sorted(k for k in snap if k.startswith("plugins."))
            print("Falco metrics snapshot, plugin metrics: " +
                  ", ".join("%s=%s" % (k, snap[k]) for k in keys))
            check(dropped > 0, "the pause cost Falco events (agent dropped %d for it)" % dropped)
            check(snap["plugins.vigil.events_missed"] == dropped,
                  "plugins.vigil.events_missed %d == events the agent dropped for Falco %d" % (
                      snap["plugins.vigil.events_missed"], dropped))
            check(snap["plugins.vigil.bus_gaps"] >= 1, "plugins.vigil.bus_gaps %d" % snap["plugins.vigil.bus_gaps"])
            # exec_burst's own exec and its children's
            check(seen < execs + 1, "the storm's execs Falco's rule saw: %d of %d" % (seen, execs + 1))
        warn = re.findall(r"vigil: missed \d+ events \(seq \d+\.\.\d+ of agent incarnation [0-9a-f]+\)[^\n]*",
                          f.text())
        check(bool(warn), "each gap is a warning in Falco's log: %s" % (warn[:2],))
        print("falco exit %s" % rc)


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rate(falco, plugin, build, work, n, per_s):
    """Part 3: Falco's events/s and CPU per event with the plugin, the shipped rules loaded
    (none fires on this mix). falco_feed publishes n events of the agent's encoding."""
    feed = os.path.join(build, "tests", "plugins", "falco", "falco_feed")
    bus = "ipc://" + os.path.join(work, "rate.sock")
    metrics = os.path.join(work, "rate.jsonl")
    cfg = shipped_config(plugin, bus, [RULES])
    cfg["plugins"][0]["init_config"]["batch_size"] = 512
    cfg["metrics"] = {"enabled": True, "interval": "1s", "output_rule": False, "output_file": metrics,
                      "plugins_metrics_enabled": True, "rules_counters_enabled": False,
                      "resource_utilization_enabled": False, "state_counters_enabled": False,
                      "kernel_event_counters_enabled": False, "libbpf_stats_enabled": False}
    specs = ["exec:4242:/usr/bin/curl:-s https://example.com/install.sh", "exit:4242:/usr/bin/curl:0",
             "kprobe:4243:/usr/bin/cat:/etc/shadow:10.0.0.7:443", "alert:4244:shell-in-container:warning"]
    fd = subprocess.Popen([feed, "--bus", bus, "--count", str(n), "--rate", str(per_s)] + specs,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    f = Falco(falco, cfg, work, "rate")
    try:
        assert wait_for(lambda: any(m.get("output_fields", m).get("plugins.vigil.events_delivered", 0) > 0
                                    for m in metrics_lines(metrics)) or fd.poll() is not None, 30)
        c0, t0 = cpu_s(f.p.pid), time.monotonic()
        feed_out = fd.communicate(timeout=600)[0].strip()
        last = {}

        def settled():
            nonlocal last
            cur = metrics_lines(metrics)[-1].get("output_fields", {})
            same = cur.get("plugins.vigil.events_delivered") == last.get("plugins.vigil.events_delivered")
            last = cur
            return same
        wait_for(settled, 20, step=1.5)
        c1, t1 = cpu_s(f.p.pid), time.monotonic()
    finally:
        f.stop()
    rates = [m.get("output_fields", {}).get("falco.evts_rate_sec", 0) for m in metrics_lines(metrics)]
    got = last.get("plugins.vigil.events_delivered", 0)
    print("rate: feed %s; Falco took %s of %d offered at %d/s: peak falco.evts_rate_sec %s, "
          "Falco CPU %.2f us per event" % (feed_out, got, n, per_s, max(rates or [0]),
                                          (c1 - c0) / max(got, 1) * 1e6))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--falco", required=True, help="the falco binary (0.39 or later, not MINIMAL_BUILD)")
    ap.add_argument("--build", default=vh.BUILD)
    ap.add_argument("--plugin", help="another libvigil_falco.so (default: the build's)")
    ap.add_argument("--execs", type=int, default=5000)
    ap.add_argument("--rate", type=int, default=0, help="also measure Falco's events/s with N events")
    ap.add_argument("--rate-per-s", type=int, default=400000, help="the pace of --rate's publisher")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("real_falco: needs root (vigild loads BPF programs)")
    build = os.path.abspath(args.build)
    vh.BUILD, vh.PROGS = build, os.path.join(build, "tests", "host")
    vh.VIGILD, vh.VIGIL = os.path.join(build, "core", "cli", "vigild"), os.path.join(build, "core", "cli", "vigil")
    plugin = os.path.abspath(args.plugin or os.path.join(build, "plugins", "falco", "libvigil_falco.so"))
    for p in (args.falco, plugin, vh.VIGILD, vh.VIGIL, os.path.join(vh.PROGS, "exec_burst")):
        if not os.path.exists(p):
            sys.exit("real_falco: %s not found" % p)
    print(subprocess.run([args.falco, "--version"], capture_output=True, text=True).stdout.strip())
    work = tempfile.mkdtemp(prefix="vigil-real-falco-")
    try:
        loads(args.falco, plugin, work, "as shipped")
        loads(args.falco, plugin, work, "event_types: []")
        gaps(args.falco, plugin, work, args.execs)
        if args.rate:
            rate(args.falco, plugin, build, work, args.rate, args.rate_per_s)
    finally:
        if check.failed:
            print("work files kept in %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("%d check(s) failed" % check.failed if check.failed else "all checks passed")
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
