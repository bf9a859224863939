"""Host lane: a hook's prefilter (bpf/prefilter.h) never drops a call a selector matches.

The prefilter rejects calls from their raw arguments before the hook reads or records
anything: a selector's integer filters, then the first 8 bytes of one string argument
against its Prefix / Equal values. Here an unprivileged user (nobody) opens paths chosen to
sit on its edges: values shorter than, exactly and longer than 8 bytes; paths sharing a
value's first 8 bytes but not the value; paths the value is a prefix of; the right path
with the wrong flags; relative paths, `//`, and a symlink to a watched file (the policy
language matches the argument as the call passed it, so none of those match, with or
without the prefilter); an empty path and an unreadable pointer. The same calls run under
two agents, one with the prefilter (the default) and one with VIGIL_PREFILTER=off, on a
tracepoint hook and on a `syscall: true` kprobe (its syscall's tracepoint here): the events
must be the same, and exactly the ones the selectors define.
"""
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import vigilhost as vh  # noqa: E402

NOBODY = 65534
SYSTEM_PYTHON = "/usr/bin/python3"  # readable by nobody (a pyenv under /root is not)
W, RW, CREAT, TRUNC = os.O_WRONLY, os.O_RDWR, os.O_CREAT, os.O_TRUNC

SELECTORS = """\
- matchArgs:            # A: a short and a long Prefix, written (Mask)
  - index: {s}
    operator: "Prefix"
    values: ["/vpf/a", "{deep}"]
  - index: {f}
    operator: "Mask"
    values: ["0x43"]
- matchArgs:            # B: Equal, longer than 8 bytes
  - index: {s}
    operator: "Equal"
    values: ["/vpfeq12345"]
- matchArgs:            # C: a Prefix longer than 8 bytes, any flags
  - index: {s}
    operator: "Prefix"
    values: ["/etc/shadow"]
- matchArgs:            # D: a 2-byte Equal, opened with O_TRUNC exactly
  - index: {s}
    operator: "Equal"
    values: ["/v"]
  - index: {f}
    operator: "Equal"
    values: ["{trunc}"]
"""


def policies(tmp):
    deep = tmp + "/deep/"
    tp = textwrap.dedent("""\
        apiVersion: cilium.io/v1alpha1
        kind: TracingPolicy
        metadata:
          name: "pf-tp"
        spec:
          options:
          - name: "file-watch"
            value: "syscall"
          tracepoints:
          - subsystem: "syscalls"
            event: "sys_enter_openat"
            args:
            - index: 6
              type: "string"
            - index: 7
              type: "int"
            selectors:
        """) + textwrap.indent(SELECTORS.format(s=6, f=7, deep=deep, trunc=TRUNC), "    ")
    kp = textwrap.dedent("""\
        apiVersion: cilium.io/v1alpha1
        kind: TracingPolicy
        metadata:
          name: "pf-kp"
        spec:
          kprobes:
          - call: "sys_openat"
            syscall: true
            args:
            - index: 1
              type: "string"
            - index: 2
              type: "int"
            selectors:
        """) + textwrap.indent(SELECTORS.format(s=1, f=2, deep=deep, trunc=TRUNC), "    ")
    return {"pf-tp": tp, "pf-kp": kp}


