"""Host lane: a hook's prefilter (bpf/prefilter.h) never drops a call a selector matches.

The prefilter rejects calls from their raw arguments before the hook reads or records
anything: a selector's integer filters, then the first 8 bytes of one string argument
against its Prefix / Equal values. Here an unprivileged user (nobody) opens paths chosen to
sit on its edges: values shorter than, exactly and longer than 8 bytes; paths sharing a
value's first 8 bytes but not the value; paths the value is a prefix of; the right path
with the wrong flags; relative paths, `//`, and a symlink to a watched file (the policy
language matches the argument as the call passed it, so none of those match, with or
without the prefilter); an empty path and an unreadable pointer; and paths whose last byte,
the NUL, ends a page that unmapped memory follows (the dispatcher copies a path's first 8
bytes as they are, and that copy faults on such a short one: it reads the string again, as
the string it is). The same calls run under
two agents, one with the prefilter (the default) and one with VIGIL_PREFILTER=off, on a
tracepoint hook and on a `syscall: true` kprobe (its syscall's tracepoint here): the events
must be the same, and exactly the ones the selectors define.

On this kernel openat's hooks sit in the raw_syscalls dispatcher, which runs their
prefilters itself, from its one copy of the registers, and tail-calls only the hooks that
pass (bpf/lib/syscall_prefilter.h): its integer checks are the filters' values rewritten as
ranges, so two more hooks test them on openat's dirfd (ignored by the kernel for an
absolute path, so any value goes): GT, LT, InRange, NotEqual, signed, with the register's
upper 32 bits set (an int is its low 32 bits, sign-extended). pf-int's row holds all of its
checks (the dispatcher's verdict is final); pf-int5 has one check too many for a row (the
dispatcher lets more through, and the hook prefilters itself too).
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


INT_SELECTORS = """\
- matchArgs:            # E: signed GT
  - index: 5
    operator: "GT"
    values: ["1000"]
  - index: 6
    operator: "Prefix"
    values: ["/vpfi"]
- matchArgs:            # F: signed LT
  - index: 5
    operator: "LT"
    values: ["-5000"]
  - index: 6
    operator: "Prefix"
    values: ["/vpfi"]
- matchArgs:            # G: InRange (pf-int5: and NotEqual)
  - index: 5
    operator: "InRange"
    values: ["200:300"]{extra}
  - index: 6
    operator: "Prefix"
    values: ["/vpfi"]
- matchArgs:            # H: NotEqual, a list
  - index: 5
    operator: "NotEqual"
    values: ["-100", "7"]
  - index: 6
    operator: "Prefix"
    values: ["/vpfj"]
"""
NOT_250 = """
  - index: 5
    operator: "NotEqual"
    values: ["250"]"""


def int_policy(name, extra):
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
            - index: 5
              type: "int"
            - index: 6
              type: "string"
            selectors:
        """ % name) + textwrap.indent(INT_SELECTORS.format(extra=extra), "    ")


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
    return {"pf-tp": tp, "pf-kp": kp, "pf-int": int_policy("pf-int", ""), "pf-int5": int_policy("pf-int5", NOT_250)}


HI = 0xffffffff << 32  # upper bits an int argument ignores


def int_cases():
    """(dirfd register, path, pf-int matches, pf-int5 matches) on absolute paths."""
    return [
        (1001, "/vpfi/x", True, True),             # E
        (1000, "/vpfi/x", False, False),           # GT is strict
        (HI | 1001, "/vpfi/x", True, True),        # E on the low 32 bits
        (0x7fffffff, "/vpfi/x", True, True),       # E: INT_MAX
        (0x80000000, "/vpfi/x", True, True),       # INT_MIN: F, not E
        (-5001, "/vpfi/x", True, True),            # F
        (-5000, "/vpfi/x", False, False),          # LT is strict
        (-100, "/vpfi/x", False, False),           # AT_FDCWD: none
        (200, "/vpfi/x", True, True),              # G's ends
        (300, "/vpfi/x", True, True),
        (250, "/vpfi/x", True, False),             # G; not for pf-int5 (NotEqual 250)
        (199, "/vpfi/x", False, False),
        (301, "/vpfi/x", False, False),
        (1001, "/vpfj/x", True, True),             # H (and not E: another path)
        (8, "/vpfj/x", True, True),                # H
        (7, "/vpfj/x", False, False),              # H's values
        (-100, "/vpfj/x", False, False),
        (HI | 7, "/vpfj/x", False, False),         # 7 in an int
        (250, "/vpfk/x", False, False),            # no selector's path
    ]


