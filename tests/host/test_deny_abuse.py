"""Host lane: an unprivileged user tries to aim vigil's deny loop at the host.

The shipped cryptominer rule kills a miner-like process that holds a pool connection and
denies the file it ran. A normal account controls a process's arguments, so it can make
/usr/bin/curl or /usr/bin/bash look like a miner. Here a real unprivileged user (created for
the test) does exactly that, and also runs a miner of its own. What must hold:

- the user's curl and bash are killed (they are its own processes), but their binaries are
  NOT denied: the agent refuses, with a rule_action event saying why, and root still runs
  them afterwards;
- the user's own miner file IS denied, by identity: the same file under another name (a
  hard link) dies at exec, a new file written at the same path does not;
- every entry names the rule, the evidence, the user and the expiry; the operator lists and
  removes it (`vigil tracingpolicy list-values / remove-value`), and entries expire (TTL).
"""
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import vigilhost as vh  # noqa: E402
from test_lua_rules import Listener, read_events, wait_for  # noqa: E402

SOURCE = os.environ.get("VIGIL_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
POLICIES = [os.path.join(SOURCE, "rules", "policies", p) for p in ("lua-network.yaml", "lua-deny-exec.yaml")]
MINER_RULE = os.path.join(SOURCE, "rules", "lua", "cryptominer.lua")
MINER = os.path.join(vh.PROGS, "lua_miner")
CURL = shutil.which("curl") or "/usr/bin/curl"
BASH = shutil.which("bash") or "/usr/bin/bash"
LIST = "lua-denied-binaries"
HOLD = 10   # cryptominer.lua's HOLD


def realpath(p):
    return os.path.realpath(p)


@vh.require_root
class DenyAbuse(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.user = "vgatk%d" % (os.getpid() % 100000)
        subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/sh", cls.user], check=True)
        pw = pwd.getpwnam(cls.user)
        cls.uid, cls.gid = pw.pw_uid, pw.pw_gid
        cls.tmp = tempfile.mkdtemp(prefix="vigil-deny-")
        os.chmod(cls.tmp, 0o755)
        cls.rules = os.path.join(cls.tmp, "rules")
        os.mkdir(cls.rules)
        shutil.copy(MINER_RULE, cls.rules)
        # the user's own directory, where it writes its miner
        cls.home = os.path.join(cls.tmp, "home")
        os.mkdir(cls.home)
        os.chown(cls.home, cls.uid, cls.gid)
        cls.r = {}
        args = ["--rules-dir", cls.rules]
        for p in POLICIES:
            args += ["--tracing-policy", p]
        try:
            with vh.Agent(*args) as agent:
                cls.agent = agent
                cls.run_attacks()
                cls.events = agent.events("json")
                cls.agent_rc = agent.stop()
        finally:
            subprocess.run(["pkill", "-KILL", "-u", cls.user], capture_output=True)
            subprocess.run(["userdel", cls.user], capture_output=True)
            shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def as_user(cls, argv, **kw):
        return ["setpriv", "--reuid", str(cls.uid), "--regid", str(cls.gid), "--clear-groups", "--"] + argv

    @classmethod
    def cli(cls, *args):
        return subprocess.run([vh.VIGIL, "tracingpolicy", *args, "--control", cls.agent.control],
                              capture_output=True, text=True)

    @classmethod
    def run_attacks(cls):
        r, lis = cls.r, Listener()   # accepts and never answers: every client holds on
        try:
            # the user's own miner, written by the user
            r["miner"] = os.path.join(cls.home, "xmrig")
            subprocess.run(cls.as_user(["cp", MINER, r["miner"]]), check=True)
            url = "http://127.0.0.1:%d/randomx" % lis.port
            t0 = time.time()
            curl = subprocess.Popen(cls.as_user([CURL, "-s", "--max-time", "60", url]))
            bash = subprocess.Popen(cls.as_user([BASH, "-c", ": randomx; exec 3<>/dev/tcp/127.0.0.1/%d; sleep 60; true"
                                                 % lis.port]))
            miner = subprocess.Popen(cls.as_user([r["miner"], "127.0.0.1", str(lis.port), "60",
                                                  "-o", "stratum+tcp://pool.example:3333"]))
            r["curl_rc"], r["bash_rc"], r["miner_rc"] = curl.wait(60), bash.wait(60), miner.wait(60)
            r["secs"] = time.time() - t0
            wait_for(cls.agent, lambda e: "process_alert" in e and r["miner"] in e["process_alert"]["output"])
            time.sleep(0.3)

            # the system binaries still run, for root and for the user
            r["root_curl"] = subprocess.run([CURL, "--version"], capture_output=True).returncode
            r["root_bash"] = subprocess.run([BASH, "-c", "exit 5"]).returncode
            r["user_bash"] = subprocess.run(cls.as_user([BASH, "-c", "exit 6"])).returncode

            # the user's miner file is denied by identity, whatever its name
            r["again"] = subprocess.run(cls.as_user([r["miner"], "127.0.0.1", str(lis.port), "0"])).returncode
            r["link"] = os.path.join(cls.home, "innocent-name")
            subprocess.run(cls.as_user(["ln", r["miner"], r["link"]]), check=True)
            r["link_rc"] = subprocess.run(cls.as_user([r["link"], "127.0.0.1", str(lis.port), "0"])).returncode
            r["root_again"] = subprocess.run([r["miner"], "127.0.0.1", str(lis.port), "0"]).returncode
            r["values"] = cls.cli("list-values", LIST, "-o", "json")
            r["values_text"] = cls.cli("list-values", LIST)

            # a new file at the same path is another file: not denied
            subprocess.run(cls.as_user(["rm", "-f", r["miner"]]), check=True)
            subprocess.run(cls.as_user(["cp", MINER, r["miner"]]), check=True)
            r["new_file"] = subprocess.run(cls.as_user([r["miner"], "127.0.0.1", str(lis.port), "0"])).returncode

            # the operator removes the entry (by path): the hard link, the old file, runs again
            r["remove"] = cls.cli("remove-value", LIST, r["miner"])
            r["after_remove"] = subprocess.run(cls.as_user([r["link"], "127.0.0.1", str(lis.port), "0"])).returncode
            r["remove_again"] = cls.cli("remove-value", LIST, r["miner"])

            # the operator adds a file with a 2 s time to live: denied, then not
            r["ttl_file"] = os.path.join(cls.home, "short-lived")
            subprocess.run(cls.as_user(["cp", MINER, r["ttl_file"]]), check=True)
            r["add"] = cls.cli("add-value", LIST, r["ttl_file"], "--ttl", "2")
            r["ttl_denied"] = subprocess.run(cls.as_user([r["ttl_file"], "127.0.0.1", str(lis.port), "0"])).returncode
            time.sleep(3.5)   # the agent sweeps expired entries each second
            r["ttl_expired"] = subprocess.run(cls.as_user([r["ttl_file"], "127.0.0.1", str(lis.port), "0"])).returncode
            r["add_missing"] = cls.cli("add-value", LIST, os.path.join(cls.home, "no-such-file"))
            wait_for(cls.agent, lambda e: e.get("rule_action", {}).get("action") == "expire")
        finally:
            lis.close()

    # ---- helpers ----

    def actions(self, pred=lambda a: True):
        return [e["rule_action"] for e in self.events if "rule_action" in e and pred(e["rule_action"])]

    def denies(self, binary):
        return self.actions(lambda a: a["action"] == "deny" and a.get("value") == binary)

    # ---- the attack with system binaries ----

    def test_users_curl_and_bash_are_killed_as_its_own_processes(self):
        self.assertEqual(self.r["curl_rc"], -9)
        self.assertEqual(self.r["bash_rc"], -9)
        self.assertGreaterEqual(self.r["secs"], HOLD - 0.5)

    def test_system_binaries_are_not_denied_and_the_refusal_says_why(self):
        for binary in (realpath(CURL), realpath(BASH)):
            d = self.denies(binary)
            self.assertEqual(len(d), 1, self.actions())
            self.assertEqual(d[0]["error"], "Operation not permitted")
            self.assertIn("root-owned file in a system directory", d[0]["reason"])
            self.assertNotIn("maps_updated", d[0])
            self.assertNotIn("expires", d[0])
            self.assertEqual(d[0]["cause_uid"], self.uid)
            self.assertEqual(d[0]["evidence"]["type"], "process_tracepoint")
            self.assertEqual(d[0]["process"]["uid"], self.uid)

    def test_system_binaries_still_run_for_root_and_the_user(self):
        self.assertEqual(self.r["root_curl"], 0)
        self.assertEqual(self.r["root_bash"], 5)
        self.assertEqual(self.r["user_bash"], 6)
        kills = [e["process_tracepoint"] for e in self.events if "process_tracepoint" in e
                 and e["process_tracepoint"].get("policy_name") == "lua-deny-exec"
                 and e["process_tracepoint"]["process"]["binary"] in (realpath(CURL), realpath(BASH))]
        self.assertEqual(kills, [])

    # ---- the user's own miner ----

    def test_users_own_miner_is_denied_by_identity(self):
        self.assertEqual(self.r["miner_rc"], -9)
        d = self.denies(self.r["miner"])
        self.assertEqual(len(d), 1, self.actions())
        self.assertNotIn("error", d[0])
        self.assertEqual(d[0]["maps_updated"], 1)
        st_ino = d[0]["file"]["inode"]
        self.assertGreater(st_ino, 0)
        self.assertEqual(d[0]["file"]["uid"], self.uid)
        self.assertEqual(d[0]["cause_uid"], self.uid)
        self.assertEqual(d[0]["rule"], "cryptominer")
        self.assertEqual(d[0]["evidence"]["type"], "process_tracepoint")
        self.assertIn("time", d[0]["evidence"])
        self.assertIn("expires", d[0])
        self.assertEqual(d[0]["exec_ids"][0], d[0]["process"]["exec_id"])

    def test_denied_file_dies_at_exec_under_any_name_and_for_anyone(self):
        self.assertEqual(self.r["again"], -9)
        self.assertEqual(self.r["link_rc"], -9)
        self.assertEqual(self.r["root_again"], -9)

    def test_a_new_file_at_the_denied_path_is_not_hit(self):
        self.assertEqual(self.r["new_file"], 0)

    def test_list_values_names_rule_user_evidence_and_expiry(self):
        self.assertEqual(self.r["values"].returncode, 0, self.r["values"].stderr)
        values = json.loads(self.r["values"].stdout)
        mine = [v for v in values if v["value"] == self.r["miner"]]
        self.assertEqual(len(mine), 1, values)
        v = mine[0]
        self.assertEqual(v["by"], "cryptominer")
        self.assertEqual(v["cause_uid"], self.uid)
        self.assertEqual(v["owner_uid"], self.uid)
        self.assertEqual(v["inode"], self.denies(self.r["miner"])[0]["file"]["inode"])
        self.assertIn("evidence_exec_id", v)
        self.assertIn("expires", v)
        self.assertIn(self.r["miner"], self.r["values_text"].stdout)
        self.assertIn("cryptominer", self.r["values_text"].stdout)

    def test_operator_removes_an_entry_and_the_file_runs_again(self):
        self.assertEqual(self.r["remove"].returncode, 0, self.r["remove"].stderr)
        self.assertEqual(self.r["after_remove"], 0)
        self.assertNotEqual(self.r["remove_again"].returncode, 0)
        self.assertIn("holds no value", self.r["remove_again"].stderr)
        removed = self.actions(lambda a: a["action"] == "remove_value" and a.get("value") == self.r["miner"])
        self.assertEqual(len(removed), 1)
        self.assertEqual(removed[0]["rule"], "operator")
        self.assertEqual(removed[0]["maps_updated"], 1)

    def test_operator_entries_expire(self):
        self.assertEqual(self.r["add"].returncode, 0, self.r["add"].stderr)
        self.assertEqual(self.r["ttl_denied"], -9)
        self.assertEqual(self.r["ttl_expired"], 0)
        added = self.actions(lambda a: a["action"] == "add_value" and a.get("value") == self.r["ttl_file"])
        self.assertEqual(len(added), 1)
        self.assertIn("expires", added[0])
        expired = self.actions(lambda a: a["action"] == "expire" and a.get("value") == self.r["ttl_file"])
        self.assertEqual(len(expired), 1)
        self.assertEqual(expired[0]["rule"], "operator")

    def test_operator_add_of_a_missing_file_is_refused(self):
        self.assertNotEqual(self.r["add_missing"].returncode, 0)
        self.assertIn("files list: cannot stat", self.r["add_missing"].stderr)

    def test_agent_stopped_cleanly(self):
        self.assertEqual(self.agent_rc, 0)


if __name__ == "__main__":
    vh.main()
