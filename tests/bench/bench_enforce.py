#!/usr/bin/env python3
"""Enforcement latency: 1000 attempts each, from the offending syscall to the process's
death (Sigkill of an exec, block-cryptominers) or to the error (Override of a connect,
deny-outbound-cidr pointed at the loopback). Reports whether every attempt was stopped and
the latency distribution; baselines (the same attempt without a policy: an exec that runs,
a connect refused by the closed port) are measured in the same run.

usage: bench_enforce.py [--attempts 1000] [--build build]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "host"))
import vigilhost as vh  # noqa: E402

SOURCE = os.path.join(os.path.dirname(__file__), "..", "..")


def attempts(build, n, mode, target):
    """(latencies of the stopped attempts, latencies of the ones that passed)"""
    out = subprocess.run([os.path.join(build, "tests", "bench", "enforce_latency"), str(n), mode, target],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    stopped = [float(l.split()[1]) for l in out if l.startswith("stopped")]
    passed = [float(l.split()[1]) for l in out if l.startswith("passed")]
    return stopped, passed


def describe(name, lat, n):
    if not lat:
        print("%s: 0/%d" % (name, n))
        return
    q = statistics.quantiles(lat, n=100) if len(lat) > 1 else [lat[0]] * 99
    print("%s: %d/%d; latency us: min %.1f p50 %.1f p90 %.1f p99 %.1f max %.1f"
          % (name, len(lat), n, min(lat), q[49], q[89], q[98], max(lat)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--attempts", type=int, default=1000)
    ap.add_argument("--build", default=vh.BUILD)
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    vh.BUILD, vh.VIGILD, vh.VIGIL = (args.build, os.path.join(args.build, "core", "cli", "vigild"),
                                     os.path.join(args.build, "core", "cli", "vigil"))
    t = tempfile.mkdtemp(prefix="vigil-enf-bench-")
    miner = "/tmp/xmrig"
    shutil.copy(os.path.join(args.build, "tests", "bench", "tiny"), miner)
    policies = os.path.join(SOURCE, "rules", "policies")
    local = os.path.join(t, "deny-local.yaml")
    with open(os.path.join(policies, "deny-outbound-cidr.yaml")) as f:
        text = f.read().replace('"deny-outbound-cidr"', '"deny-outbound-local"')
    assert '["192.0.2.0/24", "198.51.100.0/24", "2001:db8::/32"]' in text, "the shipped deny list changed: update this copy"
    with open(local, "w") as f:
        f.write(text.replace('["192.0.2.0/24", "198.51.100.0/24", "2001:db8::/32"]',
                             '["127.0.0.2/32"]'))
    n = args.attempts
    tiny = os.path.join(args.build, "tests", "bench", "tiny")
    _, base_exec = attempts(args.build, n, "exec", tiny)
    _, base_connect = attempts(args.build, n, "connect", "127.0.0.2:9")
    with vh.Agent("--tracing-policy", os.path.join(policies, "block-cryptominers.yaml"), "--tracing-policy", local,
                  outputs=()):
        kill, kill_passed = attempts(args.build, n, "exec", miner)
        deny, deny_passed = attempts(args.build, n, "connect", "127.0.0.2:9")
    os.unlink(miner)
    shutil.rmtree(t, ignore_errors=True)
    print("enforcement latency, %d attempts each (Linux %s)" % (n, os.uname().release))
    describe("Sigkill at exec, stopped (fork+exec until reaped)", kill, n)
    describe("  same exec with no agent, ran to exit", base_exec, n)
    describe("Override of connect, stopped (the call, until EPERM)", deny, n)
    describe("  same connect with no agent, ECONNREFUSED", base_connect, n)
    if kill_passed or deny_passed:
        print("NOT STOPPED: %d execs, %d connects" % (len(kill_passed), len(deny_passed)))


if __name__ == "__main__":
    main()
