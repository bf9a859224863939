"""Host lane: every `tetra` flag of the reference guide (shared/reference/tetragon.md §6.2) with
`vigil` in its place, against a real agent: getevents reading the agent's export file from
standard input (tetra's daily `tetra getevents -o compact < events.json`) and from the bus,
status, version, bugtool, tracingpolicy list -o json and generate, info, loglevel get/set,
debug maps, tp domains, policyfilter dump, cri version/cgroup_path, cgtracker dump and
getevents -t. A flag either does what tetra's does or is refused with the reason (TLS, and
the commands vigil has no counterpart of); none is silently ignored. --cel-expression selects
exactly the marker's execs (from the file and live from the bus), and the agent's export
denylist written in CEL holds against an unprivileged user's crafted argv (quotes, 120 KB,
invalid UTF-8) without slowing the agent. The socket is opened
to a control group (nogroup): its member `nobody` reads but cannot change the log level, and
a user outside it reads nothing.
The namespace and pod flags (-n/--namespace, --pod, --containers and the plurals) come with
the container support of issue 15 and are checked once `getevents --help` lists them.
"""
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import vigilhost as vh  # noqa: E402

MARKER = os.path.join(vh.PROGS, "marker")
NOBODY = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "--"]     # in nogroup
OUTSIDER = ["setpriv", "--reuid", "65533", "--regid", "65533", "--clear-groups", "--"]  # in no group
CONTAINER = "c0ffee%058x" % os.getpid()
FILE_POLICY = """apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: t17-file
spec:
  tracepoints:
  - subsystem: syscalls
    event: sys_enter_acct
"""
# the agent's export denylist, in CEL: the exec of one binary, and any exec whose arguments
# carry a word, whatever else they hold
CEL_DENY = ('{"cel_expression": ["process_exec.process.binary.endsWith(\'/vigil-cel-denied\')", '
            '"process_exec.process.arguments.contains(\'cel-secret\') || '
            'process_exec.process.arguments.matches(\'cel-[a-z]+-word\')"]}')
SCOPED_POLICY = """apiVersion: cilium.io/v1alpha1
kind: TracingPolicyNamespaced
metadata:
  name: t17-scoped
  namespace: team-a
spec:
  tracepoints:
  - subsystem: syscalls
    event: sys_enter_pivot_root
"""


# `vigil policytest --file`: a policy already loaded (t17-file, from --tracing-policy), and two
# tests that must fail (the exec one expects never comes; the other expects two overrides)
OWN_TESTS = """tests:
- name: loaded-t17-file
  policy: t17-file
  requires: [python3]
  scenarios:
  - name: nobody calls acct (refused)
    trigger:
      user: nobody
      run: python3 -c 'import ctypes; ctypes.CDLL(None).acct(None)'
    expect:
      events:
      - process_tracepoint:
          process: {uid: "65534", binary: !contains python3}
- name: broken
  policy: exec-from-tmp
  scenarios:
  - name: expects an exec that never comes
    trigger:
      run: cp /usr/bin/true dropped && ./dropped
    expect:
      events:
      - process_tracepoint:
          args: [{linux_binprm_arg: {path: "${dir}/never-run"}}]
- name: counts-wrong
  policy: deny-outbound-cidr
  scenarios:
  - name: two overrides expected, one comes
    trigger:
      run: timeout 1 bash -c 'exec 3<>/dev/tcp/192.0.2.1/9'; true
    expect:
      actions: {override: 2}
"""


def prog_ids_held_by(pid):
    ids = set()
    fdinfo = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(fdinfo):
        try:
            with open(os.path.join(fdinfo, fd)) as f:
                for line in f:
                    if line.startswith("prog_id:"):
                        ids.add(int(line.split()[1]))
        except OSError:
            pass
    return ids


def vigil(*args, stdin=subprocess.DEVNULL, **kw):
    return subprocess.run([vh.VIGIL] + list(args), capture_output=True, text=True, stdin=stdin, timeout=60, **kw)


def map_ids_held_by(pid):
    ids = set()
    fdinfo = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(fdinfo):
        try:
            with open(os.path.join(fdinfo, fd)) as f:
                for line in f:
                    if line.startswith("map_id:"):
                        ids.add(int(line.split()[1]))
        except OSError:
            pass
    return ids


def cgroup2_mount():
    with open("/proc/mounts") as f:
        for line in f:
            parts = line.split()
            if parts[2] == "cgroup2":
                return parts[1]
    return None


