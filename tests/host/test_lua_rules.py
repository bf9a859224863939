"""Host lane: the Lua rules (core/luahost) in a real agent on this machine's kernel.

Each shipped rule of rules/lua/ is triggered by real programs doing the real thing (a
service spawning a reverse shell, a dropper, a renaming burst, a planted SUID shell, a
miner holding a pool connection) and met with a close innocent neighbour that must stay
silent. The miner rule's deny() must make the kernel kill the next exec of the binary. The
host's own behaviour is checked through the CLI: `vigil rules list`, `vigil rules reload`
keeping the state of unchanged rules and refusing a broken file with its file and line, and
a rule that breaks at run time being disabled with an event while the others go on.

Other tests may run on this host at the same time and do similar things (copy binaries to
/tmp and run them); every assertion is therefore tied to this test's own paths, ports and
pids, never to a bare count of a rule's alerts.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import vigilhost as vh  # noqa: E402

SOURCE = os.environ.get("VIGIL_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
RULES = os.path.join(SOURCE, "rules", "lua")
POLICIES = [os.path.join(SOURCE, "rules", "policies", p)
            for p in ("lua-network.yaml", "lua-files.yaml", "lua-deny-exec.yaml")]
SUID = os.path.join(vh.PROGS, "lua_suid")
MINER = os.path.join(vh.PROGS, "lua_miner")
EXIT_CODE = os.path.join(vh.PROGS, "exit_code")
BASH = shutil.which("bash") or "/bin/bash"
SH = "/bin/sh"
NOBODY = 65534
HOLD = 10   # cryptominer.lua's HOLD

# A rule of this test: counts the execs of exit_code with argument "lua-count" (its state is
# what a reload must keep), and one that errors on exit_code "lua-boom".
COUNTER_RULE = textwrap.dedent("""\
    local n = 0
    return {
      name = "test_counter",
      priority = "notice",
      output = "counted %{n}",
      events = {"process_exec"},
      on_event = function(ev)
        if ev["process.arguments"] == "lua-count" then
          n = n + 1
          alert{fields = {n = n}}
        end
      end,
    }
    """)
BOOM_RULE = textwrap.dedent("""\
    return {
      name = "test_boom",
      events = {"process_exec"},
      on_event = function(ev)
        if ev["process.arguments"] == "lua-boom" then
          error("boom on purpose")
        end
      end,
    }
    """)


class Listener:
    """A TCP listener in a process of its own (not an ancestor of anything under test)."""

    def __init__(self):
        code = ("import socket,sys,time\n"
                "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                "s.bind(('127.0.0.1',0)); s.listen(64); print(s.getsockname()[1], flush=True)\n"
                "conns=[]\n"
                "while True: conns.append(s.accept())\n")
        self.proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline())

    def close(self):
        self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()


def service(tmp, name, shell_cmd, then_connect_port=None):
    """A network-facing service: a python process that listens, then runs shell_cmd through
    bash (the shell is its child), then optionally connects out itself."""
    code = textwrap.dedent("""\
        import socket, subprocess, sys
        srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen()
        subprocess.run(["%s", "-c", sys.argv[1]])
        if len(sys.argv) > 2:
            socket.create_connection(("127.0.0.1", int(sys.argv[2]))).close()
        """) % BASH
    path = os.path.join(tmp, name + ".py")
    with open(path, "w") as f:
        f.write(code)
    argv = [sys.executable, path, shell_cmd] + ([str(then_connect_port)] if then_connect_port else [])
    return subprocess.run(argv, capture_output=True, text=True, timeout=30)


def rename_burst(directory, count, ext):
    os.makedirs(directory)
    code = textwrap.dedent("""\
        import os, sys
        d, n, ext = sys.argv[1], int(sys.argv[2]), sys.argv[3]
        for i in range(n):
            with open(os.path.join(d, "doc%d.txt" % i), "w") as f:
                f.write("secret")
        for i in range(n):
            p = os.path.join(d, "doc%d.txt" % i)
            os.rename(p, p + "." + ext)
        """)
    subprocess.run([sys.executable, "-c", code, directory, str(count), ext], check=True, timeout=30)


def as_nobody():
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def read_events(agent):
    """What the JSON subscriber has written so far (whole lines only)."""
    path = agent.subs["json"][2]
    with open(path) as f:
        text = f.read()
    return [json.loads(line) for line in text.split("\n")[:-1] if line.strip()]


def wait_for(agent, pred, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        hits = [e for e in read_events(agent) if pred(e)]
        if hits:
            return hits
        time.sleep(0.1)
    return []


def is_alert(rule, text=None):
    def pred(e):
        a = e.get("process_alert")
        return a is not None and a["rule"] == rule and (text is None or text in a.get("output", ""))
    return pred


def cli(agent, *args):
    return subprocess.run([vh.VIGIL, *args, "--control", agent.control], capture_output=True, text=True)


@vh.require_root
class LuaRules(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-lua-")
        os.chmod(cls.tmp, 0o755)    # nobody runs the setuid helper from here
        # outside every staging directory the rules know (a CI build tree may be under /tmp)
        cls.home = tempfile.mkdtemp(prefix="vigil-lua-", dir=os.path.expanduser("~"))
        t = cls.tmp
        cls.rules = os.path.join(t, "rules")
        shutil.copytree(RULES, cls.rules)
        for name, text in (("test_counter.lua", COUNTER_RULE), ("test_boom.lua", BOOM_RULE)):
            with open(os.path.join(cls.rules, name), "w") as f:
                f.write(text)
        cls.r = {}
        args = ["--rules-dir", cls.rules]
        for p in POLICIES:
            args += ["--tracing-policy", p]
        with vh.Agent(*args, outputs=("json", "compact")) as agent:
            cls.agent = agent
            cls.run_scenarios()
            cls.listing = cli(agent, "rules", "list", "-o", "json")
            cls.listing_text = cli(agent, "rules", "list")
            cls.status = agent.status()
            cls.events = agent.events("json")
            cls.compact = agent.events("compact", settle=0)
            cls.agent_rc = agent.stop()
            cls.agent_log = agent.read_log()
        shutil.rmtree(t, ignore_errors=True)
        shutil.rmtree(cls.home, ignore_errors=True)

    # ---- the scenarios, all against one agent ----

    @classmethod
    def run_scenarios(cls):
        t, r, agent = cls.tmp, cls.r, cls.agent
        lis = Listener()
        try:
            # the miner takes HOLD seconds: start it first, and its innocent twins beside it
            r["miner"] = os.path.join(t, "xmrig")
            r["short_miner"] = os.path.join(t, "quick-xmrig")
            r["plain_miner"] = os.path.join(cls.home, "lua_miner")
            shutil.copy(MINER, r["miner"])
            shutil.copy(MINER, r["short_miner"])
            shutil.copy(MINER, r["plain_miner"])
            t0 = time.time()
            miner = subprocess.Popen([r["miner"], "127.0.0.1", str(lis.port), "60", "-o",
                                      "stratum+tcp://pool.example:3333"])
            long_innocent = subprocess.Popen([r["plain_miner"], "127.0.0.1", str(lis.port), str(HOLD + 3)])
            short = subprocess.run([r["short_miner"], "127.0.0.1", str(lis.port), "1", "-o",
                                    "stratum+tcp://pool.example:3333"], timeout=30)
            r["short_rc"] = short.returncode

            cls.shell_scenarios(lis)
            cls.dropper_scenarios()
            cls.ransomware_scenarios()
            cls.privesc_scenarios()
            cls.host_scenarios()

            r["miner_rc"] = miner.wait(timeout=60)
            r["miner_secs"] = time.time() - t0
            r["long_innocent_rc"] = long_innocent.wait(timeout=60)
            time.sleep(0.5)   # the deny reached the kernel with the alert; the exec is next
            t1 = time.time()
            again = subprocess.run([r["miner"], "127.0.0.1", str(lis.port), "60"], timeout=30)
            r["again_rc"], r["again_secs"] = again.returncode, time.time() - t1
            wait_for(agent, lambda e: "process_tracepoint" in e
                     and e["process_tracepoint"].get("policy_name") == "lua-deny-exec", timeout=5)
        finally:
            lis.close()

    @classmethod
    def shell_scenarios(cls, lis):
        t, r = cls.tmp, cls.r
        other = Listener()
        try:
            r["shell_port"] = lis.port
            # a service whose shell connects out: /dev/tcp in bash, the reverse shell's way
            service(t, "svc_bad", "exec 3<>/dev/tcp/127.0.0.1/%d; echo hi >&3" % lis.port)
            # innocent: a service whose shell does not connect, though the service itself does
            r["svc_self_port"] = other.port
            service(t, "svc_quiet", "exit 0", then_connect_port=other.port)
            # innocent: the same reverse-shell line from a shell that no service started
            lonely = Listener()
            r["lonely_port"] = lonely.port
            subprocess.run([BASH, "-c", "exec 3<>/dev/tcp/127.0.0.1/%d; echo hi >&3" % lonely.port], timeout=10)
            lonely.close()
        finally:
            other.close()
        wait_for(cls.agent, is_alert("shell_from_service"), timeout=5)

    @classmethod
    def dropper_scenarios(cls):
        t, r = cls.tmp, cls.r
        r["payload"] = os.path.join(t, "payload")
        shutil.copy("/usr/bin/true", r["payload"])          # written by python: open O_WRONLY|O_CREAT
        subprocess.run(["/usr/bin/cp", "/usr/bin/true", os.path.join(t, "cp-payload")], check=True)
        subprocess.run([os.path.join(t, "cp-payload")], check=True)
        subprocess.run([r["payload"]], check=True)
        # a relative write from a process whose cwd is the staging directory
        subprocess.run(["/usr/bin/cp", "/usr/bin/true", "./rel-payload"], cwd=t, check=True)
        subprocess.run(["./rel-payload"], cwd=t, check=True)
        # innocent: a script written to /tmp and run through its interpreter
        r["script"] = os.path.join(t, "job.sh")
        with open(r["script"], "w") as f:
            f.write("exit 0\n")
        subprocess.run([SH, r["script"]], check=True)
        # innocent: a binary dropped but never run, and the original run instead
        shutil.copy("/usr/bin/true", os.path.join(t, "never-run"))
        subprocess.run(["/usr/bin/true", os.path.join(t, "never-run")], check=True)
        wait_for(cls.agent, is_alert("dropped_binary", r["payload"]), timeout=5)

    @classmethod
    def ransomware_scenarios(cls):
        t, r = cls.tmp, cls.r
        r["crypt_dir"] = os.path.join(t, "victim")
        rename_burst(r["crypt_dir"], 30, "locked")
        # innocent: fewer files than the threshold, and a backup tool's ".bak" burst
        r["few_dir"] = os.path.join(t, "few")
        rename_burst(r["few_dir"], 15, "enc")
        r["bak_dir"] = os.path.join(t, "backup")
        rename_burst(r["bak_dir"], 30, "bak")
        wait_for(cls.agent, is_alert("ransomware_burst", r["crypt_dir"]), timeout=5)

    @classmethod
    def privesc_scenarios(cls):
        t, r = cls.tmp, cls.r
        r["suid"] = os.path.join(t, "rootshell")
        shutil.copy(SUID, r["suid"])
        os.chown(r["suid"], 0, 0)
        os.chmod(r["suid"], 0o4755)
        # the planted SUID shell: setuid(0) then a shell
        r["escalate"] = subprocess.run([r["suid"], "escalate", SH, "-c", "id -u > /dev/null; exit 7"],
                                       preexec_fn=as_nobody).returncode
        # innocent: the same helper lending euid 0 without taking the real uid
        r["borrow"] = subprocess.run([r["suid"], "borrow", SH, "-c", "exit 3"], preexec_fn=as_nobody).returncode
        # innocent: root running a shell, no setuid step before it
        subprocess.run([SH, "-c", "exit 4"])
        wait_for(cls.agent, is_alert("privesc_setuid", r["suid"]), timeout=5)

    @classmethod
    def host_scenarios(cls):
        agent, r = cls.agent, cls.r
        subprocess.run([EXIT_CODE, "lua-count"])
        subprocess.run([EXIT_CODE, "lua-count"])
        wait_for(agent, is_alert("test_counter", "counted 2"))
        subprocess.run([EXIT_CODE, "lua-boom"])
        wait_for(agent, lambda e: e.get("rule_status", {}).get("rule") == "test_boom")
        # reload: test_boom comes back (rewritten), a broken file is refused, the counter keeps
        # its count
        with open(os.path.join(cls.rules, "test_boom.lua"), "w") as f:
            f.write(BOOM_RULE.replace("boom on purpose", "boom again"))
        r["bad_file"] = os.path.join(cls.rules, "zz_broken.lua")
        with open(r["bad_file"], "w") as f:
            f.write("return {\n  name = 'zz_broken',\n  events = {'exec'}\n  on_event = nil }\n")
        r["reload"] = cli(agent, "rules", "reload")
        subprocess.run([EXIT_CODE, "lua-count"])
        wait_for(agent, is_alert("test_counter", "counted 3"))
        # a changed rule file with a syntax error keeps the running version
        with open(os.path.join(cls.rules, "test_counter.lua"), "w") as f:
            f.write(COUNTER_RULE.replace("n = n + 1", "n = = n + 1"))
        r["reload_bad_counter"] = cli(agent, "rules", "reload")
        subprocess.run([EXIT_CODE, "lua-count"])
        wait_for(agent, is_alert("test_counter", "counted 4"))

    # ---- helpers ----

    def alerts(self, rule, pred=lambda a: True):
        return [e["process_alert"] for e in self.events
                if "process_alert" in e and e["process_alert"]["rule"] == rule and pred(e["process_alert"])]

    def actions(self, pred=lambda a: True):
        return [e["rule_action"] for e in self.events if "rule_action" in e and pred(e["rule_action"])]

    # ---- shell spawned by a service, then connecting out ----

    def test_shell_from_service_fires_on_a_reverse_shell(self):
        hits = self.alerts("shell_from_service", lambda a: "127.0.0.1:%d" % self.r["shell_port"] in a["output"])
        self.assertEqual(len(hits), 1, self.alerts("shell_from_service"))
        a = hits[0]
        self.assertEqual(a["priority"], "critical")
        self.assertEqual(a["process"]["binary"], os.path.realpath(BASH))
        self.assertIn("python", a["output"])
        self.assertIn("MITRE:T1505.003", a["tags"])
        self.assertGreaterEqual(len(a["exec_ids"]), 2)   # the shell and the service

    def test_shell_from_service_silent_for_a_quiet_shell_or_a_shell_without_service(self):
        for port in (self.r["svc_self_port"], self.r["lonely_port"]):
            self.assertEqual(self.alerts("shell_from_service", lambda a: "127.0.0.1:%d" % port in a["output"]), [])

    # ---- dropped binary executed ----

    def test_dropped_binary_fires_for_written_then_executed_paths(self):
        t = self.tmp
        for path in (self.r["payload"], os.path.join(t, "cp-payload"), os.path.join(t, "rel-payload")):
            hits = self.alerts("dropped_binary", lambda a: a["process"]["binary"] == path)
            self.assertEqual(len(hits), 1, (path, self.alerts("dropped_binary")))
        a = self.alerts("dropped_binary", lambda a: a["process"]["binary"] == os.path.join(t, "cp-payload"))[0]
        self.assertIn("written by /usr/bin/cp", a["output"])
        self.assertEqual(len(a["exec_ids"]), 2)   # the exec, and the writer

    def test_dropped_binary_silent_for_a_script_run_by_its_interpreter_or_an_unused_drop(self):
        never = os.path.join(self.tmp, "never-run")
        self.assertEqual(self.alerts("dropped_binary", lambda a: a["process"]["binary"] == never
                                     or self.r["script"] in a["process"].get("arguments", "")
                                     or never in a["process"].get("arguments", "")), [])

    # ---- ransomware-like rename burst ----

    def test_ransomware_burst_fires_on_thirty_files_renamed_to_one_extension(self):
        hits = self.alerts("ransomware_burst", lambda a: self.r["crypt_dir"] in a["output"])
        self.assertEqual(len(hits), 1, self.alerts("ransomware_burst"))
        self.assertIn("gave 20 files the extension .locked", hits[0]["output"])
        self.assertEqual(hits[0]["tags"], ["MITRE:T1486", "ransomware"])

    def test_ransomware_burst_silent_below_threshold_and_for_backups(self):
        for d in (self.r["few_dir"], self.r["bak_dir"]):
            self.assertEqual(self.alerts("ransomware_burst", lambda a: d in a["output"]), [])

    # ---- setuid exec, then a full-root process ----

    def test_privesc_fires_on_a_planted_suid_shell(self):
        self.assertEqual(self.r["escalate"], 7)
        hits = self.alerts("privesc_setuid", lambda a: self.r["suid"] in a["output"])
        self.assertEqual(len(hits), 1, self.alerts("privesc_setuid"))
        a = hits[0]
        self.assertIn("uid 65534 ran setuid %s" % self.r["suid"], a["output"])
        self.assertEqual(a["process"]["uid"], 0)
        self.assertIn("exit 7", a["process"]["arguments"])
        self.assertEqual(len(a["exec_ids"]), 2)   # the shell, and the setuid exec before it

    def test_privesc_silent_when_the_real_uid_stays_or_root_runs_a_shell(self):
        self.assertEqual(self.r["borrow"], 3)
        self.assertEqual(self.alerts("privesc_setuid", lambda a: "exit 3" in a["process"].get("arguments", "")
                                     or "exit 4" in a["process"].get("arguments", "")), [])

    # ---- the miner: killed, and denied in the kernel ----

    def test_cryptominer_is_killed_after_holding_its_pool_connection(self):
        self.assertEqual(self.r["miner_rc"], -9)
        self.assertGreaterEqual(self.r["miner_secs"], HOLD - 0.5)
        hits = self.alerts("cryptominer", lambda a: a["process"]["binary"] == self.r["miner"])
        self.assertEqual(len(hits), 1, self.alerts("cryptominer"))
        self.assertIn("held a connection to 127.0.0.1:", hits[0]["output"])
        kills = self.actions(lambda a: a["action"] == "kill" and a["rule"] == "cryptominer"
                             and a.get("process", {}).get("binary") == self.r["miner"])
        self.assertEqual(len(kills), 1)
        self.assertEqual(kills[0]["signal"], "SIGKILL")
        self.assertNotIn("error", kills[0])

    def test_cryptominer_deny_makes_the_kernel_kill_the_next_exec(self):
        denies = self.actions(lambda a: a["action"] == "deny" and a["value"] == self.r["miner"])
        self.assertEqual(len(denies), 1)
        self.assertEqual(denies[0]["list"], "lua-denied-binaries")
        self.assertEqual(denies[0]["maps_updated"], 1)
        self.assertNotIn("error", denies[0])
        # the second run dies at exec, in the kernel, long before any hold
        self.assertEqual(self.r["again_rc"], -9)
        self.assertLess(self.r["again_secs"], 3)
        kernel = [e["process_tracepoint"] for e in self.events if "process_tracepoint" in e
                  and e["process_tracepoint"].get("policy_name") == "lua-deny-exec"]
        self.assertEqual(len(kernel), 1, kernel)
        self.assertEqual(kernel[0]["action"], "KPROBE_ACTION_SIGKILL")
        self.assertEqual(kernel[0]["process"]["binary"], self.r["miner"])

    def test_cryptominer_silent_for_a_short_connection_or_an_ordinary_long_one(self):
        self.assertEqual(self.r["short_rc"], 0)
        self.assertEqual(self.r["long_innocent_rc"], 0)
        self.assertEqual(self.alerts("cryptominer", lambda a: a["process"]["binary"] in
                                     (self.r["short_miner"], self.r["plain_miner"])), [])

    # ---- the host: events, list, reload, a broken rule ----

    def test_alert_event_has_the_process_alert_shape(self):
        a = self.alerts("privesc_setuid", lambda a: self.r["suid"] in a["output"])[0]
        self.assertEqual(list(a)[:2], ["process", "parent"])
        self.assertEqual([k for k in a if k not in ("process", "parent")],
                         ["rule", "priority", "output", "tags", "exec_ids"])
        ev = next(e for e in self.events if e.get("process_alert") is a)
        self.assertEqual(ev["node_name"], self.status["node_name"])
        self.assertIn("time", ev)

    def test_alert_compact_line(self):
        lines = [l for l in self.compact if l.startswith("🚨 alert   ") and "privesc_setuid: " in l
                 and self.r["suid"] in l]
        self.assertEqual(len(lines), 1, [l for l in self.compact if "alert" in l][:10])
        self.assertIn(" %s privesc_setuid: Privilege escalation: uid 65534" % os.path.realpath(SH), lines[0])

    def test_rule_that_errs_is_disabled_with_an_event_and_the_others_go_on(self):
        st = [e["rule_status"] for e in self.events if e.get("rule_status", {}).get("rule") == "test_boom"]
        self.assertEqual(len(st), 1)
        self.assertEqual(st[0]["state"], "disabled")
        self.assertIn("test_boom.lua:6: boom on purpose", st[0]["reason"])
        self.assertTrue(self.alerts("test_counter", lambda a: a["output"] == "counted 3"))

    def test_reload_refuses_a_broken_file_with_file_and_line(self):
        rel = self.r["reload"]
        self.assertEqual(rel.returncode, 1, rel.stderr)
        self.assertIn("%s:4: '}' expected (to close '{' at line 1) near 'on_event'" % self.r["bad_file"], rel.stderr)
        # test_boom, rewritten: this reload replaces it, unless the directory's watch got there
        # first (50 ms after the write, on a loaded machine); either way it runs again, re-armed
        # (test_rules_list_shows_state_and_counters)
        self.assertRegex(rel.stdout, r"(?m)^(replaced|unchanged) +\S*/test_boom\.lua ", rel.stdout)
        self.assertIn("unchanged", rel.stdout)

    def test_reload_keeps_the_state_of_unchanged_rules(self):
        counts = [a["output"] for a in self.alerts("test_counter")]
        self.assertEqual(counts, ["counted 1", "counted 2", "counted 3", "counted 4"],
                         [(a["output"], a["process"]["binary"], a["process"]["pid"]) for a in self.alerts("test_counter")])

    def test_reload_with_a_syntax_error_keeps_the_running_version(self):
        rel = self.r["reload_bad_counter"]
        self.assertEqual(rel.returncode, 1)
        self.assertIn("test_counter.lua:9: unexpected symbol near '='", rel.stderr)

    def test_rules_list_shows_state_and_counters(self):
        self.assertEqual(self.listing.returncode, 0, self.listing.stderr)
        rules = {r["name"]: r for r in json.loads(self.listing.stdout)}
        for name in ("shell_from_service", "dropped_binary", "ransomware_burst", "privesc_setuid", "cryptominer"):
            self.assertEqual(rules[name]["state"], "enabled", rules[name])
            self.assertGreater(rules[name]["calls"], 0)
            self.assertGreaterEqual(rules[name]["alerts"], 1)
            self.assertEqual(rules[name]["errors"], 0)
            self.assertGreater(rules[name]["time_ns"], 0)
        self.assertEqual(rules["cryptominer"]["actions"], 2)
        self.assertEqual(rules["test_counter"]["alerts"], 4)
        self.assertEqual(rules["test_boom"]["state"], "enabled")     # re-armed by the reload
        self.assertEqual(rules["zz_broken.lua"]["state"], "refused")
        self.assertIn("zz_broken.lua:4:", rules["zz_broken.lua"]["reason"])
        self.assertIn("NAME", self.listing_text.stdout)
        self.assertIn("cryptominer", self.listing_text.stdout)

    def test_agent_stops_cleanly(self):
        self.assertEqual(self.agent_rc, 0, self.agent_log[-3000:])
        self.assertNotIn("Sanitizer", self.agent_log)
        self.assertIn("luahost: rule test_boom disabled: ", self.agent_log)

    def test_status_counts_rule_events(self):
        self.assertGreater(self.status["counters"]["events_rules"], 0)
        self.assertEqual(self.status["counters"]["bad_records"], 0)


if __name__ == "__main__":
    vh.main()
