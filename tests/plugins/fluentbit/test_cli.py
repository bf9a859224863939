"""Plugin lane: vigil-forward's command line. Every value is validated (range, units,
trailing junk, URL forms, tag templates, options that constrain each other) and refused
with the reason and the usage (exit 2); a valid command line starts, writes its stats and
stops cleanly on SIGTERM with neither agent nor peer present; a spool directory serves one
forwarder at a time. Needs neither root nor node.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flbtest as ft  # noqa: E402

TO = ["--to", "unix:///run/fluent.sock"]


def run(*args):
    return subprocess.run([ft.FORWARD] + list(args), capture_output=True, text=True, timeout=30)


class CommandLine(unittest.TestCase):
    def refused(self, args, reason):
        r = run(*args)
        self.assertEqual(r.returncode, 2, "%s: %s" % (args, r.stderr))
        self.assertIn(reason, r.stderr, args)
        self.assertIn("usage: vigil-forward", r.stderr, args)

    def test_to_is_required(self):
        self.refused([], "--to is required")

    def test_bad_peer_urls_are_refused(self):
        for url in ("foo://x", "unix://relative/path", "unix://", "tcp://host", "tcp://host:0", "tcp://host:65536",
                    "tcp://host:24224x", "tcp://::1:24224", "tcp://:24224", "tcp://host: 1", "unix:///" + "a" * 120):
            self.refused(["--to", url], "--to must be")

    def test_numbers_are_checked_for_range_and_trailing_junk(self):
        for opt, val in (("--batch-count", "0"), ("--batch-count", "65536"), ("--batch-count", "10x"),
                         ("--batch-count", ""), ("--flush-ms", "-5"), ("--max-inflight", "1e3"),
                         ("--ack-timeout-ms", "99")):
            self.refused(TO + [opt, val], "invalid %s '%s': expected an integer" % (opt, val))

    def test_sizes_take_k_m_g_suffixes_within_range(self):
        for opt, val in (("--mem-limit", "1T"), ("--mem-limit", "3K"), ("--mem-limit", "16Q"),
                         ("--mem-limit", "-1M"), ("--spool-max", "M"), ("--batch-bytes", " 64K")):
            self.refused(TO + [opt, val], "invalid %s '%s': expected a size" % (opt, val))

    def test_choices_are_checked(self):
        self.refused(TO + ["--compress", "zstd"], "expected none|gzip")
        self.refused(TO + ["--ack", "yes"], "expected on|off")

    def test_tag_templates_are_checked(self):
        for tag in ("vigil events", "vigil.{pid}", "vigil.{event_type", "x" * 300):
            self.refused(TO + ["--tag", tag], "--tag:")

    def test_options_that_constrain_each_other(self):
        self.refused(TO + ["--retry-min-ms", "500", "--retry-max-ms", "100"], "--retry-min-ms must not exceed")
        self.refused(TO + ["--mem-limit", "8K", "--batch-bytes", "16K"], "--mem-limit must hold")
        self.refused(TO + ["--spool-dir", "/tmp/x", "--spool-max", "8K", "--batch-bytes", "16K"],
                     "--spool-max must hold")

    def test_stray_arguments_are_refused(self):
        self.refused(TO + ["extra"], "unexpected argument 'extra'")
        r = run("--no-such-option")
        self.assertEqual(r.returncode, 2)

    def test_help_and_version_exit_zero(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("--spool-max SIZE", r.stdout)
        r = run("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^vigil-forward \d+\.\d+\.\d+")

    def start(self, d, *extra):
        stats = os.path.join(d, "stats.json")
        p = subprocess.Popen([ft.FORWARD, "--bus", "ipc://" + os.path.join(d, "nobus.sock"), "--to",
                              "tcp://[::1]:9", "--stats-file", stats, "--stats-ms", "100", "--drain-ms", "0"]
                             + list(extra), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        ft.wait_until(lambda: p.poll() is not None or os.path.exists(stats), 10, what="stats file")
        return p, stats

    def test_valid_command_line_runs_and_stops_on_sigterm(self):
        with tempfile.TemporaryDirectory() as d:
            p, stats = self.start(d, "--mem-limit", "1G", "--batch-bytes", "1M", "--compress", "gzip",
                                  "--tag", "a.{node_name}.{event_type}", "--spool-dir", os.path.join(d, "spool"))
            time.sleep(0.5)
            self.assertIsNone(p.poll(), p.stdout.read() if p.poll() is not None else "")
            p.send_signal(signal.SIGTERM)
            out, _ = p.communicate(timeout=10)
            self.assertEqual(p.returncode, 0, out)
            with open(stats) as f:
                st = json.load(f)
            self.assertGreater(st["connect_failures"], 0)      # nothing listens on [::1]:9
            self.assertEqual(st["events_in"], 0)

    def test_a_spool_directory_serves_one_forwarder_at_a_time(self):
        with tempfile.TemporaryDirectory() as d:
            spool = os.path.join(d, "spool")
            p, _ = self.start(d, "--spool-dir", spool)
            try:
                r = run("--to", "tcp://127.0.0.1:9", "--bus", "ipc://" + os.path.join(d, "nobus.sock"),
                        "--spool-dir", spool)
                self.assertEqual(r.returncode, 1)
                self.assertIn("another vigil-forward holds it", r.stderr)
            finally:
                p.send_signal(signal.SIGTERM)
                p.communicate(timeout=10)


if __name__ == "__main__":
    ft.vh.main()
