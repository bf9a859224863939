"""Host lane: a consumer written for Tetragon's JSON reads vigil's export without an error.

The reader is protobuf's own strict JSON parser (Debian's python3-protobuf, json_format.Parse
with ignore_unknown_fields=False: an unknown key, a wrong type, an unknown enum name or a bad
timestamp fails the line) over GetEventsResponse, from tests/host/tetragon_events.proto
compiled here by Debian's protoc. The agent runs every shipped policy and Lua rule, plus a
policy in monitor mode, with its default --export-vigil-events (their own file); the test
makes execs, exits, signals, file opens, a ptrace, a capability raise, a connect, a dropped
binary (a Lua alert), a monitored would-be kill, a USDT probe (process_usdt) and, with the
loader sensor on for a moment (it reports every mapping on the machine), mapped binaries and
libraries (process_loader), then parses every line of the export.
"""
import importlib
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

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("VIGIL_SOURCE_DIR", os.path.join(HERE, "..", ".."))
POLICIES = os.path.join(SOURCE, "rules", "policies")
RULES = os.path.join(SOURCE, "rules", "lua")
MARKER = os.path.join(vh.PROGS, "marker")
CAPRAISE = os.path.join(vh.PROGS, "capraise")
USDT = os.path.join(vh.PROGS, "usdt_target")
PY = sys.executable

MONITORED = """apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "strict-monitored"
spec:
  options:
  - name: policy-mode
    value: monitor
  tracepoints:
  - subsystem: sched
    event: sched_process_exec
    raw: true
    args:
    - index: 2
      type: linux_binprm
    selectors:
    - matchArgs:
      - index: 2
        operator: Postfix
        values: ["/vigil-strict-monitored"]
      matchActions:
      - action: Sigkill
"""

# process_usdt from the test program's probe, and process_loader (the loader sensor) for
# what dynamically linked programs map
USDT_AND_LOADER = """apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "strict-usdt-loader"
spec:
  loader: true
  usdts:
  - path: "%s"
    provider: "vigiltest"
    name: "probe2"
    args:
    - index: 0
      type: "int32"
    - index: 1
      type: "int64"
""" % USDT

# Tetragon's documented example, RE2's (?:...) groups and \s/\S included, for the marker only
REDACTION = {"binary_regex": ["/marker$"], "redact": [r"(?:--password|-p)(?:\s+|=)(\S*)"]}


def compile_schema(out):
    """protoc the schema into out; return the module. Fails (not skips) without the tools:
    they are listed in scripts/deps.d/tetracompat.txt."""
    subprocess.run(["protoc", "-I", HERE, "-I", "/usr/include", "--python_out", out,
                    os.path.join(HERE, "tetragon_events.proto")], check=True)
    sys.path.insert(0, out)
    return importlib.import_module("tetragon_events_pb2")


def run(*argv, **kw):
    return subprocess.run(list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)


