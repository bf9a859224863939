"""Host lane: policies change without a restart.

One agent watches a policy directory (--tracing-policy-dir) and a rules directory. Each step
changes the directory the way people do, then triggers the policy with real opens and asserts
on the events a subscriber received:

- a file dropped in takes effect in under a second; a changed file replaces its policy, with
  no event lost while the two versions swap; an invalid change is refused (a policy_status
  event and `vigil status` name the file, line and column) while the old version keeps
  working; a removed file's policy stops;
- a Kubernetes ConfigMap update, done the kubelet's way (a new ..<timestamp> directory, a
  ..data_tmp symlink renamed over ..data, the old directory removed);
- SIGHUP retries a refused file, and a Lua rule dropped into the rules directory loads;
- a real unprivileged user cannot aim the agent: once the directory is writable by others the
  agent stops reading it, and a file that user owns is refused.
"""
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import vigilhost as vh  # noqa: E402

OPENER = os.path.join(vh.PROGS, "opener")


def sanitized_build():
    try:
        with open(os.path.join(vh.BUILD, "CMakeCache.txt")) as f:
            return "VIGIL_SANITIZE:BOOL=ON" in f.read()
    except OSError:
        return False


# A file dropped in takes effect within this: a look every 250 ms, one 50 ms later, then the
# policy's load (~0.4 s in all on a quiet machine), with room for a loaded CI machine. An
# ASan/UBSan agent compiles and loads a policy several times slower.
EFFECT_S = 3.0 if sanitized_build() else 2.0


def policy(name, prefixes):
    values = ", ".join('"%s"' % p for p in prefixes)
    return textwrap.dedent("""\
        apiVersion: cilium.io/v1alpha1
        kind: TracingPolicy
        metadata:
          name: "%s"
        spec:
          tracepoints:
          - subsystem: "syscalls"
            event: "sys_enter_openat"
            args:
            - index: 6
              type: "string"
            selectors:
            - matchArgs:
              - index: 6
                operator: "Prefix"
                values: [%s]
              matchBinaries:
              - operator: "In"
                values: ["%s"]
        """) % (name, values, OPENER)


BROKEN = textwrap.dedent("""\
    apiVersion: cilium.io/v1alpha1
    kind: TracingPolicy
    metadata:
      name: "reload-a"
    spec:
      tracepoints:
      - subsystem: "syscalls"
        event: "sys_enter_openat"
        args:
        - index: 6
          type: "string"
        selectors:
        - matchArgs:
          - index: 6
            operator: "Nonsense"
            values: ["/x"]
    """)
BROKEN_LINE, BROKEN_COL = 15, 19    # the operator's value

RULE = textwrap.dedent("""\
    return {
      name = "reload_probe_rule",
      desc = "loaded by the rules directory's watch",
      priority = "notice",
      output = "seen %proc.pid",
      events = { "process_exec" },
      on_event = function(ev) end,
    }
    """)


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


