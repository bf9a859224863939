"""Host lane: the Tetragon process extras an unprivileged user meets, on a real agent.

- Environment variables (--enable-process-environment-variables, --filter-environment-variables,
  --redaction-filters): an unprivileged user's secret in its environment leaves the agent as
  "*****"; only the variables named are there; an environment longer than
  --process-environment-max is cut in the kernel, flagged truncEnvs and counted.
- --cgroup-rate: an unprivileged user's exec storm in its own cgroup is throttled
  (process_throttle THROTTLE_START, then THROTTLE_STOP once quiet); another cgroup's execs
  still arrive meanwhile; the storm's execs delivered plus those the kernel held back for
  that cgroup are exactly the execs it made. A fork storm without exec (clones, as Tetragon
  counts them) is throttled too: its children's exits delivered plus the clones held back
  are exactly the forks it made. tetragon_cgroup_rate_total counts both throttles by type.
- Processes seeded from /proc at start carry in_init_tree and process_credentials'
  securebits and user_ns as exec'd ones do.
- Every line of the export parses with protobuf's strict JSON reader.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import vigilhost as vh  # noqa: E402
from test_tetragon_strict import compile_schema  # noqa: E402

MARKER = os.path.abspath(os.path.join(vh.PROGS, "marker"))
BURST = os.path.abspath(os.path.join(vh.PROGS, "exec_burst"))
FORK_BURST = os.path.abspath(os.path.join(vh.PROGS, "fork_burst"))
FORKS = 400                 # children of the fork storm, none of which execs
NOBODY = 65534
STORM = 400                 # execs of the storm's exec_burst children
RATE = 20                   # --cgroup-rate RATE,1s
ENV_MAX = 1024
TAG = "vigil-t17-%d" % os.getpid()

# kernel memory per policy: one hook, and three
HOOK = """  - subsystem: syscalls
    event: %s
    args:
    - index: 5
      type: int