@vh.require_root
class StrictReader(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        from google.protobuf import json_format
        cls.json_format = json_format
        t = cls.tmp = tempfile.mkdtemp(prefix="vigil-strict-")
        os.chmod(t, 0o755)
        cls.pb = compile_schema(t)
        monitored = os.path.join(t, "monitored.yaml")
        with open(monitored, "w") as f:
            f.write(MONITORED)

        cls.export = os.path.join(t, "events.json")
        cls.own = os.path.join(t, "events.vigil.json")
        stage = tempfile.mkdtemp(prefix="vigil-strict-", dir="/tmp")
        os.chmod(stage, 0o755)
        with vh.Agent("--tracing-policy-dir", POLICIES, "--rules-dir", RULES, "--tracing-policy", monitored,
                      # never rotated: every line is read back; ancestors make lines long, and
                      # other agents' tests exec a lot meanwhile
                      "--export-file", cls.export, "--export-file-max-size-mb", "0",
                      "--enable-ancestors", "base,tracepoint",
                      "--username-metadata", "unix", "--enable-process-cred",
                      "--redaction-filters", json.dumps(REDACTION), outputs=()) as agent:
            cls.policies = agent.status()["policies"]
            run("sh", "-c", "cat /etc/hostname; echo x > /etc/vigil-strict-test; rm -f /etc/vigil-strict-test")
            run("sh", "-c", "kill -TERM $$")                     # an exit by signal
            run("sh", "-c", "exit 3")                            # an exit status
            victim = subprocess.Popen(["sleep", "5"])
            run(PY, "-c", "import ctypes; ctypes.CDLL(None).ptrace(16, %d, 0, 0)" % victim.pid)
            victim.kill()
            victim.wait()
            run(PY, "-c", "import ctypes; ctypes.CDLL(None).syscall(321, 5, 0, 0)")
            run(PY, "-c", "import socket; s = socket.socket(); s.settimeout(0.2); s.connect_ex(('127.0.0.1', 9))")
            capexe = os.path.join(t, "capraise")
            shutil.copy(CAPRAISE, capexe)
            subprocess.run(["setcap", "cap_sys_admin+p", capexe], check=True)
            run(capexe)
            dropped = os.path.join(stage, "dropped")          # dropped_binary.lua: write, then exec
            shutil.copy(MARKER, dropped)
            os.chmod(dropped, 0o755)
            run(dropped, os.path.join(stage, "dropped.ran"))
            cls.suid = os.path.join(stage, "vigil-strict-suid")      # binary_properties: setuid
            shutil.copy(MARKER, cls.suid)
            os.chown(cls.suid, 65534, 65534)
            os.chmod(cls.suid, 0o4755)
            run(cls.suid, os.path.join(stage, "suid.ran"))
            # an unlinked binary: a memfd holding the marker, executed through /proc/self/fd
            run(PY, "-c", "import os; fd = os.memfd_create('vigil-strict-memfd', 0); "
                "os.write(fd, open(%r, 'rb').read()); os.execv('/proc/self/fd/%%d' %% fd, ['m', %r])"
                % (MARKER, os.path.join(stage, "memfd.ran")))
            # secrets on a command line: redacted for the marker, as they are for any other binary not
            cls.redacted_ran = os.path.join(stage, "redacted.ran")
            run(MARKER, cls.redacted_ran, "--password=hunter2", "-p", "s3cret", "--user", "bob")
            run("sh", "-c", "true --password=visible", "vigil-strict-redact")
            # in_init_tree: a pid namespace's init and its children are in it; a process that
            # entered the namespace with setns (nsenter, as kubectl exec does) is not
            cls.tree_ran = os.path.join(stage, "tree.ran")
            cls.entered_ran = os.path.join(stage, "entered.ran")
            ns = subprocess.Popen(["unshare", "-pf", "sh", "-c", "%s %s; exec sleep 5" % (MARKER, cls.tree_ran)])
            init = None
            for _ in range(100):
                kids = open("/proc/%d/task/%d/children" % (ns.pid, ns.pid)).read().split()
                if kids and os.path.exists(cls.tree_ran):
                    init = int(kids[0])
                    break
                time.sleep(0.05)
            run("nsenter", "-t", str(init), "-p", MARKER, cls.entered_ran)
            ns.kill()
            ns.wait()
            # process_credentials' securebits (NO_SETUID_FIXUP survives exec) and user_ns (unshare -U)
            cls.secbits_ran = os.path.join(stage, "secbits.ran")
            run(PY, "-c", "import ctypes, os; assert ctypes.CDLL(None).prctl(28, 4, 0, 0, 0) == 0; "
                "os.execv(%r, [%r, %r])" % (MARKER, MARKER, cls.secbits_ran))
            cls.userns_ran = os.path.join(stage, "userns.ran")
            run("unshare", "-U", MARKER, cls.userns_ran)
            # the loader sensor only while two programs run: it reports every process's mappings
            added = agent.add_policy_files(t, {"usdt-loader.yaml": USDT_AND_LOADER})["usdt-loader.yaml"]
            assert added.returncode == 0, added.stderr
            run(USDT, "1")                                       # process_usdt
            run("/bin/sh", "-c", "true")                         # dynamically linked: process_loader
            # off again as soon as both kinds are exported (its records must be read first)
            for _ in range(200):
                with open(cls.export) as f:
                    text = f.read()
                if '"strict-usdt-loader"' in text and '{"process_loader"' in text:
                    break
                time.sleep(0.05)
            subprocess.run([vh.VIGIL, "tracingpolicy", "delete", "strict-usdt-loader", "--control", agent.control],
                           check=True, capture_output=True)
            mon = os.path.join(stage, "vigil-strict-monitored")
            shutil.copy(MARKER, mon)
            os.chmod(mon, 0o755)
            cls.monitored_rc = run(mon, os.path.join(stage, "monitored.ran")).returncode
            time.sleep(1.5)
            agent.stop()
        shutil.rmtree(stage, ignore_errors=True)
        with open(cls.export) as f:
            cls.lines = [line for line in f.read().splitlines() if line.strip()]
        cls.own_lines = []
        if os.path.exists(cls.own):
            with open(cls.own) as f:
                cls.own_lines = [line for line in f.read().splitlines() if line.strip()]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def kinds(self):
        return {next(iter(json.loads(line))) for line in self.lines}

    def test_every_export_line_parses_strictly(self):
        self.assertGreater(len(self.lines), 20)
        bad = []
        for line in self.lines:
            try:
                self.json_format.Parse(line, self.pb.GetEventsResponse(), ignore_unknown_fields=False)
            except self.json_format.ParseError as e:
                bad.append("%s\n    %s" % (e, line[:400]))
        self.assertEqual(bad, [], "%d of %d lines refused:\n%s" % (len(bad), len(self.lines), "\n".join(bad[:5])))

    def test_the_export_holds_the_kinds_the_test_made(self):
        self.assertEqual(len(self.policies), len([p for p in os.listdir(POLICIES) if p.endswith(".yaml")]) + 1)
        for kind in ("process_exec", "process_exit", "process_tracepoint", "process_loader", "process_usdt"):
            self.assertIn(kind, self.kinds())

    def test_a_parsed_event_keeps_its_values(self):
        """Parsing is not vacuous: the message read back holds what the line said."""
        for line in self.lines:
            ev = json.loads(line)
            if "process_exit" in ev and ev["process_exit"].get("signal") == "SIGTERM":
                m = self.json_format.Parse(line, self.pb.GetEventsResponse())
                self.assertEqual(m.process_exit.signal, "SIGTERM")
                self.assertEqual(m.process_exit.process.pid.value, ev["process_exit"]["process"]["pid"])
                self.assertEqual(m.node_name, ev["node_name"])
                return
        self.fail("no exit by SIGTERM in the export")

    def test_loader_and_usdt_events_parse_with_their_values(self):
        """ProcessLoader and ProcessUsdt as Tetragon defines them, values read back."""
        loaders = [line for line in self.lines if line.startswith('{"process_loader"')]
        usdts = [line for line in self.lines if '"strict-usdt-loader"' in line and "process_usdt" in line]
        self.assertTrue(loaders, "no process_loader line")
        self.assertTrue(usdts, "no process_usdt line")
        m = self.json_format.Parse(usdts[0], self.pb.GetEventsResponse())
        self.assertEqual((m.process_usdt.provider, m.process_usdt.name, m.process_usdt.path),
                         ("vigiltest", "probe2", USDT))
        self.assertEqual(m.process_usdt.policy_name, "strict-usdt-loader")
        self.assertEqual(len(m.process_usdt.args), 2)
        with_id = [line for line in loaders if '"buildid"' in line]
        self.assertTrue(with_id, "no process_loader line with a build id")
        m = self.json_format.Parse(with_id[0], self.pb.GetEventsResponse())
        self.assertTrue(m.process_loader.path.startswith("/"), m.process_loader.path)
        self.assertEqual(len(m.process_loader.buildid), 20)     # GNU build id: SHA-1
        self.assertEqual(m.process_loader.process.pid.value, json.loads(with_id[0])["process_loader"]["process"]["pid"])

    def test_the_monitored_would_be_kill_is_there_without_vigil_fields(self):
        self.assertEqual(self.monitored_rc, 0)   # monitor mode: not killed
        hits = [json.loads(line)["process_tracepoint"] for line in self.lines
                if '"strict-monitored"' in line and "process_tracepoint" in line]
        self.assertTrue(hits)
        self.assertEqual(hits[0]["action"], "KPROBE_ACTION_SIGKILL")
        self.assertNotIn("monitored", hits[0])

    def test_ancestors_and_user_names_are_there_when_asked(self):
        execs = [json.loads(line)["process_exec"] for line in self.lines if line.startswith('{"process_exec"')]
        mine = [e for e in execs if e["process"].get("binary") == "/usr/bin/dash"
                or e["process"].get("binary", "").endswith("/sh")]
        self.assertTrue(any(e.get("ancestors") for e in execs))
        self.assertTrue(any(e["process"].get("user") == {"name": "root"} for e in mine or execs))
        with_anc = next(e for e in execs if e.get("ancestors"))
        # the first ancestor is the parent's parent
        self.assertEqual(with_anc["ancestors"][0]["exec_id"], with_anc["parent"]["parent_exec_id"])

    def test_binary_properties_of_setuid_and_unlinked_execs(self):
        execs = [json.loads(line)["process_exec"]["process"] for line in self.lines
                 if line.startswith('{"process_exec"')]
        suid = next(p for p in execs if p.get("binary") == self.suid)
        self.assertEqual(suid["binary_properties"], {"setuid": 65534,
                                                     "privileges_changed": ["PRIVILEGES_RAISED_EXEC_FILE_SETUID"]})
        memfd = [p for p in execs if p.get("arguments", "").endswith("/memfd.ran")]
        self.assertTrue(memfd, "no memfd exec")
        self.assertEqual(memfd[0]["binary_properties"]["file"]["inode"]["links"], 0)
        # the kernel's d_path of a memfd (Tetragon reports it so), not the pseudo root "/"
        self.assertEqual(memfd[0]["binary"], "/memfd:vigil-strict-memfd (deleted)")

    def test_redaction_filters_hide_capture_groups_of_the_binaries_named(self):
        execs = [json.loads(line)["process_exec"]["process"] for line in self.lines
                 if line.startswith('{"process_exec"')]
        marker = [p for p in execs if p.get("arguments", "").startswith(self.redacted_ran)]
        self.assertTrue(marker, "no exec of the marker with secrets")
        self.assertEqual(marker[0]["arguments"], self.redacted_ran + " --password=***** -p ***** --user bob")
        self.assertNotIn("hunter2", "\n".join(self.lines))
        # binary_regex decides: sh is not the marker, its argument stays
        self.assertTrue(any("--password=visible" in p.get("arguments", "") for p in execs))

    def test_in_init_tree_tells_the_init_tree_from_a_setns_entry(self):
        execs = [json.loads(line)["process_exec"]["process"] for line in self.lines
                 if line.startswith('{"process_exec"')]
        tree = next(p for p in execs if p.get("arguments") == self.tree_ran)
        entered = next(p for p in execs if p.get("arguments") == self.entered_ran)
        self.assertIs(tree["in_init_tree"], True)
        self.assertIs(entered["in_init_tree"], False)
        # both in the new pid namespace; host processes carry no in_init_tree
        self.assertEqual(tree["ns"]["pid"]["inum"], entered["ns"]["pid"]["inum"])
        self.assertTrue(all("in_init_tree" not in p for p in execs if p.get("ns", {}).get("pid", {}).get("is_host")))

    def test_process_credentials_carry_securebits_caps_and_user_ns(self):
        execs = [json.loads(line)["process_exec"]["process"] for line in self.lines
                 if line.startswith('{"process_exec"')]
        sec = next(p for p in execs if p.get("arguments") == self.secbits_ran)["process_credentials"]
        self.assertEqual(sec["securebits"], ["SecBitNoSetUidFixup"])
        self.assertIn("CAP_SYS_ADMIN", sec["caps"]["effective"])
        self.assertEqual(sec["user_ns"]["level"], 0)
        self.assertTrue(sec["user_ns"]["ns"]["is_host"])
        uns = next(p for p in execs if p.get("arguments") == self.userns_ran)["process_credentials"]
        self.assertNotIn("securebits", uns)
        self.assertEqual(uns["user_ns"]["level"], 1)
        self.assertEqual((uns["user_ns"]["uid"], uns["user_ns"]["gid"]), (0, 0))    # root made it
        self.assertNotIn("is_host", uns["user_ns"]["ns"])
        self.assertNotEqual(uns["user_ns"]["ns"]["inum"], sec["user_ns"]["ns"]["inum"])

    def test_vigil_kinds_went_to_their_own_file(self):
        self.assertNotIn("process_alert", self.kinds())
        own = {next(iter(json.loads(line))) for line in self.own_lines}
        self.assertIn("process_alert", own)

    def test_the_strict_reader_refuses_what_tetragon_does_not_know(self):
        """The check can fail: vigil's own kinds and fields are refused by this reader."""
        for line in self.own_lines[:1] + ['{"process_exec":{"process":{"pid":1}},"monitored":true}']:
            with self.assertRaises(self.json_format.ParseError):
                self.json_format.Parse(line, self.pb.GetEventsResponse(), ignore_unknown_fields=False)


class EveryForm(unittest.TestCase):
    """Every form the encoder has (encode_forms: each argument type as args and as data,
    unreadable ones, return values, each event kind, a process with every field) and the
    encoder's golden files, through the same strict reader. Needs no root."""

    @classmethod
    def setUpClass(cls):
        from google.protobuf import json_format
        cls.json_format = json_format
        cls.tmp = tempfile.mkdtemp(prefix="vigil-strict-forms-")
        cls.pb = compile_schema(cls.tmp)
        out = subprocess.run([os.path.join(vh.PROGS, "encode_forms")], capture_output=True, text=True, check=True)
        cls.forms = out.stdout.splitlines()
        golden = os.path.join(SOURCE, "tests", "unit", "golden")
        cls.golden = {}
        for name in sorted(os.listdir(golden)):
            if name.endswith(".json"):
                with open(os.path.join(golden, name)) as f:
                    cls.golden[name] = f.read().strip()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def parse_all(self, lines):
        bad = []
        for name, line in lines:
            try:
                self.json_format.Parse(line, self.pb.GetEventsResponse(), ignore_unknown_fields=False)
            except self.json_format.ParseError as e:
                bad.append("%s: %s" % (name, e))
        return bad

    def test_every_encoder_form_parses_strictly(self):
        self.assertEqual(len(self.forms), 24)
        self.assertEqual(self.parse_all(("line %d" % (i + 1), l) for i, l in enumerate(self.forms)), [])

    def test_the_forms_cover_every_argument_key(self):
        text = "\n".join(self.forms)
        for key in ("int_arg", "uint_arg", "long_arg", "size_arg", "string_arg", "bytes_arg",
                    "truncated_bytes_arg", "file_arg", "path_arg", "linux_binprm_arg", "sock_arg",
                    "sockaddr_arg", "sockaddrun_arg", "process_credentials_arg", "capability_arg",
                    "kernel_cap_t_arg", "cap_inheritable_arg", "cap_permitted_arg", "cap_effective_arg",
                    "syscall_id", "error_arg", '"data":[', '"return":{', '"ancestors":[', '"user":{"name":"root"}',
                    '"binary_properties":{"setuid":0,"setgid":0,"privileges_changed":["PRIVILEGES_RAISED_EXEC_FILE_SETUID",'
                    '"PRIVILEGES_RAISED_EXEC_FILE_SETGID"],"file":{"inode":{"number":"99","links":0}}}'):
            self.assertIn('"%s' % key if not key.startswith('"') else key, text)

    def test_every_golden_file_parses_strictly(self):
        self.assertGreaterEqual(len(self.golden), 7)
        self.assertEqual(self.parse_all(self.golden.items()), [])


class RedactionRefusals(unittest.TestCase):
    """--redaction-filters that would leak or do nothing stop vigild before it starts, with the
    reason. Needs no root: options are read first."""

    def refused(self, text):
        r = subprocess.run([vh.VIGILD, "--redaction-filters", text], capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 2, r.stderr)
        return r.stderr

    def test_bad_filters_are_refused_with_the_reason(self):
        self.assertIn("no capture group", self.refused(json.dumps({"redact": [r"--password=\S+"]})))
        self.assertIn("(?:...)", self.refused('{"redact":["(?i)(secret)"]}'))
        self.assertIn("unknown key 'redacts'", self.refused('{"redacts":["(x)"]}'))
        self.assertIn("needs \"redact\"", self.refused('{"binary_regex":["x"]}'))
        self.assertIn("bad regex", self.refused('{"redact":["(a"]}'))
        self.assertIn("only binary_regex", self.refused('{"match":{"pid":[1]},"redact":["(a)"]}'))
        self.assertIn("filter 2", self.refused('{"redact":["(a)"]}\n{"redact":[]}'))


if __name__ == "__main__":
    vh.main()