def as_int(reg):
    """What an int argument records of a register: its low 32 bits, signed."""
    v = reg & 0xffffffff
    return v - (1 << 32) if v & 0x80000000 else v


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
        ("/", ["/v"], TRUNC, True),                # D, its NUL last before unmapped memory
        ("/", ["/vpf/a"], W, True),                # A, the same
        ("/", ["/vpf/"], W, False),
        ("/", ["/etc/sha"], 0, False),             # 8 bytes, then the NUL, then unmapped
        ("/", ["/etc/shadow"], 0, True),           # C, crossing nothing but ending there
    ]


def as_passed(path):
    """The path a case's call passes: [path] is the same one, placed before unmapped memory."""
    return path[0] if isinstance(path, list) else path


CHILD = r"""
import ctypes, json, mmap, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
# two pages, the second unmapped: [path] ends the first with its NUL
edge = mmap.mmap(-1, 2 * mmap.PAGESIZE)
base = ctypes.addressof(ctypes.c_char.from_buffer(edge))
if libc.munmap(ctypes.c_void_p(base + mmap.PAGESIZE), ctypes.c_size_t(mmap.PAGESIZE)):
    sys.exit("munmap: %d" % ctypes.get_errno())
for cwd, dirfd, path, flags in json.loads(sys.argv[1]):
    os.chdir(cwd)
    if isinstance(path, list):
        b = path[0].encode() + b"\0"
        edge[mmap.PAGESIZE - len(b):mmap.PAGESIZE] = b
        p = ctypes.c_void_p(base + mmap.PAGESIZE - len(b))
    else:
        p = ctypes.c_char_p(path.encode()) if path is not None else ctypes.c_void_p(8)
    # openat (257) with the whole register as given; fails as nobody mostly: still seen
    fd = libc.syscall(ctypes.c_long(257), ctypes.c_long(dirfd), p, ctypes.c_long(flags), ctypes.c_long(0o600))
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
        calls = [[c[0], -100, c[1], c[2]] for c in cls.cases]  # AT_FDCWD
        calls += [["/", reg if reg < (1 << 63) else reg - (1 << 64), path, 0] for reg, path, _, _ in int_cases()]
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
        """(policy, first argument, second argument) of every policy event of pid, sorted: path
        and flags (pf-tp, pf-kp), dirfd and path (pf-int, pf-int5)."""
        seen = []
        for e in events:
            ev = e.get("process_tracepoint") or e.get("process_kprobe")
            if not ev or ev["process"]["pid"] != pid or not ev["policy_name"].startswith("pf-"):
                continue
            a = [next(iter(x.values())) for x in ev["args"][:2]]
            seen.append((ev["policy_name"], a[0], a[1]))
        return sorted(seen)

    def test_hooks_loaded(self):
        pols = {p["name"]: p for p in self.status["policies"]}
        for name in ("pf-tp", "pf-kp", "pf-int", "pf-int5"):
            self.assertIn(name, pols, self.status)
            self.assertEqual(pols[name]["state"], "enabled", pols[name])

    def test_exactly_the_calls_the_selectors_match(self):
        want = sorted((pol, as_passed(path), flags) for pol in ("pf-tp", "pf-kp")
                      for _, path, flags, hit in self.cases if hit)
        self.assertEqual([e for e in self.seen["on"] if e[0] in ("pf-tp", "pf-kp")], want)

    def test_integer_checks_in_the_dispatcher(self):
        for pol, col in (("pf-int", 2), ("pf-int5", 3)):
            want = sorted((pol, as_int(c[0]), c[1]) for c in int_cases() if c[col])
            self.assertEqual([e for e in self.seen["on"] if e[0] == pol], want)

    def test_same_events_without_the_prefilter(self):
        self.assertEqual(self.seen["on"], self.seen["off"])


if __name__ == "__main__":
    vh.main()