@vh.require_root
class TetraCli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        t = cls.tmp = tempfile.mkdtemp(prefix="vigil-tetra-cli-")
        os.chmod(t, 0o755)
        cls.export = os.path.join(t, "events.json")
        cls.tool = os.path.join(t, "vigil-cli-marker")
        shutil.copy(MARKER, cls.tool)
        cls.denied_tool = os.path.join(t, "vigil-cel-denied")
        cls.allowed_tool = os.path.join(t, "vigil-cel-allowed")
        shutil.copy(MARKER, cls.denied_tool)
        shutil.copy(MARKER, cls.allowed_tool)
        cls.watched = os.path.join(t, "watched")
        os.mkdir(cls.watched)
        file_policy = os.path.join(t, "t17-file.yaml")
        with open(file_policy, "w") as f:
            f.write(FILE_POLICY)
        # never rotated (the host's other activity could fill Tetragon's default 10 MB meanwhile,
        # under ASan) and so the tests read one file; eventlog get says so
        with vh.Agent("--export-file", cls.export, "--export-file-max-size-mb", "0", "--export-file-max-backups", "3",
                      "--export-denylist", CEL_DENY,
                      "--tracing-policy", file_policy, "--control-group", "nogroup", outputs=()) as agent:
            os.chmod(agent.dir, 0o755)      # a user may reach the socket: its mode and the group decide
            cls.control = agent.control
            cls.bus = agent.bus
            gen = vigil("tracingpolicy", "generate", "file-prefix", cls.watched + "/", "-m", cls.tool)
            cls.generated = gen.stdout
            pol = os.path.join(t, "file-prefix.yaml")
            with open(pol, "w") as f:
                f.write(gen.stdout)
            cls.added = vigil("tp", "add", pol, "--domain", "grpc", "--server-address", agent.control)
            cls.pol = pol
            cls.k8s_domain = vigil("tp", "add", pol, "--domain", "k8s", "--server-address", agent.control)
            cls.wrong_ns = vigil("tp", "disable", "file-prefix", "-n", "team-a", "--server-address", agent.control)
            # a bus subscriber with tetra's connection flags, started before the activity
            cls.sub = subprocess.Popen([vh.VIGIL, "getevents", "--bus", agent.bus, "--server-address", agent.control,
                                        "--timeout", "5s", "--retries", "1", "--reconnect", "--reconnect-wait", "1s",
                                        "--max-recv-size", "1048576", "--process", "vigil-cli-marker", "--count", "3",
                                        "-d"],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                       stdin=subprocess.DEVNULL)
            # live: only the marker's execs, by a CEL expression
            cls.cel_sub = subprocess.Popen([vh.VIGIL, "getevents", "--bus", agent.bus, "--count", "3",
                                            "--cel-expression", "process_exec.process.binary == '%s'" % cls.tool],
                                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                           stdin=subprocess.DEVNULL)
            # `vigil getevents | head -1`: once its reader is gone, the next write ends it
            cls.head_sub = subprocess.Popen([vh.VIGIL, "getevents", "--bus", agent.bus], stdout=subprocess.PIPE,
                                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
            time.sleep(0.5)
            for i in range(3):
                subprocess.run([cls.tool, os.path.join(cls.watched, "f%d" % i)], check=True)
            cls.cel_out, cls.cel_err = cls.cel_sub.communicate(timeout=20)
            cls.head_first = cls.head_sub.stdout.readline()
            cls.head_sub.stdout.close()
            cls.evasions(agent)
            subprocess.run(["cat", os.path.join(cls.watched, "f0")], check=True)     # not the tool: no event
            cls.sub_out, cls.sub_err = cls.sub.communicate(timeout=20)
            cls.status_text = vigil("status", "--server-address", agent.control)
            cls.status_json = vigil("status", "-o", "json", "--server-address", agent.control)
            cls.version = vigil("version", "--server-address", agent.control)
            cls.version_s = vigil("version", "-s", "--server-address", agent.control)
            cls.listing = vigil("tracingpolicy", "list", "-o", "json", "--server-address", agent.control)
            cls.sensors = vigil("sensors", "list", "--server-address", agent.control)
            cls.sensors_json = vigil("sensors", "list", "-o", "json", "--server-address", agent.control)
            cls.bugtool_path = os.path.join(t, "bug.tar.gz")
            cls.bugtool = vigil("bugtool", "--out", cls.bugtool_path, "--server-address", agent.control)
            cls.agent_progs = prog_ids_held_by(agent.proc.pid)
            cls.debug_progs = vigil("debug", "progs", "--once", "--timeout", "1")
            try:  # the commands above were execs: events it had to write
                cls.head_rc = cls.head_sub.wait(timeout=10)
            except subprocess.TimeoutExpired:
                cls.head_sub.kill()
                cls.head_sub.wait()
                cls.head_rc = None
            cls.listing_text = vigil("tp", "list", "--server-address", agent.control)
            cls.introspect(agent)
            cls.policytests(agent)
            time.sleep(0.5)
        with open(cls.export) as f:
            cls.export_text = f.read()
        cls.help = vigil("getevents", "--help").stdout

    @classmethod
    def evasions(cls, agent):
        """nobody tries to get execs past the CEL denylist: argv that looks like CEL, a 120 KB
        argument, invalid UTF-8 around the word; then the agent must still answer at once."""
        long_arg = "cel-secret " + "A" * 120000    # under MAX_ARG_STRLEN (128 KiB)
        tries = [[cls.denied_tool, "x') || true || ('"],
                 [cls.denied_tool, long_arg],
                 [cls.allowed_tool, "\\' ) || process_exec.process.pid > 0u || ('", "cel-secret"],
                 [cls.allowed_tool, long_arg],
                 [cls.allowed_tool, "cel-evil-word"]]
        start = time.monotonic()
        for argv in tries:
            subprocess.run(NOBODY + argv, cwd=cls.tmp)     # nobody cannot create argv[1] there
        # invalid UTF-8 in argv (bytes, as execve takes them)
        subprocess.run([os.fsencode(x) for x in NOBODY] + [os.fsencode(cls.allowed_tool), b"\xff\xfecel-secret\xc3"], cwd=cls.tmp)
        subprocess.run([os.fsencode(x) for x in NOBODY] + [os.fsencode(cls.denied_tool), b"\xc3\x28\xa0\xa1"], cwd=cls.tmp)
        subprocess.run(NOBODY + [cls.allowed_tool, "harmless"], cwd=cls.tmp)   # this one is exported
        cls.evasion_ms = (time.monotonic() - start) * 1000
        t0 = time.monotonic()
        cls.status_after_evasion = vigil("status", "-o", "json", "--server-address", agent.control)
        cls.status_after_evasion_ms = (time.monotonic() - t0) * 1000
        time.sleep(0.3)

    @classmethod
    def introspect(cls, agent):
        """tetra's debugging commands against the same agent, and what other users get"""
        c = ("--server-address", agent.control)
        scoped = os.path.join(cls.tmp, "t17-scoped.yaml")
        with open(scoped, "w") as f:
            f.write(SCOPED_POLICY)
        cls.scoped_added = vigil("tp", "add", scoped, *c)
        cls.listing_scoped = vigil("tp", "list", "-o", "json", *c)
        cls.info = vigil("info", *c)
        cls.info_status = agent.status()
        cls.maps_tab = vigil("debug", "maps", "-n", "0", *c)
        cls.maps_json = vigil("debug", "maps", "-o", "json", *c)
        cls.agent_maps = map_ids_held_by(agent.proc.pid)
        cls.domains = vigil("tp", "domains", *c)
        cls.pfilter = vigil("policyfilter", "dump", *c)
        cls.pfilter_json = vigil("policyfilter", "dump", "-o", "json", *c)
        cls.cri = vigil("cri", "version", *c)
        cls.cri_json = vigil("cri", "version", "-o", "json", *c)
        cls.eventlog = vigil("eventlog", "get", *c)
        # log level: root reads and sets it; a control group member reads it and cannot set it
        cls.level = [vigil("loglevel", "get", *c), vigil("loglevel", "set", "debug", *c), vigil("log", "get", *c)]
        cls.level_member = [subprocess.run(NOBODY + [vh.VIGIL, "loglevel", "get", *c], capture_output=True,
                                           text=True, timeout=60),
                            subprocess.run(NOBODY + [vh.VIGIL, "loglevel", "set", "info", *c], capture_output=True,
                                           text=True, timeout=60)]
        cls.level_after_member = vigil("loglevel", "get", *c)
        cls.level_bad = [vigil("loglevel", "set", "panic", *c), vigil("loglevel", "set", "loud", *c)]
        cls.level.append(vigil("loglevel", "set", "info", *c))
        cls.member_reads = {name: subprocess.run(NOBODY + [vh.VIGIL] + args + list(c), capture_output=True, text=True,
                                                 timeout=60)
                            for name, args in (("info", ["info"]), ("maps", ["debug", "maps"]),
                                               ("domains", ["tp", "domains"]), ("policyfilter", ["policyfilter", "dump"]))}
        cls.outsider = [subprocess.run(OUTSIDER + [vh.VIGIL] + args + list(c), capture_output=True, text=True,
                                       timeout=60)
                        for args in (["info"], ["loglevel", "get"], ["loglevel", "set", "debug"], ["debug", "maps"],
                                     ["tp", "domains"], ["policyfilter", "dump"], ["cri", "version"],
                                     ["eventlog", "get"])]
        cls.level_final = vigil("loglevel", "get", *c)
        # cgtracker and cri cgroup_path read the cgroup v2 tree as the agent's resolver
        mount = cgroup2_mount()
        parent = os.path.join(mount, "vigil-t17cli-%d" % os.getpid())
        cls.cg_rel = "/vigil-t17cli-%d/docker-%s.scope" % (os.getpid(), CONTAINER)
        os.mkdir(parent)
        os.mkdir(mount + cls.cg_rel)
        try:
            cls.cg_ino = os.stat(mount + cls.cg_rel).st_ino
            cls.cgtracker = vigil("cgtracker", "dump")
            cls.cri_path = vigil("cri", "cgroup_path", CONTAINER)
            cls.cri_nopath = vigil("cri", "cgroup_path", "f" * 64)
        finally:
            os.rmdir(mount + cls.cg_rel)
            os.rmdir(parent)

    @classmethod
    def policytests(cls, agent):
        """vigil policytest: shipped tests (their policies loaded under a temporary name, one in
        enforce mode), a test of a policy already loaded, a broken test, and users abusing it"""
        c = ("--server-address", agent.control, "--bus", agent.bus)
        cls.pt_list = vigil("policytest", "list")
        cls.pt_pass = vigil("policytest", "run", "-o", "json", "bpf-load-unprivileged", "kernel-module-load",
                            "mount-in-container", "reverse-shell-connect", *c)
        cls.pt_enforce = vigil("pt", "run", "deny-outbound-cidr", "--enforce", *c)
        own = os.path.join(cls.tmp, "own-tests.yaml")
        with open(own, "w") as f:
            f.write(OWN_TESTS)
        os.chmod(own, 0o600)
        cls.pt_own = vigil("pt", "run", "--file", own, "--all-tests", *c)
        cls.pt_after = vigil("tp", "list", "-o", "json", "--server-address", agent.control)
        # a tests file someone else could write chooses what root runs: refused
        planted = os.path.join(cls.tmp, "planted.yaml")
        shutil.copy(own, planted)
        os.chown(planted, 65534, 65534)
        cls.pt_planted = vigil("pt", "run", "--file", planted, "--all-tests", *c)
        os.chown(planted, 0, 0)
        os.chmod(planted, 0o666)
        cls.pt_writable = vigil("pt", "list", "--file", planted)
        # nobody (a control group member) may read the policies, not load one
        cls.pt_nobody = subprocess.run(NOBODY + [vh.VIGIL, "pt", "run", "bpf-load-unprivileged", *c],
                                       capture_output=True, text=True, timeout=60)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def getevents(self, *args):
        """vigil getevents ARGS < the export file (tetra reads a file on standard input)."""
        with open(self.export) as f:
            r = vigil("getevents", *args, stdin=f)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.splitlines()

    def events(self, *args):
        return [json.loads(line) for line in self.getevents(*args)]

    # ---- getevents from a file ----

    def test_output_json_and_compact(self):
        self.assertGreater(len(self.events("-o", "json")), 3)
        compact = self.getevents("-o", "compact", "--process", "vigil-cli-marker")
        self.assertTrue(any(line.startswith("🚀 process") and self.tool in line for line in compact), compact)
        self.assertTrue(all(self.tool in line for line in compact))

    def test_process_takes_several_regexes(self):
        both = self.events("--process", "vigil-cli-marker,^/usr/bin/cat$")
        one = self.events("--processes", "vigil-cli-marker")
        bins = {e[next(iter(e))]["process"]["binary"] for e in both}
        self.assertEqual(bins, {self.tool, "/usr/bin/cat"})
        self.assertLess(len(one), len(both))
        self.assertEqual(len(self.events("--process", "vigil-cli-marker", "--process", "^/usr/bin/cat$")), len(both))

    def test_event_types(self):
        evs = self.events("-e", "PROCESS_EXIT", "--process", "vigil-cli-marker")
        self.assertEqual({next(iter(e)) for e in evs}, {"process_exit"})
        self.assertEqual(len(evs), 3)

    def test_policy_names(self):
        evs = self.events("--policy-names", "file-prefix")
        self.assertEqual(len(evs), 3)
        self.assertTrue(all(e["process_tracepoint"]["policy_name"] == "file-prefix" for e in evs))
        self.assertEqual(self.events("--policy-names", "no-such-policy"), [])

    def test_include_and_exclude_fields(self):
        inc = self.events("-f", "process.binary", "-e", "PROCESS_EXEC", "--process", "vigil-cli-marker")
        self.assertEqual(inc[0]["process_exec"], {"process": {"binary": self.tool}})
        exc = self.events("--exclude-fields", "parent,process.arguments", "-e", "PROCESS_EXEC",
                          "--process", "vigil-cli-marker")
        self.assertNotIn("parent", exc[0]["process_exec"])
        self.assertNotIn("arguments", exc[0]["process_exec"]["process"])
        self.assertIn("binary", exc[0]["process_exec"]["process"])
        self.assertEqual(self.events("--include-fields", "process.pid", "-F", "process.pid",
                                     "-e", "PROCESS_EXEC", "--process", "vigil-cli-marker")[0]["process_exec"],
                         {"process": {}})

    def test_host_and_namespace_regex(self):
        everything = self.events()
        self.assertEqual(len(self.events("--host")), len(everything))     # no pods here
        self.assertEqual(len(self.events("--namespace-regex", "^$")), len(everything))
        self.assertEqual(self.events("--namespace-regex", "kube-system"), [])

    def test_color_timestamps_stack_traces_ima_hash(self):
        plain = self.getevents("-o", "compact", "--color", "never", "--process", "vigil-cli-marker")
        colored = self.getevents("-o", "compact", "--color", "always", "--process", "vigil-cli-marker")
        self.assertTrue(any("\x1b[" in line for line in colored))
        self.assertFalse(any("\x1b[" in line for line in plain))
        stamped = self.getevents("-o", "compact", "--timestamps", "--color", "never", "--process", "vigil-cli-marker")
        self.assertRegex(stamped[0], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z ")
        self.assertEqual(self.getevents("-o", "compact", "--stack-traces=false", "--ima-hash=false", "--color", "never",
                                        "--process", "vigil-cli-marker"), plain)
        self.assertEqual(self.getevents("-o", "compact", "--stack-traces", "--ima-hash", "--color", "never",
                                        "--process", "vigil-cli-marker"), plain)

    # ---- CEL ----

    def test_cel_expression_selects_exactly_the_markers_execs(self):
        expr = "process_exec.process.binary.endsWith('/vigil-cli-marker')"
        evs = self.events("--cel-expression", expr)
        self.assertEqual(len(evs), 3, evs)
        self.assertTrue(all(e["process_exec"]["process"]["binary"] == self.tool for e in evs))
        self.assertEqual(evs, self.events("-e", "PROCESS_EXEC", "--process", "/vigil-cli-marker$"))
        # the same as a Filter object, and repeated flags OR'ed
        self.assertEqual(evs, self.events("--allow", json.dumps({"cel_expression": [expr]})))
        self.assertEqual(len(self.events("--cel-expression", expr, "--cel-expression",
                                         "process_exit.process.binary == '%s'" % self.tool)), 6)
        # a wrapper: pid is uint (Tetragon's test writes uint(1)); an exit's status is uint32
        self.assertEqual(len(self.events("--cel-expression", expr + " && process_exec.process.pid > uint(1)")), 3)
        self.assertEqual(len(self.events("--cel-expression", "process_exit.process.binary == '%s' && "
                                         "process_exit.status == 0u" % self.tool)), 3)
        self.assertEqual(len(self.events("--cel-expression", "process_tracepoint.policy_name == 'file-prefix' && "
                                         "process_tracepoint.args.exists(a, a.string_arg.startsWith('%s'))"
                                         % self.watched)), 3)

    def test_cel_expression_live_from_the_bus(self):
        lines = [json.loads(x) for x in self.cel_out.splitlines()]
        self.assertEqual(len(lines), 3, self.cel_err)
        self.assertTrue(all(e["process_exec"]["process"]["binary"] == self.tool for e in lines))

    def test_cel_expression_refusals_name_the_column(self):
        for expr, want in (("process_exec.process.pid > 1", "column 26: found no matching overload"),
                           ("process_exec.process.bad_field_name == 'curl'", "column 22: undefined field"),
                           ("process_exec.process.binary.matches('(?i)curl')", "column 37: matches(): "),
                           ("process_exec.process.binary", "column 22: got 'string', wanted 'bool'")):
            with open(self.export) as f:
                r = vigil("getevents", "--cel-expression", expr, stdin=f)
            self.assertEqual(r.returncode, 2, expr)
            self.assertIn("vigil getevents: --cel-expression: " + want, r.stderr)
            self.assertEqual(r.stdout, "")

    def test_cel_denylist_holds_against_crafted_argv(self):
        execs = [e["process_exec"]["process"] for e in map(json.loads, self.export_text.splitlines())
                 if "process_exec" in e]
        mine = [p for p in execs if p.get("binary") in (self.denied_tool, self.allowed_tool)]
        self.assertEqual([p["binary"] for p in mine], [self.allowed_tool], mine)
        self.assertEqual(mine[0]["arguments"], "harmless")
        self.assertEqual(mine[0]["uid"], 65534)
        # the exits are not named by the denylist: they are exported, one per run
        exits = [e for e in map(json.loads, self.export_text.splitlines()) if "process_exit" in e and
                 e["process_exit"]["process"].get("binary") in (self.denied_tool, self.allowed_tool)]
        self.assertEqual(len(exits), 8)
        # and the agent kept up: the storm of 120 KB argv took it no time, status answered at once
        self.assertEqual(self.status_after_evasion.returncode, 0)
        self.assertLess(self.status_after_evasion_ms, 3000)
        self.assertEqual(json.loads(self.status_after_evasion.stdout)["counters"]["export_cel_errors"], 0)

    def test_refused_flags_say_why(self):
        for args in (["--tty-encode", ""],
                     ["--tls-ca-cert", "/etc/ca.pem"], ["--reconnect=false"], ["--stack-traces=maybe"]):
            with open(self.export) as f:
                r = vigil("getevents", *args, stdin=f)
            self.assertEqual(r.returncode, 2, args)
            self.assertTrue(r.stderr.strip(), args)

    def test_namespace_and_pod_flags_are_tetras_or_refused(self):
        """-n is tetra's --namespace (issue 15 brings it); until then it is refused, never the
        count it used to be."""
        if "--namespace " not in self.help and "--namespace," not in self.help:
            for args in (["-n", "5"], ["--namespace", ""], ["--pod", "x"]):
                with open(self.export) as f:
                    r = vigil("getevents", *args, stdin=f)
                self.assertEqual(r.returncode, 2, args)
                self.assertEqual(r.stdout, "")
            return
        self.assertEqual(len(self.events("-n", "")), len(self.events()))
        for flag in ("--namespace", "--namespaces"):
            self.assertEqual(self.events(flag, "kube-system"), [])
        for flag in ("--pod", "--pods", "--containers"):
            self.assertEqual(self.events(flag, "nothing-runs-in-a-pod-here"), [])

    def test_a_hostile_file_is_skipped_line_by_line_not_fatal(self):
        """Export files come from anywhere: a reader of them meets junk. Each bad line is
        skipped and counted; the good ones around it still print; nothing crashes."""
        good = next(line for line in self.export_text.splitlines()
                    if line.startswith('{"process_exec"') and self.tool in line)
        junk = ["not json", "[1,2,3]", "{}", '{"process_loader":{"path":"/x"}}', "\x00\xff\xfe" * 100,
                "{" * 100000, '{"process_exec":' + "[" * 5000 + "]" * 5000 + "}",
                '{"process_exec":{"process":{"binary":"' + "A" * (1 << 20) + '"}}}', '{"process_exec":null}',
                '{"process_exec":{"process":{"pid":"NaN"}}}']
        path = os.path.join(self.tmp, "hostile.json")
        with open(path, "w", errors="surrogateescape") as f:
            f.write("\n".join([good] + junk + [good]) + "\n")
        r = vigil("getevents", "-o", "compact", "--color", "never", "--input", path)
        self.assertEqual(r.returncode, 0, r.stderr[-500:])
        binary = json.loads(good)["process_exec"]["process"]["binary"]
        self.assertEqual(sum(1 for line in r.stdout.splitlines() if binary in line), 2)
        # the malformed seven; the loader event and the string pid are events, printed as tetra would
        self.assertIn("skipped 7 lines", r.stderr)
        self.assertIn("A" * 1000, r.stdout)

    # ---- getevents from the bus, with tetra's connection flags ----

    def test_bus_subscriber_with_connection_flags_printed_what_was_asked(self):
        evs = [json.loads(line) for line in self.sub_out.splitlines()]
        self.assertEqual(len(evs), 3, self.sub_err)
        self.assertTrue(all(e[next(iter(e))]["process"]["binary"] == self.tool for e in evs))

    def test_a_subscriber_whose_reader_went_away_ends(self):
        self.assertTrue(self.head_first.startswith(b"{"), self.head_first)
        self.assertEqual(self.head_rc, 0, "still running 10 s after its pipe was closed")

    def test_timeout_is_tetras_connection_timeout(self):
        t0 = time.monotonic()
        r = vigil("getevents", "--server-address", "ipc://" + os.path.join(self.tmp, "nobody.sock"),
                  "--timeout", "1s", "--retries", "1")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no agent answered", r.stderr)
        self.assertLess(time.monotonic() - t0, 10)
        self.assertEqual(vigil("getevents", "--timeout", "soon").returncode, 2)
        self.assertEqual(vigil("getevents", "--count", "0").returncode, 2)

    # ---- the other commands ----

    def test_generated_policy_loaded_and_fired(self):
        self.assertEqual(self.added.returncode, 0, self.added.stderr)
        self.assertIn('values: ["%s/"]' % self.watched, self.generated)
        self.assertEqual(self.export_text.count('"policy_name":"file-prefix"'), 3)

    def test_generate_all_syscalls_and_empty_are_policies(self):
        import yaml
        for args in (["empty"], ["all-syscalls"], ["all-syscalls-list", "-m", "/usr/bin/curl"]):
            r = vigil("tp", "generate", *args)
            self.assertEqual(r.returncode, 0, r.stderr)
            doc = yaml.safe_load(r.stdout)
            self.assertEqual(doc["kind"], "TracingPolicy")
        allsys = yaml.safe_load(vigil("tp", "generate", "all-syscalls").stdout)["spec"]["kprobes"]
        self.assertIn({"call": "sys_openat", "syscall": True}, allsys)
        self.assertGreater(len(allsys), 300)
        self.assertEqual(vigil("tp", "generate", "file-prefix", "relative").returncode, 2)
        self.assertEqual(vigil("tp", "generate", "nonsense").returncode, 2)
        usdts = vigil("tp", "generate", "usdts", "--binary", "/bin/true")
        self.assertEqual(usdts.returncode, 2)
        self.assertIn("refused: vigil does not load usdts hooks", usdts.stderr)

    def test_status_has_tetras_health_line_and_shape(self):
        self.assertEqual(self.status_text.returncode, 0)
        self.assertTrue(self.status_text.stdout.startswith("Health Status: running\n"))
        st = json.loads(self.status_json.stdout)
        self.assertEqual(st["health_status"][0]["status"], "HEALTH_STATUS_RUNNING")
        self.assertIn("counters", st)

    def test_version_reports_cli_and_server(self):
        for r in (self.version, self.version_s):
            self.assertEqual(r.returncode, 0, r.stderr)
            lines = r.stdout.splitlines()
            self.assertTrue(lines[0].startswith("CLI version: "))
            self.assertTrue(lines[1].startswith("Server version: "))
            self.assertNotIn("unavailable", lines[1])
        r = vigil("version", "-s", "--server-address", "ipc://" + os.path.join(self.tmp, "nobody.sock"))
        self.assertEqual(r.returncode, 1)

    def test_tracingpolicy_list_json_is_tetras_shape(self):
        doc = json.loads(self.listing.stdout)
        p = next(p for p in doc["policies"] if p["name"] == "file-prefix")
        self.assertEqual(p["state"], "TP_STATE_ENABLED")
        self.assertEqual(p["mode"], "TP_MODE_ENFORCE")
        self.assertTrue(p["enabled"])
        self.assertIsInstance(p["id"], str)
        self.assertEqual(p["hook_statuses"][0]["state"], "STATUS_LOADED")

    def test_tracingpolicy_list_shows_kernel_memory_as_tetra(self):
        p = next(p for p in json.loads(self.listing.stdout)["policies"] if p["name"] == "file-prefix")
        self.assertRegex(p["kernel_memory_bytes"], r"^[1-9][0-9]*$")     # protojson uint64: a string
        self.assertRegex(self.listing_text.stdout, r"file-prefix .*kernel_memory=[0-9.]+ [kM]?B")

    def test_tracingpolicy_modify_sets_the_mode_locally(self):
        import yaml
        mon = vigil("tp", "modify", self.pol, "-m", "monitor")
        self.assertEqual(mon.returncode, 0, mon.stderr)
        doc = yaml.safe_load(mon.stdout)
        self.assertEqual(doc["metadata"]["name"], "file-prefix")
        self.assertIn({"name": "policy-mode", "value": "monitor"}, doc["spec"]["options"])
        again = os.path.join(self.tmp, "monitored.yaml")
        with open(again, "w") as f:
            f.write(mon.stdout)
        doc = yaml.safe_load(vigil("tp", "modify", again, "--mode", "enforce").stdout)
        self.assertEqual([o for o in doc["spec"]["options"] if o["name"] == "policy-mode"],
                         [{"name": "policy-mode", "value": "enforce"}])
        self.assertEqual(yaml.safe_load(vigil("tp", "modify", self.pol).stdout), yaml.safe_load(self.generated))
        self.assertEqual(vigil("tp", "modify", self.pol, "-m", "loud").returncode, 2)
        self.assertEqual(vigil("tp", "modify", "/etc/hostname", "-m", "monitor").returncode, 1)

    def test_domain_and_namespace_flags(self):
        self.assertEqual(self.k8s_domain.returncode, 2)
        self.assertIn("--domain k8s refused", self.k8s_domain.stderr)
        self.assertEqual(self.wrong_ns.returncode, 1)
        self.assertIn("no policy file-prefix in namespace team-a", self.wrong_ns.stderr)
        p = next(p for p in json.loads(self.listing.stdout)["policies"] if p["name"] == "file-prefix")
        self.assertEqual(p["state"], "TP_STATE_ENABLED")     # the refused -n touched nothing

    def test_tetra_commands_vigil_lacks_are_refused_with_the_reason(self):
        # vigil has every tetra command now (policytest last): none is refused
        # the commands vigil has now are not refused, and a wrong subcommand is a usage error
        # (rthooks create-container and eventlog set: test_rthooks.py)
        for args in (["policyfilter"], ["cgtracker"], ["cri"], ["loglevel"], ["loglevel", "set"], ["debug", "nothing"],
                     ["eventlog"], ["eventlog", "set"], ["rthooks"], ["rthooks", "create-container"], ["policytest"],
                     ["policytest", "get"]):
            r = vigil(*args)
            self.assertEqual(r.returncode, 2, args)
            self.assertNotIn("not in vigil", r.stderr, args)
            self.assertIn("usage: vigil", r.stderr, args)

    def test_global_flags_on_every_command_that_asks_the_agent(self):
        nobody = "ipc://" + os.path.join(self.tmp, "nobody.sock")
        for args in (["status"], ["tp", "list"], ["sensors", "list"]):
            t0 = time.monotonic()
            r = vigil(*args, "-d", "--timeout", "1s", "--retries", "1", "--max-recv-size", "65536",
                      "--server-address", nobody)
            self.assertEqual(r.returncode, 1, (args, r.stderr))
            self.assertIn("timed out", r.stderr)
            self.assertLess(time.monotonic() - t0, 8, args)      # 2 attempts of 1 s, not the default
            # --tls-* are for the agent's TLS listener (HOST:PORT, test_tls_control.py): never
            # accepted and ignored with the local socket
            r = vigil(*args, "--tls-ca-cert-files", "/etc/ca.pem", "--server-address", nobody)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertIn("--tls-* apply to a --server-address HOST:PORT", r.stderr)
            self.assertEqual(vigil(*args, "--timeout", "soon").returncode, 2, args)

    def test_plural_aliases_as_tetra(self):
        self.assertEqual(self.events("--processes", "vigil-cli-marker"), self.events("--process", "vigil-cli-marker"))

    def test_sensors_list_names_the_base_and_each_policys_hook_kinds(self):
        self.assertEqual(self.sensors.returncode, 0, self.sensors.stderr)
        doc = json.loads(self.sensors_json.stdout)["sensors"]
        self.assertEqual(doc[0], {"name": "__base__", "enabled": True, "collection": "base"})
        mine = {d["name"] for d in doc if d["collection"] == "file-prefix"}
        # the policy's hooks by kind, from tp list's own descriptions ("<kind> <target> via ...")
        hooks = next(p for p in json.loads(self.listing.stdout)["policies"] if p["name"] == "file-prefix")
        self.assertEqual(mine, {"generic_" + h["hook_description"].split()[0] for h in hooks["hook_statuses"]})
        self.assertIn("__base__ enabled (base)", self.sensors.stdout.splitlines())
        for name in mine:
            self.assertIn("%s enabled (file-prefix)" % name, self.sensors.stdout.splitlines())
        r = vigil("sensors", "enable", "generic_kprobe")
        self.assertEqual(r.returncode, 2)
        self.assertIn("vigil tracingpolicy enable", r.stderr)

    def test_debug_progs_lists_the_agents_programs_by_overhead(self):
        self.assertEqual(self.debug_progs.returncode, 0, self.debug_progs.stderr)
        lines = self.debug_progs.stdout.splitlines()
        head = next(i for i, line in enumerate(lines) if line.split()[:2] == ["Ovh(%)", "Id"])
        rows = {int(r[1]): r for r in (line.split() for line in lines[head + 1:] if line.strip())}
        # other agents run here too: ours must be among the rows, each with its name
        self.assertTrue(self.agent_progs)
        self.assertLessEqual(self.agent_progs, set(rows))
        self.assertTrue(any(rows[i][4] == "tp_btf_exec" or rows[i][4] == "raw_tp_exec" for i in self.agent_progs))
        self.assertTrue(all(float(r[0]) >= 0 for r in rows.values()))

    # ---- policytest ----

    def test_policytest_lists_the_shipped_tests_with_labels(self):
        self.assertEqual(self.pt_list.returncode, 0, self.pt_list.stderr)
        names = [line.split()[0] for line in self.pt_list.stdout.splitlines()]
        self.assertGreaterEqual(len(names), 8)
        self.assertIn("deny-outbound-cidr [kprobes network enforce]", self.pt_list.stdout)

    def test_policytest_runs_shipped_tests_against_the_agent(self):
        self.assertEqual(self.pt_pass.returncode, 0, self.pt_pass.stdout + self.pt_pass.stderr)
        results = [json.loads(line) for line in self.pt_pass.stdout.splitlines()]
        self.assertEqual([r["name"] for r in results],
                         ["%s (mode=monitor)" % n for n in ("kernel-module-load", "bpf-load-unprivileged",
                                                            "mount-in-container", "reverse-shell-connect")])
        for r in results:      # tetra's NamedResult, key for key
            self.assertEqual(set(r), {"name", "result"})
            self.assertEqual(set(r["result"]), {"error", "scenarios", "total_time"})
            self.assertIsNone(r["result"]["error"])
            self.assertIsInstance(r["result"]["total_time"], int)
            for sc in r["result"]["scenarios"]:
                self.assertEqual(set(sc), {"name", "trigger_error", "checker_error", "action_counts_error"})
                self.assertEqual((sc["trigger_error"], sc["checker_error"], sc["action_counts_error"]),
                                 (None, None, None), r)

    def test_policytest_enforces_when_asked_and_unloads_what_it_loaded(self):
        self.assertEqual(self.pt_enforce.returncode, 0, self.pt_enforce.stdout + self.pt_enforce.stderr)
        self.assertRegex(self.pt_enforce.stdout, r"P: deny-outbound-cidr \(mode=enforce\) +✅ +1/1 scenario")
        names = [p["name"] for p in json.loads(self.pt_after.stdout)["policies"]]
        self.assertIn("t17-file", names)         # already loaded: used, left alone
        self.assertFalse([n for n in names if "policytest" in n], names)

    def test_policytest_fails_a_broken_test_and_says_why(self):
        self.assertEqual(self.pt_own.returncode, 1)
        out = self.pt_own.stdout
        self.assertRegex(out, r"P: loaded-t17-file \(mode=enforce\) +✅")
        self.assertRegex(out, r"P: broken \(mode=monitor\) +🔴 +0/1 scenario")
        self.assertRegex(out, r"checker error: events\[0\] \(process_tracepoint, policy exec-from-tmp-policytest-[0-9]+\) "
                              r"not seen: [0-9]+ event\(s\) from the trigger; closest: process_tracepoint.args\[0\]."
                              r"linux_binprm_arg.path: want /tmp/vigil-policytest-\w+/never-run, got "
                              r"/tmp/vigil-policytest-\w+/dropped")
        # tetra's action counter check: in monitor mode, what the policy reported it would do
        self.assertRegex(out, r"P: counts-wrong \(mode=monitor\) +🔴 +0/1 scenario")
        self.assertIn("action counts error: monitor_override: expected:2 before:0, after:1", out)
        self.assertIn("result errors: 2/3", self.pt_own.stderr)

    def test_policytest_refuses_a_tests_file_others_could_write_and_loading_as_a_user(self):
        for r in (self.pt_planted, self.pt_writable):
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("is writable by others", r.stderr)
            self.assertEqual(r.stdout, "")
        self.assertEqual(self.pt_nobody.returncode, 1)
        self.assertIn("policy bpf-load-unprivileged is not loaded, and loading it is root's", self.pt_nobody.stdout)
        # no agent: said once, at once
        r = vigil("pt", "run", "--all-tests", "--timeout", "1s", "--server-address",
                  "ipc://" + os.path.join(self.tmp, "nobody.sock"))
        self.assertEqual((r.returncode, r.stdout), (1, ""))
        self.assertIn("vigil policytest: no answer from the agent at ", r.stderr)

    # ---- tetra's debugging commands ----

    def test_info_is_the_agents_version_kernel_and_mechanisms_as_json(self):
        self.assertEqual(self.info.returncode, 0, self.info.stderr)
        doc = json.loads(self.info.stdout)
        st = self.info_status
        for key in ("version", "node_name", "kernel", "process_mechanism", "cgroup_v2"):
            self.assertEqual(doc[key], st[key], key)
        self.assertTrue(doc["kernel"].startswith(os.uname().release))
        self.assertIn({"name": "tp_btf", "ok": True, "reason": "ok"}, doc["mechanisms"])
        self.assertEqual(doc["container_runtime"], st["container_runtime"])

    def test_loglevel_get_and_set_at_run_time_root_only(self):
        get, set_, alias, back = self.level
        self.assertEqual(get.stdout, "Current log level: info\n", get.stderr)
        self.assertEqual(set_.stdout, "Log level set to: debug\n", set_.stderr)
        self.assertEqual(alias.stdout, "Current log level: debug\n", alias.stderr)
        self.assertEqual(back.stdout, "Log level set to: info\n", back.stderr)
        # a control group member reads it, and cannot change it
        mget, mset = self.level_member
        self.assertEqual(mget.stdout, "Current log level: debug\n", mget.stderr)
        self.assertEqual(mset.returncode, 1)
        self.assertIn("permission denied: 'loglevel_set' changes the agent and needs root", mset.stderr)
        self.assertEqual(self.level_after_member.stdout, "Current log level: debug\n")
        panic, loud = self.level_bad
        self.assertEqual(panic.returncode, 1)
        self.assertIn("no level below warning", panic.stderr)
        self.assertIn("unknown level", loud.stderr)
        self.assertEqual(self.level_final.stdout, "Current log level: info\n")

    def test_a_user_outside_the_control_group_reads_nothing(self):
        for r in self.outsider:
            self.assertEqual(r.returncode, 1, r.args)
            self.assertEqual(r.stdout, "", r.args)
            self.assertIn("Permission denied", r.stderr, r.args)

    def test_a_control_group_member_reads_the_introspection(self):
        for name, r in self.member_reads.items():
            self.assertEqual(r.returncode, 0, (name, r.stderr))
        self.assertEqual(self.member_reads["domains"].stdout, self.domains.stdout)

    def test_debug_maps_lists_the_agents_maps_by_memory_as_tetra(self):
        self.assertEqual(self.maps_tab.returncode, 0, self.maps_tab.stderr)
        doc = json.loads(self.maps_json.stdout)
        ids = {m["id"] for m in doc["maps"]}
        # exactly the maps the agent holds (the first table counts them all)
        self.assertEqual(ids, self.agent_maps)
        self.assertEqual(doc["total_memlock_bytes"]["all_maps"], sum(m["memlock"] for m in doc["maps"]))
        lines = self.maps_tab.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["AllMaps", "Maps"])
        self.assertEqual(int(lines[1].split()[-1]), len(ids))
        head = lines[3].split()
        # tetra's columns in tetra's order, vigil's Entries last (a script reading tetra's columns works)
        self.assertEqual(head, ["Name", "Type", "KeySize", "ValueSize", "MaxEntries", "Count", "Memlock",
                                "TotalMemlock", "PercentOfTotal", "Entries"])
        rows = {r.split()[0]: r.split() for r in lines[4:]}
        execs = rows["vg_execs"]
        self.assertEqual(execs[1:3], ["hash", "4"])
        self.assertGreater(int(execs[-1]), 0)                   # processes in the exec map
        self.assertLessEqual(int(execs[-1]), int(execs[4]))     # no more than its capacity
        self.assertEqual(rows["vg_events"][1], "ringbuf")
        agg = {a["name"]: a for a in doc["aggregated_maps"]}
        self.assertEqual(sorted(agg), sorted(rows))
        mems = [a["total_memlock_bytes"] for a in doc["aggregated_maps"]]
        self.assertEqual(mems, sorted(mems, reverse=True))      # the largest first
        self.assertAlmostEqual(sum(a["percent_of_total"] for a in doc["aggregated_maps"]), 100.0, places=3)
        for a in doc["aggregated_maps"]:
            self.assertEqual(a["memlock_bytes"], a["total_memlock_bytes"] // a["count"], a)     # per map

    def test_tp_domains_names_each_policys_domain(self):
        self.assertEqual(self.domains.returncode, 0, self.domains.stderr)
        rows = {line.split()[0]: line.split()[1] for line in self.domains.stdout.splitlines()[1:]}
        self.assertEqual(set(rows["grpc"].split(",")), {"file-prefix", "t17-scoped"})
        self.assertEqual(rows["file"], "t17-file")

    def test_policyfilter_dump_shows_the_scoped_policies(self):
        self.assertEqual(self.scoped_added.returncode, 0, self.scoped_added.stderr)
        self.assertEqual(self.pfilter.returncode, 0, self.pfilter.stderr)
        doc = json.loads(self.pfilter_json.stdout)
        mine = [p for p in doc["policies"] if p["policy"] == "t17-scoped"]
        self.assertEqual(len(mine), 1, doc)
        self.assertEqual(mine[0]["namespace"], "team-a")
        self.assertGreater(mine[0]["scope"], 0)
        self.assertNotIn("file-prefix", [p["policy"] for p in doc["policies"]])     # not scoped
        # no pod runs here: the policy runs in no cgroup
        self.assertEqual([e for e in doc["entries"] if e["scope"] == mine[0]["scope"]], [])
        self.assertIn("%d team-a/t17-scoped:" % mine[0]["scope"], self.pfilter.stdout.splitlines())

    def test_cri_version_is_the_runtime_the_agent_follows(self):
        rt = self.info_status["container_runtime"]
        self.assertEqual(json.loads(self.cri_json.stdout), rt)
        self.assertEqual(self.cri.returncode, 0, self.cri.stderr)
        self.assertTrue(self.cri.stdout.startswith('runtime_name:"%s" connected:%s ' %
                                                   (rt["runtime"], "true" if rt["connected"] else "false")))
        if rt["error"]:
            self.assertIn('error:"%s"' % rt["error"], self.cri.stdout)

    def test_eventlog_get_is_the_export_files_rotation(self):
        # as the agent was started: never by size, 3 backups, no interval
        self.assertEqual(self.eventlog.returncode, 0, self.eventlog.stderr)
        self.assertEqual(self.eventlog.stdout, 'Current logging parameters: max_size:0 rotation_interval:"0s" '
                                               'max_backups:3 compress:false file:"%s"\n' % self.export)

    def test_cgtracker_and_cri_cgroup_path_find_a_containers_cgroup(self):
        self.assertEqual(self.cgtracker.returncode, 0, self.cgtracker.stderr)
        self.assertIn("%d %s %s" % (self.cg_ino, CONTAINER, self.cg_rel),
                      [" ".join(line.split()) for line in self.cgtracker.stdout.splitlines()])
        self.assertEqual(self.cri_path.stdout, self.cg_rel + "\n", self.cri_path.stderr)
        self.assertEqual(self.cri_nopath.returncode, 1)
        self.assertIn("names container " + "f" * 64, self.cri_nopath.stderr)

    def test_tty_encode_writes_only_that_ttys_bytes_raw(self):
        import base64

        def write(path, data):
            return json.dumps({"process_kprobe": {"process": {"pid": 7, "binary": "/bin/sh"},
                                                  "function_name": "tty_write",
                                                  "args": [{"file_arg": {"path": path}},
                                                           {"bytes_arg": base64.b64encode(data).decode()}]},
                               "node_name": "n", "time": "2026-12-06T00:00:00Z"})
        lines = [write("/dev/pts/9", b"hello \x1b[1mtty\x1b[0m\r\n"), write("/dev/pts/8", b"other tty"),
                 self.export_text.splitlines()[0], write("/dev/pts/9", b"$ ")]
        path = os.path.join(self.tmp, "tty.json")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        for flag in ("-t", "--tty-encode"):
            r = subprocess.run([vh.VIGIL, "getevents", flag, "/dev/pts/9", "--input", path], capture_output=True,
                               timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout, b"hello \x1b[1mtty\x1b[0m\r\n$ ")
        r = subprocess.run([vh.VIGIL, "getevents", "-t", "/dev/pts/1", "--input", path], capture_output=True, timeout=60)
        self.assertEqual(r.stdout, b"")

    def test_json_shapes_are_tetras_key_for_key(self):
        """Each command's JSON against what tetra prints: the keys and value types a tetra
        script reads are there; vigil's extra keys only where tetra's reader ignores them."""
        # tracingpolicy list -o json: protojson (UseProtoNames) of ListTracingPoliciesResponse:
        # a strict reader refuses unknown keys, so no key outside TracingPolicyStatus/HookStatus
        status_keys = {"id", "name", "namespace", "info", "sensors", "enabled", "filter_id", "error", "state",
                       "kernel_memory_bytes", "mode", "stats", "domain", "hook_statuses"}
        doc = json.loads(self.listing.stdout)
        self.assertEqual(set(doc), {"policies"})
        for p in doc["policies"] + json.loads(self.listing_scoped.stdout)["policies"]:
            self.assertLessEqual(set(p), status_keys, p)
            for k in ("id", "kernel_memory_bytes"):         # uint64: protojson strings
                if k in p:
                    self.assertRegex(p[k], r"^[0-9]+$")
            self.assertRegex(p["state"], r"^TP_STATE_[A-Z_]+$")
            # tetra's sensor names: generic_<kind> of each kind of hook, once
            self.assertEqual(sorted(p["sensors"]), sorted({"generic_" + h["hook_description"].split()[0]
                                                           for h in p["hook_statuses"]}), p)
            self.assertIn(p["mode"], ("TP_MODE_ENFORCE", "TP_MODE_MONITOR"))
            seen = {}
            for h in p["hook_statuses"]:
                self.assertLessEqual(set(h), {"section", "state", "hook_description", "hook_idx"}, h)
                # the spec's section, and the hook's place in it (as tetra)
                self.assertIn(h["section"], ("kprobes", "tracepoints", "lsmhooks", "uprobes", "usdts"), h)
                self.assertEqual(h["hook_idx"], seen.get(h["section"], 0), h)
                seen[h["section"]] = h["hook_idx"] + 1
        scoped = json.loads(self.listing_scoped.stdout)["policies"]
        self.assertEqual([p.get("namespace") for p in scoped if p["name"] == "t17-scoped"], ["team-a"])
        self.assertEqual([p.get("namespace") for p in scoped if p["name"] == "file-prefix"], [None])
        # info: tetra prints its GetInfo decoded into a Go struct with encoding/json
        info = json.loads(self.info.stdout)
        self.assertEqual(info["Name"], "vigil")
        self.assertEqual(info["Version"], info["version"])
        self.assertEqual(info["Build"], {"GoVersion": "", "Commit": "", "Time": "", "Modified": ""})
        self.assertEqual(info["Conf"], {})
        self.assertTrue(all(isinstance(v, bool) for v in info["Probes"].values()))
        self.assertTrue(info["Probes"]["tp_btf"])
        self.assertEqual(info["Probes"]["fmodret"], info["Probes"]["fmod_ret"])
        self.assertEqual(info["Probes"]["signal"], info["Probes"]["bpf_send_signal"])
        # debug maps -o json: tetra's MapsChecksOutput (encoding/json, snake_case tags)
        maps = json.loads(self.maps_json.stdout)
        self.assertLessEqual({"total_memlock_bytes", "maps_stats", "aggregated_maps"}, set(maps))
        self.assertEqual(set(maps["total_memlock_bytes"]), {"all_maps"})
        for a in maps["aggregated_maps"]:
            self.assertLessEqual({"name", "type", "key_size", "value_size", "max_entries", "count", "memlock_bytes",
                                  "total_memlock_bytes", "percent_of_total"}, set(a))
            self.assertIsInstance(a["percent_of_total"], float)
        # status -o json: tetra has no JSON status; its health_status is GetHealthStatusResponse's
        st = json.loads(self.status_json.stdout)
        self.assertEqual(st["health_status"], [{"event": "HEALTH_STATUS_TYPE_STATUS",
                                                "status": "HEALTH_STATUS_RUNNING", "details": "running"}])
        # probe: tetra's "name: bool" lines (its probe names where vigil probes the same thing)
        r = vigil("probe")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = dict(line.split(": ") for line in r.stdout.splitlines())
        self.assertTrue(set(lines.values()) <= {"true", "false"}, lines)
        self.assertEqual(lines["signal"], lines["bpf_send_signal"])
        self.assertEqual({k: v == "true" for k, v in lines.items()}, info["Probes"])
        pj = json.loads(vigil("probe", "-o", "json").stdout)["probes"]
        self.assertEqual({p["name"]: p["enabled"] for p in pj}, {k: v for k, v in info["Probes"].items()
                                                                  if k not in ("fmodret", "signal")})
        self.assertTrue(all(p["reason"] for p in pj))

    def test_man_page_lists_every_command_and_long_flag_the_help_prints(self):
        import re
        with open(os.path.join(os.path.dirname(__file__), "..", "..", "man", "vigil.8")) as f:
            man = re.sub(r"\\f[BIRP]", "", f.read().replace("\\-", "-"))
        top = vigil("--help").stdout.splitlines()
        commands = [line.split()[0] for line in top[top.index("commands:") + 1:] if line.strip()]
        self.assertIn("policytest", commands)
        # refused getevents flags another change documents (CEL, TLS)
        elsewhere = {"--cel-expression", "--tls-"}
        for cmd in commands:
            self.assertRegex(man, r"\b%s\b" % re.escape(cmd), cmd)
            h = vigil(cmd, "--help")
            for flag in set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", h.stdout + h.stderr)) - elsewhere:
                self.assertIn(flag, man, (cmd, flag))

    def test_probe_config_prints_the_kernels_bpf_options_as_built(self):
        import gzip
        r = vigil("probe", "config")
        self.assertEqual(r.returncode, 0, r.stderr)
        got = dict(line.split("=", 1) for line in r.stdout.splitlines())
        path = "/proc/config.gz" if os.path.exists("/proc/config.gz") else "/boot/config-" + os.uname().release
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt") as f:
            built = dict(line.strip().split("=", 1) for line in f if line.startswith("CONFIG_") and "=" in line)
        self.assertIn("CONFIG_BPF_SYSCALL", got)
        self.assertIn("CONFIG_KPROBES", got)
        for name, value in got.items():
            self.assertEqual(value, built.get(name, "n"), name)
        self.assertEqual(vigil("probe", "nonsense").returncode, 2)

    def test_explain_prints_the_fields_vigils_parser_takes_as_tetra_explain(self):
        r = vigil("explain", "tracingpolicy.spec.kprobes")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[:5], ["KIND:     TracingPolicy", "VERSION:  v1alpha1", "", "FIELD:    kprobes <[]object>", ""])
        self.assertEqual(lines[5], "FIELDS:")
        self.assertIn("   call\t<string> -required-", lines)
        self.assertIn("   selectors\t<[]object>", lines)
        # tetra's bracket notation and short names, the same answer
        self.assertEqual(vigil("explain", "tp[spec][kprobes]").stdout, r.stdout)
        # a refused field says why, as the parser does when a policy uses it
        spec = vigil("explain", "tp.spec").stdout
        self.assertIn("   nodeSelector\t<value>\n     refused by vigil: vigil runs without Kubernetes", spec)
        doc = json.loads(vigil("explain", "tpn.spec.kprobes.selectors", "-o", "json", "-R").stdout)
        self.assertEqual(doc["kind"], "TracingPolicyNamespaced")
        acts = next(f for f in doc["fields"] if f["name"] == "matchActions")
        self.assertEqual(acts["type"], "[]object")
        self.assertIn({"name": "action", "type": "string", "required": True, "has_fields": False, "refused": None,
                       "ignored": False}, acts["fields"])
        self.assertIn("TracingPolicyNamespaced  tpn", vigil("explain", "--list").stdout)
        bad = vigil("explain", "tp.spec.nosuch")
        self.assertEqual(bad.returncode, 1)
        self.assertIn('field "nosuch" not found in TracingPolicy.spec', bad.stderr)
        self.assertIn("unsupported resource: pod", vigil("explain", "pod.spec").stderr)

    def test_bugtool_archive_has_what_a_report_needs(self):
        self.assertEqual(self.bugtool.returncode, 0, self.bugtool.stderr)
        with tarfile.open(self.bugtool_path) as tar:
            names = {os.path.basename(n) for n in tar.getnames()}
            status = json.load(tar.extractfile("./status.json"))
            progs = json.load(tar.extractfile("./bpftool-prog.json"))
        for name in ("status.json", "status.txt", "policies.json", "versions.txt", "probe.txt", "bpftool-prog.json",
                     "bpftool-map.json", "log.txt", "uname.txt"):
            self.assertIn(name, names)
        self.assertIn("counters", status)
        self.assertTrue(progs)


if __name__ == "__main__":
    vh.main()
