"""Host lane: vigild --default-policy-mode (the packaged unit passes monitor).

A Sigkill policy that names no mode kills under the default (enforce) and only reports,
with "monitored": true, under --default-policy-mode monitor; the same policy saying
`policy-mode: enforce` kills under either (per-policy mode wins, as in Tetragon);
`vigil tp add` without --mode takes the agent's default. A Lua rule's kill() under monitor
signals nothing and says why in its rule_action event. Each process is a private copy of
the marker program, so other agents on the machine cannot be confused with ours.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import vigilhost as vh  # noqa: E402

MARKER = os.path.join(vh.PROGS, "marker")


def kill_policy(name, binary, mode=None):
    return vh.exec_policy(name, binary, "action: Sigkill", mode)


@vh.require_root
class DefaultPolicyMode(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="vigil-mode-")
        os.chmod(self.tmp, 0o755)
        self.pdir = os.path.join(self.tmp, "policies")
        os.mkdir(self.pdir)
        # one binary per policy: "plain" names no mode, "explicit" says enforce, "added" is
        # loaded with vigil tp add at run time
        self.bins = {}
        for kind in ("plain", "explicit", "added", "victim"):
            self.bins[kind] = os.path.join(self.tmp, "mode-" + kind)
            shutil.copy(MARKER if kind != "victim" else shutil.which("sleep"), self.bins[kind])
            os.chmod(self.bins[kind], 0o755)
        self.write("plain.yaml", kill_policy("mode-plain", self.bins["plain"]))
        self.write("explicit.yaml", kill_policy("mode-explicit", self.bins["explicit"], "enforce"))
        self.added = os.path.join(self.tmp, "added.yaml")
        with open(self.added, "w") as f:
            f.write(kill_policy("mode-added", self.bins["added"]))
        self.rules = os.path.join(self.tmp, "rules")
        os.mkdir(self.rules)
        with open(os.path.join(self.rules, "kill_victim.lua"), "w") as f:
            f.write(vh.kill_rule("mode_kill_victim", "kill() of the victim", "victim %proc.pid",
                                 self.bins["victim"]))

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, name, text):
        with open(os.path.join(self.pdir, name), "w") as f:
            f.write(text)

    def session(self, *mode_args):
        """Run each binary under an agent started with mode_args: {kind: (rc, ran)}, events."""
        out = {}
        with vh.Agent("--tracing-policy-dir", self.pdir, "--rules-dir", self.rules, *mode_args) as agent:
            r = subprocess.run([vh.VIGIL, "tp", "add", self.added, "--control", agent.control],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            modes = {p["name"]: p["mode"] for p in agent.status()["policies"]}
            for kind in ("plain", "explicit", "added"):
                m = os.path.join(self.tmp, kind + ".ran")
                rc = subprocess.run([self.bins[kind], m]).returncode
                out[kind] = (rc, os.path.exists(m))
                if os.path.exists(m):
                    os.unlink(m)
            victim = subprocess.run([self.bins["victim"], "3"], timeout=30)
            out["victim"] = victim.returncode
            events = agent.events("json", settle=1.0)
        return out, modes, events

    def test_default_enforce_kills_every_policy_and_lua_kill_signals(self):
        out, modes, _ = self.session()
        self.assertEqual(modes["mode-plain"], "enforce")
        self.assertEqual(modes["mode-added"], "enforce")
        for kind in ("plain", "explicit", "added"):
            self.assertEqual(out[kind], (-9, False), kind)
        self.assertEqual(out["victim"], -9)

    def test_monitor_default_reports_but_explicit_enforce_still_kills(self):
        out, modes, events = self.session("--default-policy-mode", "monitor")
        self.assertEqual((modes["mode-plain"], modes["mode-added"], modes["mode-explicit"]),
                         ("monitor", "monitor", "enforce"))
        self.assertEqual(out["plain"], (0, True))
        self.assertEqual(out["added"], (0, True))
        self.assertEqual(out["explicit"], (-9, False))
        self.assertEqual(out["victim"], 0, "a Lua kill() signalled under monitor")
        would = [e for e in vh.of_type(events, "process_tracepoint")
                 if e.get("policy_name") in ("mode-plain", "mode-added")]
        self.assertEqual(sorted(e["policy_name"] for e in would), ["mode-added", "mode-plain"])
        for e in would:
            self.assertTrue(e.get("monitored"), e)
            self.assertEqual(e.get("action"), "KPROBE_ACTION_SIGKILL", e)
        acts = [e for e in vh.of_type(events, "rule_action") if e.get("rule") == "mode_kill_victim"]
        self.assertEqual(len(acts), 1, acts)
        self.assertIn("monitor mode", acts[0].get("reason", ""))

    def test_bad_value_is_refused_with_usage(self):
        r = subprocess.run([vh.VIGILD, "--default-policy-mode", "observe"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("invalid value for --default-policy-mode: 'observe'", r.stderr)


if __name__ == "__main__":
    vh.main()