@vh.require_root
class PolicyReload(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-reload-")
        os.chmod(cls.tmp, 0o755)
        cls.pol = os.path.join(cls.tmp, "policies")
        cls.rules = os.path.join(cls.tmp, "rules")
        cls.tgt = os.path.join(cls.tmp, "t")
        for d in (cls.pol, cls.rules, cls.tgt):
            os.mkdir(d, 0o755)
        cls.user = "vgrld%d" % (os.getpid() % 100000)
        subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/sh", cls.user], check=True)
        pw = pwd.getpwnam(cls.user)
        cls.uid, cls.gid = pw.pw_uid, pw.pw_gid
        cls.agent = vh.Agent("--tracing-policy-dir", cls.pol, "--rules-dir", cls.rules)
        cls.agent.__enter__()
        cls.seq = 0

    @classmethod
    def tearDownClass(cls):
        cls.agent.__exit__(None, None, None)
        subprocess.run(["userdel", cls.user], check=False)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # ---- helpers ----

    def events(self):
        """Every event the subscriber has received so far (it keeps running)."""
        _, f, path = self.agent.subs["json"]
        f.flush()
        out = []
        with open(path) as fh:
            for line in fh:
                if line.endswith("\n") and line.strip():
                    out.append(json.loads(line))
        return out

    def opened(self, policy):
        return [e["process_tracepoint"]["args"][0]["string_arg"] for e in self.events()
                if "process_tracepoint" in e and e["process_tracepoint"]["policy_name"] == policy]

    def statuses(self, state=None):
        return [e["policy_status"] for e in self.events()
                if "policy_status" in e and (state is None or e["policy_status"]["state"] == state)]

    def path(self, sub):
        PolicyReload.seq += 1
        d = os.path.join(self.tgt, sub)
        os.makedirs(d, exist_ok=True)
        return os.path.join(d, "f%d" % self.seq)

    def open_until_seen(self, policy, sub, timeout=10.0):
        """Open fresh paths under sub until policy reports one; the seconds it took."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            p = self.path(sub)
            subprocess.run([OPENER, p], check=True)
            time.sleep(0.05)
            if p in self.opened(policy):
                return time.monotonic() - t0
        self.fail("%s never reported an open under %s within %.1f s\n%s" %
                  (policy, sub, timeout, self.agent.read_log()[-3000:]))

    def assert_not_seen(self, policy, sub):
        p = self.path(sub)
        subprocess.run([OPENER, p], check=True)
        time.sleep(0.6)
        self.assertNotIn(p, self.opened(policy))

    def wait_status(self, state, pred=lambda s: True, timeout=3.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = [s for s in self.statuses(state) if pred(s)]
            if got:
                return got[-1]
            time.sleep(0.05)
        self.fail("no policy_status %s event; got %s\n%s" % (state, self.statuses(), self.agent.read_log()[-3000:]))

    def loaded_names(self):
        return {p["name"] for p in self.agent.status()["policies"]}

    def as_user(self, script):
        subprocess.run(["setpriv", "--reuid", str(self.uid), "--regid", str(self.gid), "--clear-groups",
                        "sh", "-c", script], check=False, capture_output=True)

    # ---- the steps, in order ----

    def test_1_drop_change_refuse_remove(self):
        a = os.path.join(self.pol, "a.yaml")
        # dropped in: effective in under a second
        t0 = time.monotonic()
        write(a, policy("reload-a", [self.tgt + "/both/", self.tgt + "/v1/"]))
        self.open_until_seen("reload-a", "v1")
        took = time.monotonic() - t0
        self.assertLess(took, EFFECT_S, "a new policy file took %.2f s" % took)
        self.wait_status("loaded", lambda s: s["policy"] == "reload-a")

        # changed while opens run: every open under both/ reported by one version or the
        # other (the new hooks attach before the old ones detach)
        paths = []
        t0 = time.monotonic()
        changed = False
        while time.monotonic() - t0 < 1.6:
            batch = [self.path("both") for _ in range(4)]
            subprocess.run([OPENER] + batch, check=True)
            paths += batch
            if not changed and time.monotonic() - t0 > 0.3:
                write(a, policy("reload-a", [self.tgt + "/both/", self.tgt + "/v2/"]))
                changed = True
            time.sleep(0.01)
        self.wait_status("replaced", lambda s: s["policy"] == "reload-a")
        self.open_until_seen("reload-a", "v2")
        time.sleep(0.3)
        seen = set(self.opened("reload-a"))
        lost = [p for p in paths if p not in seen]
        self.assertEqual(lost, [], "%d of %d opens during the replace were not reported" % (len(lost), len(paths)))
        self.assert_not_seen("reload-a", "v1")

        # an invalid change: refused with file:line:column, the old version keeps working
        write(a, BROKEN)
        st = self.wait_status("refused", lambda s: s["policy"] == "reload-a")
        self.assertIn("a.yaml:%d:%d:" % (BROKEN_LINE, BROKEN_COL), st["reason"])
        self.open_until_seen("reload-a", "v2")
        refused = self.agent.status()["policy_dir"]["refused"]
        self.assertEqual([r["file"] for r in refused], ["a.yaml"])
        self.assertEqual(refused[0]["running"], "reload-a")
        self.assertIn("a.yaml:%d:%d:" % (BROKEN_LINE, BROKEN_COL), refused[0]["reason"])
        tp = subprocess.run([vh.VIGIL, "tracingpolicy", "list", "--control", self.agent.control],
                            capture_output=True, text=True, check=True).stdout
        self.assertIn("a.yaml refused:", tp)
        self.assertIn("still running: reload-a", tp)

        # removed: unloaded, no more events
        os.unlink(a)
        self.wait_status("unloaded", lambda s: s["policy"] == "reload-a")
        self.assertNotIn("reload-a", self.loaded_names())
        self.assert_not_seen("reload-a", "v2")
        self.assertEqual(self.agent.status()["policy_dir"]["refused"], [])

    def test_2_configmap_swap(self):
        """The kubelet's atomic writer, step by step, in a volume as a pod sees it: a 0777
        directory (kubelet's ConfigMap volumes are) mounted read-only where the agent reads."""
        src = os.path.join(self.tmp, "configmap-volume")
        seen = os.path.join(self.tmp, "configmap-mount")
        os.mkdir(src)
        os.chmod(src, 0o777)
        os.mkdir(seen, 0o755)
        subprocess.run(["mount", "--bind", src, seen], check=True)
        try:
            subprocess.run(["mount", "-o", "remount,bind,ro", seen], check=True)
            self._configmap_swap(src, seen)
        finally:
            subprocess.run(["umount", "-l", seen], check=False)

    def _configmap_swap(self, src, seen):
        def ts_dir(n):
            d = os.path.join(src, "..2026_12_06_10_00_0%d.00000000%d" % (n, n))
            os.mkdir(d, 0o755)
            return d

        old = ts_dir(1)
        write(os.path.join(old, "cm.yaml"), policy("reload-cm", [self.tgt + "/cm1/"]))
        os.symlink(os.path.basename(old), os.path.join(src, "..data"))
        os.symlink("..data/cm.yaml", os.path.join(src, "cm.yaml"))
        with vh.Agent("--tracing-policy-dir", seen) as agent:
            main, PolicyReload.agent = PolicyReload.agent, agent
            try:
                self.assertTrue(agent.status()["policy_dir"]["watching"], agent.status()["policy_dir"])
                self.open_until_seen("reload-cm", "cm1")

                # the update: new timestamped directory, ..data_tmp renamed over ..data,
                # the old directory removed
                new = ts_dir(2)
                write(os.path.join(new, "cm.yaml"), policy("reload-cm", [self.tgt + "/cm2/"]))
                tmp_link = os.path.join(src, "..data_tmp")
                os.symlink(os.path.basename(new), tmp_link)
                os.rename(tmp_link, os.path.join(src, "..data"))
                shutil.rmtree(old)
                self.open_until_seen("reload-cm", "cm2")
                self.wait_status("replaced", lambda s: s["policy"] == "reload-cm")
                self.assert_not_seen("reload-cm", "cm1")
                self.assertEqual(agent.status()["policy_dir"]["refused"], [])

                # the key removed from the ConfigMap: its symlink goes
                os.unlink(os.path.join(src, "cm.yaml"))
                self.wait_status("unloaded", lambda s: s["policy"] == "reload-cm")
                self.assert_not_seen("reload-cm", "cm2")
            finally:
                PolicyReload.agent = main

    def test_3_sighup_and_rules(self):
        # a file refused because its name is taken (over the control socket); the name freed,
        # SIGHUP retries the unchanged file, which the watch alone would never do
        taken = os.path.join(self.tmp, "taken.yaml")
        write(taken, policy("reload-hup", [self.tgt + "/hup-ctl/"]))
        subprocess.run([vh.VIGIL, "tracingpolicy", "add", taken, "--control", self.agent.control],
                       check=True, capture_output=True)
        write(os.path.join(self.pol, "hup.yaml"), policy("reload-hup", [self.tgt + "/hup/"]))
        st = self.wait_status("refused", lambda s: s["file"].endswith("hup.yaml"))
        self.assertIn("already loaded", st["reason"])
        subprocess.run([vh.VIGIL, "tracingpolicy", "delete", "reload-hup", "--control", self.agent.control],
                       check=True, capture_output=True)
        time.sleep(0.3)
        self.assertNotIn("reload-hup", self.loaded_names())
        self.agent.proc.send_signal(signal.SIGHUP)
        self.open_until_seen("reload-hup", "hup")
        self.assertIsNone(self.agent.proc.poll(), "SIGHUP stopped the agent")
        os.unlink(os.path.join(self.pol, "hup.yaml"))
        self.wait_status("unloaded", lambda s: s["policy"] == "reload-hup")

        # a Lua rule dropped into the rules directory loads without a restart
        write(os.path.join(self.rules, "probe.lua"), RULE)
        deadline = time.monotonic() + 2
        names = []
        while time.monotonic() < deadline:
            r = subprocess.run([vh.VIGIL, "rules", "list", "-o", "json", "--control", self.agent.control],
                               capture_output=True, text=True, check=True)
            out = json.loads(r.stdout)
            names = [x["name"] for x in (out["rules"] if isinstance(out, dict) else out)]
            if "reload_probe_rule" in names:
                break
            time.sleep(0.1)
        self.assertIn("reload_probe_rule", names)

        # a broken change to it: refused as a rule_status event, the rule keeps running
        write(os.path.join(self.rules, "probe.lua"), "return {\n  name = \n")
        deadline = time.monotonic() + 3
        refused = []
        while time.monotonic() < deadline and not refused:
            refused = [e["rule_status"] for e in self.events() if "rule_status" in e
                       and e["rule_status"]["state"] == "refused" and e["rule_status"]["file"].endswith("probe.lua")]
            time.sleep(0.1)
        self.assertTrue(refused, "no rule_status refused event")
        self.assertIn("probe.lua:", refused[0]["reason"])
        r = subprocess.run([vh.VIGIL, "rules", "list", "-o", "json", "--control", self.agent.control],
                           capture_output=True, text=True, check=True)
        out = json.loads(r.stdout)
        rules = {x["name"]: x for x in (out["rules"] if isinstance(out, dict) else out)}
        self.assertEqual(rules["reload_probe_rule"]["state"], "enabled")

    def test_4_unprivileged_user_cannot_aim_it(self):
        # the directory made writable by everyone: the agent stops reading it, says why
        os.chmod(self.pol, 0o777)
        st = self.wait_status("refused", lambda s: "writable by others" in s.get("reason", ""))
        self.assertEqual(st["file"], self.pol)
        pd = self.agent.status()["policy_dir"]
        self.assertFalse(pd["watching"])
        self.assertIn("writable by others", pd["reason"])
        # the user drops a policy of its own: never loaded
        evil = os.path.join(self.pol, "evil.yaml")
        self.as_user("cat > %s <<'EOF'\n%sEOF\n" % (evil, policy("reload-evil", [self.tgt + "/evil/"])))
        self.assertTrue(os.path.exists(evil), "the user could not write into the 0777 directory")
        self.assertEqual(os.stat(evil).st_uid, self.uid)
        self.agent.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        self.assertNotIn("reload-evil", self.loaded_names())
        self.assert_not_seen("reload-evil", "evil")

        # the directory fixed, the user's file still there: refused as the user's
        os.chmod(self.pol, 0o755)
        st = self.wait_status("refused", lambda s: s["file"].endswith("evil.yaml"))
        self.assertIn("owned by uid %d" % self.uid, st["reason"])
        self.assertNotIn("reload-evil", self.loaded_names())
        self.assertTrue(self.agent.status()["policy_dir"]["watching"])
        os.unlink(evil)

    def test_5_untrusted_directory_at_start(self):
        # a directory the user owns is never read, and the agent says why
        own = os.path.join(self.tmp, "user-policies")
        os.mkdir(own, 0o755)
        os.chown(own, self.uid, self.gid)
        self.as_user("cat > %s/u.yaml <<'EOF'\n%sEOF\n" % (own, policy("reload-user", [self.tgt + "/u/"])))
        with vh.Agent("--tracing-policy-dir", own) as agent:
            pd = agent.status()["policy_dir"]
            self.assertFalse(pd["watching"])
            self.assertIn("owned by uid %d" % self.uid, pd["reason"])
            self.assertNotIn("reload-user", {p["name"] for p in agent.status()["policies"]})

    def rules_now(self):
        r = subprocess.run([vh.VIGIL, "rules", "list", "-o", "json", "--control", self.agent.control],
                           capture_output=True, text=True, check=True)
        out = json.loads(r.stdout)
        return {x["name"]: x for x in (out["rules"] if isinstance(out, dict) else out)}

    def wait_rule_refused(self, pred, timeout=3.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = [e["rule_status"] for e in self.events() if "rule_status" in e
                   and e["rule_status"]["state"] == "refused" and pred(e["rule_status"])]
            if got:
                return got[-1]
            time.sleep(0.05)
        self.fail("no rule_status refused event\n%s" % self.agent.read_log()[-3000:])

    def test_6_unprivileged_user_cannot_add_rules(self):
        # a Lua rule can kill and deny: the rules directory is trusted as the policy one is
        evil_rule = RULE.replace("reload_probe_rule", "reload_evil_rule")
        os.chmod(self.rules, 0o777)
        st = self.wait_rule_refused(lambda s: "writable by others" in s["reason"])
        self.assertEqual(st["file"], self.rules)
        evil = os.path.join(self.rules, "evil.lua")
        self.as_user("cat > %s <<'EOF'\n%sEOF\n" % (evil, evil_rule))
        self.assertEqual(os.stat(evil).st_uid, self.uid)
        r = subprocess.run([vh.VIGIL, "rules", "reload", "--control", self.agent.control],
                           capture_output=True, text=True)
        self.assertIn("writable by others", r.stdout + r.stderr)
        rules = self.rules_now()
        self.assertNotIn("reload_evil_rule", rules)
        self.assertEqual(rules["reload_probe_rule"]["state"], "enabled", "a chmod switched a rule off")

        # the directory fixed: the user's file refused as the user's
        os.chmod(self.rules, 0o755)
        st = self.wait_rule_refused(lambda s: s["file"].endswith("evil.lua"))
        self.assertIn("owned by uid %d" % self.uid, st["reason"])
        os.unlink(evil)
        # root's own file that anyone may write
        write(os.path.join(self.rules, "open.lua"), evil_rule, mode=0o666)
        st = self.wait_rule_refused(lambda s: s["file"].endswith("open.lua"))
        self.assertIn("writable by others", st["reason"])
        self.assertNotIn("reload_evil_rule", self.rules_now())
        os.unlink(os.path.join(self.rules, "open.lua"))

    def test_9_agent_stops_cleanly(self):
        # after every reload above (under ASan: no leak, no error at exit)
        rc = self.agent.stop()
        log = self.agent.read_log()
        self.assertEqual(rc, 0, log[-3000:])
        self.assertNotIn("Sanitizer", log)


if __name__ == "__main__":
    unittest.main(verbosity=2)