"""
SMALL = "apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: t17-small\nspec:\n  tracepoints:\n" + \
    HOOK % "sys_enter_fchmodat"
LARGE = "apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: t17-large\nspec:\n  tracepoints:\n" + \
    "".join(HOOK % e for e in ("sys_enter_fchmodat", "sys_enter_fchownat", "sys_enter_unlinkat"))


def cgroup2_mount():
    with open("/proc/mounts") as f:
        for line in f:
            parts = line.split()
            if parts[2] == "cgroup2":
                return parts[1]
    return None


def as_nobody(argv):
    return ["setpriv", "--reuid", str(NOBODY), "--regid", str(NOBODY), "--clear-groups", "--"] + argv


def in_cgroup(path):
    """preexec_fn: move the child into the cgroup (as root), before it drops to nobody"""
    def move():
        with open(os.path.join(path, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
    return move


@vh.require_root
class TetraExtras(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        from google.protobuf import json_format
        cls.json_format = json_format
        t = cls.tmp = tempfile.mkdtemp(prefix="vigil-t17-")
        os.chmod(t, 0o1777)         # nobody's markers land here
        cls.pb = compile_schema(t)
        cls.export_dir = tempfile.mkdtemp(prefix="vigil-t17-export-")    # root's alone
        mount = cgroup2_mount()
        if not mount:
            raise RuntimeError("no cgroup v2 mount: --cgroup-rate keys on cgroup v2 ids")
        cls.storm_cg_rel = "/vigil-t17-storm-%d" % os.getpid()
        cls.other_cg_rel = "/vigil-t17-other-%d" % os.getpid()
        cls.fork_cg_rel = "/vigil-t17-fork-%d" % os.getpid()
        cls.storm_cg = mount + cls.storm_cg_rel
        cls.other_cg = mount + cls.other_cg_rel
        cls.fork_cg = mount + cls.fork_cg_rel
        os.mkdir(cls.storm_cg)
        os.mkdir(cls.other_cg)
        os.mkdir(cls.fork_cg)
        cls.export = os.path.join(cls.export_dir, "events.json")
        cls.seeded = []
        try:
            cls.run_agent(t)
        finally:
            for p in cls.seeded:
                p.kill()
                p.wait()
            for cg in (cls.storm_cg, cls.other_cg, cls.fork_cg):
                for _ in range(50):
                    try:
                        os.rmdir(cg)
                        break
                    except OSError:
                        time.sleep(0.1)
        with open(cls.export) as f:
            cls.lines = [line for line in f.read().splitlines() if line.strip()]
        shutil.rmtree(cls.export_dir, ignore_errors=True)
        cls.events = [json.loads(line) for line in cls.lines]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def seed_processes(cls):
        """running before the agent: a pid namespace's init and its child, a process with
        SECBIT_NO_SETUID_FIXUP, one in a user namespace"""
        quiet = dict(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # --kill-child: killing unshare kills the namespace's init, and with it the namespace
        cls.seeded.append(subprocess.Popen(["unshare", "-pf", "--kill-child", "sh", "-c",
                                            "sleep 300.%d1 & exec sleep 300.%d2" % (os.getpid(), os.getpid())],
                                           **quiet))
        cls.seeded.append(subprocess.Popen([sys.executable, "-c",
                                            "import ctypes, os; assert ctypes.CDLL(None).prctl(28, 4, 0, 0, 0) == 0; "
                                            "os.execv('/bin/sleep', ['sleep', '300.%d3'])" % os.getpid()], **quiet))
        cls.seeded.append(subprocess.Popen(["unshare", "-U", "sleep", "300.%d4" % os.getpid()], **quiet))
        time.sleep(0.5)

    @classmethod
    def run_agent(cls, t):
        cls.seed_processes()
        redaction = {"redact": [r"VIGIL_T17_PASSWORD=(\S+)"]}
        policies = []
        for name, text in (("small.yaml", SMALL), ("large.yaml", LARGE)):
            policies += ["--tracing-policy", os.path.join(cls.export_dir, name)]
            with open(policies[-1], "w") as f:
                f.write(text)
        port = vh.free_port()
        with vh.Agent(*policies, "--metrics-server", "127.0.0.1:%d" % port,"--export-file", cls.export, "--export-file-max-size-mb", "0",
                      "--enable-process-cred",
                      "--enable-process-environment-variables",
                      "--filter-environment-variables", "VIGIL_T17_PASSWORD,VIGIL_T17_PLAIN,VIGIL_T17_LONG",
                      "--process-environment-max", str(ENV_MAX),
                      "--redaction-filters", json.dumps(redaction),
                      "--cgroup-rate", "%d,1s" % RATE, outputs=()) as agent:
            cls.before = agent.status()["counters"]
            cls.tp_json = json.loads(subprocess.run([vh.VIGIL, "tp", "list", "-o", "json", "--server-address",
                                                     agent.control], capture_output=True, text=True).stdout)
            cls.tp_text = subprocess.run([vh.VIGIL, "tp", "list", "--server-address", agent.control],
                                         capture_output=True, text=True).stdout
            import urllib.request
            cls.metrics = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10).read().decode()
            env = {"PATH": "/usr/bin:/bin", "VIGIL_T17_PASSWORD": "hunter2-%s" % TAG, "VIGIL_T17_PLAIN": "visible",
                   "VIGIL_T17_HIDDEN": "not-named"}
            other = dict(cwd=t, preexec_fn=in_cgroup(cls.other_cg))
            cls.secret_ran = os.path.join(t, "secret.ran")
            subprocess.run(as_nobody([MARKER, cls.secret_ran]), env=env, check=True, **other)
            cls.long_ran = os.path.join(t, "long.ran")
            subprocess.run(as_nobody([MARKER, cls.long_ran]), env=dict(env, VIGIL_T17_LONG="x" * (2 * ENV_MAX)),
                           check=True, **other)
            # the storm, by nobody in its own cgroup; the other cgroup's exec while it is throttled
            storm = subprocess.Popen(as_nobody([BURST, str(STORM), TAG]), preexec_fn=in_cgroup(cls.storm_cg),
                                     env={"PATH": "/usr/bin:/bin"}, cwd=t)
            time.sleep(0.3)
            cls.during_ran = os.path.join(t, "during.ran")
            subprocess.run(as_nobody([MARKER, cls.during_ran]), check=True, **other)
            cls.storm_rc = storm.wait(timeout=60)
            # the fork storm, by nobody in a third cgroup: clones and exits, no exec
            cls.fork_rc = subprocess.run(as_nobody([FORK_BURST, str(FORKS)]), preexec_fn=in_cgroup(cls.fork_cg),
                                         env={"PATH": "/usr/bin:/bin"}, cwd=t, timeout=60).returncode
            time.sleep(0.5)
            cls.held = agent.status()["cgroup_rate"]
            # THROTTLE_STOP once every CPU has been quiet for 5 s
            deadline = time.time() + 15
            while time.time() < deadline and not cls.stopped():
                time.sleep(0.5)
            cls.metrics_after = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10).read().decode()
            cls.after = agent.status()["counters"]
            agent.stop()

    @classmethod
    def stopped(cls):
        if not os.path.exists(cls.export):
            return False
        with open(cls.export) as f:
            stops = [line for line in f if '"THROTTLE_STOP"' in line]
        return all(any('"%s"' % cg in line for line in stops) for cg in (cls.storm_cg_rel, cls.fork_cg_rel))

    def execs(self):
        return [e["process_exec"]["process"] for e in self.events if "process_exec" in e]

    def by_arguments(self, args):
        found = [p for p in self.execs() if p.get("arguments") == args]
        self.assertTrue(found, "no exec with arguments %r" % args)
        return found[0]

    # ---- environment ----

    def test_a_users_secret_in_its_environment_is_redacted(self):
        p = self.by_arguments(self.secret_ran)
        self.assertEqual(p["uid"], NOBODY)
        env = {v["Key"]: v["Value"] for v in p["environment_variables"]}
        self.assertEqual(env, {"VIGIL_T17_PASSWORD": "*****", "VIGIL_T17_PLAIN": "visible"})
        self.assertNotIn("hunter2-" + TAG, "\n".join(self.lines))
        self.assertNotIn("not-named", "\n".join(self.lines))

    def test_an_over_long_environment_is_cut_flagged_and_counted(self):
        p = self.by_arguments(self.long_ran)
        self.assertIn("truncEnvs", p["flags"].split())
        keys = [v["Key"] for v in p["environment_variables"]]
        self.assertNotIn("VIGIL_T17_LONG", keys)     # cut: it does not fit whole
        short = self.by_arguments(self.secret_ran)
        self.assertNotIn("truncEnvs", short["flags"].split())
        self.assertGreaterEqual(self.after["kernel_env_truncated"] - self.before["kernel_env_truncated"], 1)

    def test_only_exec_events_carry_the_environment(self):
        for e in self.events:
            for kind, body in e.items():
                if kind != "process_exec" and isinstance(body, dict):
                    self.assertNotIn("environment_variables", body.get("process", {}))

    # ---- --cgroup-rate ----

    def throttles(self):
        return [e["process_throttle"] for e in self.events if "process_throttle" in e]

    def test_the_storm_cgroup_is_throttled_then_released(self):
        mine = [t for t in self.throttles() if t.get("cgroup") == self.storm_cg_rel]
        self.assertEqual([t["type"] for t in mine], ["THROTTLE_START", "THROTTLE_STOP"], self.throttles())
        self.assertEqual(self.storm_rc, 0)

    def test_throttle_events_print_as_tetra_compact(self):
        with open(os.path.join(self.tmp, "export.json"), "w") as f:
            f.write("\n".join(self.lines) + "\n")
        r = subprocess.run([vh.VIGIL, "getevents", "-o", "compact", "--color", "never", "-e", "PROCESS_THROTTLE",
                            "--input", os.path.join(self.tmp, "export.json")], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("🧬 throttle START %s" % self.storm_cg_rel, r.stdout.splitlines())
        self.assertIn("🧬 throttle STOP  %s" % self.storm_cg_rel, r.stdout.splitlines())

    def test_another_cgroup_still_reports_while_the_storm_is_throttled(self):
        p = self.by_arguments(self.during_ran)
        self.assertEqual(p["uid"], NOBODY)
        self.assertFalse(any(t.get("cgroup") == self.other_cg_rel for t in self.throttles()))

    def test_delivered_and_held_execs_add_up_to_the_storm(self):
        delivered = [p for p in self.execs() if TAG in p.get("arguments", "")]
        # setpriv, exec_burst itself, then STORM children: all in the storm's cgroup
        cg = [c for c in self.held["cgroups"] if c["cgroup"] == self.storm_cg_rel]
        self.assertEqual(len(cg), 1, self.held)
        lost = self.after["kernel_ringbuf_full_exec"] - self.before["kernel_ringbuf_full_exec"]
        print("storm of %d execs: delivered %d, held back %d (exits %d), lost %d" %
              (STORM + 2, len(delivered), cg[0]["held_execs"], cg[0]["held_exits"], lost), file=sys.stderr)
        self.assertEqual(len(delivered) + cg[0]["held_execs"] + lost, STORM + 2,
                         "delivered %d held %d lost %d" % (len(delivered), cg[0]["held_execs"], lost))
        self.assertGreater(cg[0]["held_execs"], STORM // 2)
        self.assertLess(len(delivered), STORM // 2)
        # the exits of the held execs are held with them; the kernel totals cover them
        self.assertEqual(cg[0]["held_exits"], cg[0]["held_execs"])
        held_total = self.after["kernel_throttled_exec"] - self.before["kernel_throttled_exec"]
        self.assertGreaterEqual(held_total, cg[0]["held_execs"])
        delivered_exits = [e["process_exit"] for e in self.events
                           if "process_exit" in e and TAG in e["process_exit"]["process"].get("arguments", "")]
        self.assertTrue(all("unknown" not in x["process"].get("flags", "") for x in delivered_exits))
        # (other agents' builds may throttle other cgroups meanwhile: at least the storm's)
        self.assertGreaterEqual(self.after["throttle_start"] - self.before["throttle_start"], 1)

    def test_a_fork_storm_without_exec_is_throttled_and_counted(self):
        """Tetragon counts clones in a cgroup's rate and drops them while it is throttled; an
        unprivileged user forking instead of exec'ing does not get past the limit."""
        self.assertEqual(self.fork_rc, 0)
        mine = [t for t in self.throttles() if t.get("cgroup") == self.fork_cg_rel]
        self.assertEqual([t["type"] for t in mine], ["THROTTLE_START", "THROTTLE_STOP"], self.throttles())
        parent = [p for p in self.execs() if p.get("binary") == FORK_BURST]
        self.assertEqual(len(parent), 1, parent)
        self.assertEqual(parent[0]["uid"], NOBODY)
        children = [e["process_exit"]["process"] for e in self.events if "process_exit" in e and
                    e["process_exit"]["process"].get("binary") == FORK_BURST and
                    e["process_exit"]["process"]["pid"] != parent[0]["pid"]]
        cg = [c for c in self.held["cgroups"] if c["cgroup"] == self.fork_cg_rel]
        self.assertEqual(len(cg), 1, self.held)
        held = cg[0]["held_clones"]
        lost = (self.after["kernel_ringbuf_full"] - self.after["kernel_ringbuf_full_exec"]) - \
            (self.before["kernel_ringbuf_full"] - self.before["kernel_ringbuf_full_exec"])
        print("fork storm of %d: children's exits delivered %d, clones held back %d (exits %d), lost %d" %
              (FORKS, len(children), held, cg[0]["held_exits"], lost), file=sys.stderr)
        self.assertLessEqual(len(children) + held, FORKS)
        self.assertGreaterEqual(len(children) + held + lost, FORKS)
        self.assertGreater(held, FORKS // 2)
        self.assertLess(len(children), FORKS // 2)
        # no exec was held there; each held clone's exit was held with it, none sent alone
        self.assertEqual(cg[0]["held_execs"], 0)
        self.assertEqual(cg[0]["held_exits"], held)
        self.assertTrue(all("clone" in c.get("flags", "").split() for c in children), children[:3])
        self.assertGreaterEqual(self.after["kernel_throttled_clone"] - self.before["kernel_throttled_clone"], held)

    def test_cgroup_rate_total_counts_as_tetragons(self):
        from prometheus_client.parser import text_string_to_metric_families
        fams = {f.name: f for f in text_string_to_metric_families(self.metrics_after)}
        fam = fams["tetragon_cgroup_rate"]          # the parser drops a counter's _total
        self.assertEqual(fam.type, "counter")
        by = {s.labels["type"]: s.value for s in fam.samples if s.name == "tetragon_cgroup_rate_total"}
        self.assertEqual(set(by), {"check", "lookup_fail", "process", "throttle_start", "throttle_stop", "update_fail"})
        # the two storms at least (other agents' builds may throttle cgroups of their own)
        self.assertGreaterEqual(by["throttle_start"], 2)
        self.assertGreaterEqual(by["throttle_stop"], 2)
        self.assertGreaterEqual(by["check"], by["throttle_start"])
        self.assertGreaterEqual(by["process"], by["throttle_stop"])
        self.assertEqual(by["update_fail"], 0)
        self.assertLessEqual(by["throttle_start"], self.after["throttle_start"])
        # served under --metrics-names' Tetragon family only, and before any throttle: all types present
        before = {s.labels["type"]: s.value for f in text_string_to_metric_families(self.metrics)
                  for s in f.samples if s.name == "tetragon_cgroup_rate_total"}
        self.assertEqual(set(before), set(by))
        self.assertLessEqual(before["throttle_start"], by["throttle_start"] - 2)

    # ---- /proc-seeded processes ----

    def seeded_exec(self, suffix):
        arg = "300.%d%s" % (os.getpid(), suffix)
        found = [p for p in self.execs() if p.get("arguments") == arg and "procFS" in p.get("flags", "")]
        self.assertTrue(found, "no procFS exec of sleep %s" % arg)
        return found[0]

    def test_seeded_init_tree_processes_are_in_it(self):
        init, child = self.seeded_exec("2"), self.seeded_exec("1")
        self.assertIs(init["in_init_tree"], True)
        self.assertIs(child["in_init_tree"], True)
        self.assertEqual(init["ns"]["pid"]["inum"], child["ns"]["pid"]["inum"])

    def test_seeded_processes_carry_securebits_and_user_ns(self):
        sec = self.seeded_exec("3")["process_credentials"]
        self.assertEqual(sec["securebits"], ["SecBitNoSetUidFixup"])
        self.assertEqual(sec["user_ns"]["level"], 0)
        uns = self.seeded_exec("4")["process_credentials"]
        self.assertEqual(uns["user_ns"]["level"], 1)
        self.assertNotEqual(uns["user_ns"]["ns"]["inum"], sec["user_ns"]["ns"]["inum"])

    # ---- kernel memory per policy ----

    def test_kernel_memory_per_policy_in_tp_list_and_metrics(self):
        mem = {p["name"]: int(p["kernel_memory_bytes"]) for p in self.tp_json["policies"]}
        self.assertGreater(mem["t17-small"], 0)
        # three hooks' maps and programs against one
        self.assertGreater(mem["t17-large"], 2 * mem["t17-small"])
        self.assertRegex(self.tp_text, r"t17-small .* kernel_memory=\d+\.\d\d [kM]B")
        from prometheus_client.parser import text_string_to_metric_families
        samples = {s.labels["policy"]: s.value for fam in text_string_to_metric_families(self.metrics)
                   for s in fam.samples if s.name == "tetragon_tracingpolicy_kernel_memory_bytes"}
        self.assertEqual(samples, {"t17-small": mem["t17-small"], "t17-large": mem["t17-large"]})

    # ---- strict readers ----

    def test_every_export_line_parses_strictly(self):
        self.assertGreater(len(self.lines), STORM // 20)
        for line in self.lines:
            msg = self.pb.GetEventsResponse()
            try:
                self.json_format.Parse(line, msg, ignore_unknown_fields=False)
            except self.json_format.ParseError as e:
                self.fail("%s\n%s" % (e, line[:600]))


if __name__ == "__main__":
    vh.main()