def cases(tmp):
    """(cwd, path, flags, matches): what the selectors define for each call."""
    return [
        ("/", "/vpf/a", W, True),                  # A: the short value itself
        ("/", "/vpf/ab", RW | CREAT, True),        # A: longer than the value
        ("/", "/vpf/", W, False),                  # shorter than the value
        ("/", "/vpf/a", 0, False),                 # right path, read only
        ("/", "/vpf/a", TRUNC, False),             # a flag outside the mask
        ("/", tmp + "/deep/x", W | CREAT, True),   # A: the long value
        ("/", tmp + "/deeq/x", W, False),          # shares far more than 8 bytes
        ("/", "/vpfeq12345", 0, True),             # B
        ("/", "/vpfeq1234", 0, False),             # B's first bytes, one short
        ("/", "/vpfeq123456", 0, False),           # B plus one
        ("/", "/etc/shadow", 0, True),             # C
        ("/", "/etc/shadow-", 0, True),            # C is a prefix of it
        ("/", "/etc/shadov", 0, False),            # C's first 8 bytes and more, not C
        ("/", "/etc/sha", 0, False),               # exactly C's first 8 bytes
        ("/", "/etc/shado", 0, False),
        ("/etc", "shadow", 0, False),              # relative: the argument as passed
        ("/tmp", "../etc/shadow", 0, False),
        ("/", "//etc/shadow", 0, False),
        ("/", tmp + "/link", 0, False),            # a symlink to /etc/shadow
        ("/", "/v", TRUNC, True),                  # D
        ("/", "/v", 0, False),                     # D's path, other flags
        ("/", "/v/", TRUNC, False),
        ("/", "", 0, False),                       # empty
        ("/", None, 0, False),                     # an unreadable pointer (EFAULT)
    ]


CHILD = r"""
import ctypes, json, os, sys
libc = ctypes.CDLL(None, use_errno=True)
for cwd, path, flags in json.loads(sys.argv[1]):
    os.chdir(cwd)
    p = ctypes.c_char_p(path.encode()) if path is not None else ctypes.c_void_p(8)
    fd = libc.openat(-100, p, flags, 0o600)   # AT_FDCWD; fails as nobody mostly: still seen
    if fd >= 0:
        os.close(fd)
print(os.getpid(), flush=True)
"""


def drop_to_nobody():
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


@vh.require_root
class Prefilter(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-pf-")
        os.chmod(cls.tmp, 0o755)
        os.symlink("/etc/shadow", os.path.join(cls.tmp, "link"))
        cls.cases = cases(cls.tmp)
        args = []
        for name, text in policies(cls.tmp).items():
            path = os.path.join(cls.tmp, name + ".yaml")
            with open(path, "w") as f:
                f.write(text)
            args += ["--tracing-policy", path]
        calls = [[c[0], c[1], c[2]] for c in cls.cases]
        cls.seen = {}
        for mode in ("on", "off"):
            env = dict(os.environ)
            if mode == "off":
                os.environ["VIGIL_PREFILTER"] = "off"
            try:
                with vh.Agent(*args, outputs=("json",)) as agent:
                    cls.status = agent.status()
                    out = subprocess.run([SYSTEM_PYTHON, "-c", CHILD, json.dumps(calls)], preexec_fn=drop_to_nobody,
                                         capture_output=True, text=True, check=True)
                    pid = int(out.stdout.split()[-1])
                    cls.seen[mode] = cls.calls_seen(agent.events("json"), pid)
            finally:
                os.environ.clear()
                os.environ.update(env)

    @staticmethod
    def calls_seen(events, pid):
        """(policy, path, flags) of every policy event of pid, sorted."""
        seen = []
        for e in events:
            ev = e.get("process_tracepoint") or e.get("process_kprobe")
            if not ev or ev["process"]["pid"] != pid or ev["policy_name"] not in ("pf-tp", "pf-kp"):
                continue
            path, flags = ev["args"][0].get("string_arg"), ev["args"][1].get("int_arg")
            seen.append((ev["policy_name"], path, flags))
        return sorted(seen)

    def test_hooks_loaded(self):
        pols = {p["name"]: p for p in self.status["policies"]}
        for name in ("pf-tp", "pf-kp"):
            self.assertIn(name, pols, self.status)
            self.assertEqual(pols[name]["state"], "enabled", pols[name])

    def test_exactly_the_calls_the_selectors_match(self):
        want = sorted((pol, path, flags) for pol in ("pf-tp", "pf-kp")
                      for _, path, flags, hit in self.cases if hit)
        self.assertEqual(self.seen["on"], want)

    def test_same_events_without_the_prefilter(self):
        self.assertEqual(self.seen["on"], self.seen["off"])


if __name__ == "__main__":
    vh.main()
