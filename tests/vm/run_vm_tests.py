#!/usr/bin/env python3
"""run_vm_tests.py - the vm lane: boot Debian 12's stock cloud kernel under qemu (TCG) and run
tests/vm/cases/*.sh inside it.

Steps: fetch the kernel package once (apt-get download + dpkg-deb -x into a cache under the
build tree; never installed on the host), pack an initramfs (busybox, vigil's binaries, every
shared library they need, jq, the cases), boot it, and judge the cases by the "VMTEST" lines
the guest prints on its serial console. See tests/vm/README.md.

Exit status: 0 all cases passed, 1 failure, 77 skipped (a prerequisite is missing outside CI;
in CI, env CI=true, a missing prerequisite is a failure).
"""
import argparse
import fnmatch
import glob
import io
import os
import re
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("VIGIL_SOURCE_DIR", os.path.normpath(os.path.join(HERE, "..", "..")))
EXIT_SKIP = 77
META_PACKAGE = "linux-image-cloud-amd64"
# the command line DESIGN.md measured: BPF LSM needs "bpf" in lsm=; panic=-1 reboots at once
# on a panic, and -no-reboot turns that reboot into a qemu exit
APPEND = "console=ttyS0 lsm=lockdown,capability,bpf panic=-1 quiet"
GUEST_LIBDIR = "/usr/lib/x86_64-linux-gnu"
GUEST_ROOT = "/opt/vigil"
HIDDEN = ("tmp", "run", "proc", "sys", "dev")  # /init mounts over these
TAIL_LINES = 80


def in_ci():
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


class Missing(Exception):
    """A prerequisite of the lane is missing: skip outside CI, fail in CI."""


def log(msg):
    print("vm: " + msg, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


# --- the kernel ---------------------------------------------------------------------------

def kernel_package():
    """The versioned image package the meta package depends on today, or None."""
    if not shutil.which("apt-cache"):
        return None
    r = run(["apt-cache", "depends", META_PACKAGE])
    m = re.search(r"Depends:\s*(linux-image-[0-9]\S*)", r.stdout)
    return m.group(1) if m else None


def apt_update():
    if os.geteuid() != 0:
        return False
    log("apt-get update (package lists missing or stale)")
    try:
        return run(["apt-get", "update", "-qq"], timeout=600).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def cached_kernels(cache):
    found = []
    for d in glob.glob(os.path.join(cache, "linux-image-*")):
        if os.path.exists(os.path.join(d, ".complete")):
            found.append((os.path.getmtime(os.path.join(d, ".complete")), d))
    return [d for _, d in sorted(found, reverse=True)]


def fetch(cmd, cwd):
    try:
        return run(cmd, cwd=cwd, timeout=600)
    except subprocess.TimeoutExpired:
        raise Missing("%s: no answer from the mirror within 600 s" % " ".join(cmd))


def download_kernel(pkg, cache):
    """apt-get download + dpkg-deb -x into cache/<pkg>/, keeping boot/ and lib/modules/."""
    for tool in ("apt-get", "dpkg-deb"):
        if not shutil.which(tool):
            raise Missing("%s not found (needed to fetch the kernel package)" % tool)
    os.makedirs(cache, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".fetch-", dir=cache)
    try:
        cmd = ["apt-get", "download", "-q"]
        if os.geteuid() == 0:
            cmd += ["-o", "APT::Sandbox::User=root"]  # root downloads into a dir _apt cannot write
        r = fetch(cmd + [pkg], tmp)
        if r.returncode != 0 and apt_update():
            r = fetch(cmd + [pkg], tmp)
        debs = glob.glob(os.path.join(tmp, "*.deb"))
        if r.returncode != 0 or not debs:
            raise Missing("apt-get download %s failed: %s" % (pkg, (r.stderr or r.stdout).strip()[-400:]))
        root = os.path.join(tmp, "root")
        r = run(["dpkg-deb", "-x", debs[0], root])
        if r.returncode != 0:
            raise RuntimeError("dpkg-deb -x %s failed: %s" % (debs[0], r.stderr.strip()))
        dest = os.path.join(tmp, "kernel")
        os.makedirs(dest)
        shutil.move(os.path.join(root, "boot"), os.path.join(dest, "boot"))
        mods = glob.glob(os.path.join(root, "lib", "modules", "*")) + \
            glob.glob(os.path.join(root, "usr", "lib", "modules", "*"))
        if mods:
            shutil.move(mods[0], os.path.join(dest, "modules"))
        with open(os.path.join(dest, ".complete"), "w") as f:
            f.write(os.path.basename(debs[0]) + "\n")
        final = os.path.join(cache, pkg)
        shutil.rmtree(final, ignore_errors=True)
        os.rename(dest, final)
        return final
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class Kernel:
    def __init__(self, vmlinuz, modules=None, name=None):
        self.vmlinuz = vmlinuz
        self.modules = modules if modules and os.path.isdir(modules) else None
        self.name = name or os.path.basename(vmlinuz)


def find_kernel(cache):
    """VIGIL_VM_KERNEL if set, else the cached or freshly fetched stock cloud kernel."""
    override = os.environ.get("VIGIL_VM_KERNEL")
    if override:
        if not os.path.isfile(override):
            raise Missing("VIGIL_VM_KERNEL=%s is not a file" % override)
        return Kernel(override)
    pkg = kernel_package()
    if not pkg and apt_update():
        pkg = kernel_package()
    d = None
    if pkg and os.path.exists(os.path.join(cache, pkg, ".complete")):
        d = os.path.join(cache, pkg)
    elif pkg:
        t = time.monotonic()
        log("fetching %s (apt-get download, once; cached in %s)" % (pkg, cache))
        try:
            d = download_kernel(pkg, cache)
            log("fetched and unpacked in %.1f s" % (time.monotonic() - t))
            for old in cached_kernels(cache):
                if old != d:  # superseded by today's package
                    shutil.rmtree(old, ignore_errors=True)
        except Missing as e:
            older = cached_kernels(cache)
            if not older:
                raise
            log("%s; using the cached %s" % (e, os.path.basename(older[0])))
            d = older[0]
    else:
        older = cached_kernels(cache)
        if not older:
            raise Missing("apt-cache does not know %s (no Debian 12 package lists?) and nothing is cached in %s"
                          % (META_PACKAGE, cache))
        d = older[0]
        log("apt-cache does not name a kernel; using the cached %s" % os.path.basename(d))
    vmlinuz = glob.glob(os.path.join(d, "boot", "vmlinuz-*"))
    if not vmlinuz:
        raise RuntimeError("no vmlinuz in %s" % d)
    return Kernel(vmlinuz[0], os.path.join(d, "modules"), os.path.basename(d))


# --- the initramfs ------------------------------------------------------------------------

class Cpio:
    """An in-memory newc archive: entries are created root-owned whatever the caller is, and
    device nodes need no mknod."""

    def __init__(self):
        self.entries = {}  # guest path -> (mode, data bytes, rdev major, rdev minor)

    def _parents(self, path):
        parent = os.path.dirname(path)
        if parent not in ("/", "") and parent not in self.entries:
            self.dir(parent)

    def dir(self, path, mode=0o755):
        self._parents(path)
        if path not in self.entries:
            self.entries[path] = (stat.S_IFDIR | mode, b"", 0, 0)

    def file(self, path, data, mode=0o644):
        self._parents(path)
        old = self.entries.get(path)
        if old and (not stat.S_ISREG(old[0]) or old[1] != data):
            raise RuntimeError("initramfs: two different files for %s" % path)
        self.entries[path] = (stat.S_IFREG | mode, data, 0, 0)

    def copy(self, host_path, path, mode=None):
        with open(host_path, "rb") as f:
            data = f.read()
        self.file(path, data, mode if mode is not None else stat.S_IMODE(os.stat(host_path).st_mode))

    def symlink(self, path, target):
        self._parents(path)
        self.entries[path] = (stat.S_IFLNK | 0o777, target.encode(), 0, 0)

    def node(self, path, mode, major, minor):
        self._parents(path)
        self.entries[path] = (mode, b"", major, minor)

    def write(self, out):
        def pad(n):
            return b"\0" * ((4 - n % 4) % 4)

        # parents before children: sorting by path does that
        for ino, path in enumerate(sorted(self.entries) + ["TRAILER!!!"], start=1):
            if path == "TRAILER!!!":
                mode, data, ma, mi, name = 0, b"", 0, 0, b"TRAILER!!!\0"
            else:
                mode, data, ma, mi = self.entries[path]
                name = path.lstrip("/").encode() + b"\0"
            hdr = "070701" + "".join("%08x" % v for v in (
                ino, mode, 0, 0, 1, 0, len(data), 0, 0, ma, mi, len(name), 0))
            out.write(hdr.encode() + name + pad(110 + len(name)))
            out.write(data + pad(len(data)))


def guest_path(host_path):
    """Where a host file goes in the guest, whose / is merged-usr (/bin -> usr/bin, ...)."""
    p = os.path.normpath(host_path)
    for top in ("/bin", "/sbin", "/lib", "/lib64", "/lib32"):
        if p == top or p.startswith(top + "/"):
            return "/usr" + p
    return p


def is_elf(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def shared_libs(binary, libpath=None):
    """(name, host path) of every library ldd resolves for binary, loader included; libpath:
    directories searched first (libraries of packages unpacked, not installed)."""
    env = None
    if libpath:
        env = dict(os.environ, LD_LIBRARY_PATH=":".join(libpath))
    r = run(["ldd", binary], env=env)
    if "not a dynamic executable" in r.stdout + r.stderr or "statically linked" in r.stdout:
        return []
    if r.returncode != 0:
        raise RuntimeError("ldd %s failed: %s" % (binary, r.stderr.strip()))
    libs = []
    for line in r.stdout.splitlines():
        line = line.strip()
        m = re.match(r"(\S+) => (\S+) \(0x", line)
        if m:
            libs.append((m.group(1), m.group(2), False))
            continue
        if "=> not found" in line:
            raise RuntimeError("ldd %s: %s" % (binary, line))
        m = re.match(r"(/\S+) \(0x", line)
        if m:  # the dynamic loader, wanted at its exact PT_INTERP path
            libs.append((os.path.basename(m.group(1)), m.group(1), True))
    return libs


class Initramfs:
    def __init__(self):
        self.cpio = Cpio()
        self.libs = {}

    def add_elf(self, host_path, dest, libpath=None):
        self.cpio.copy(os.path.realpath(host_path), dest)
        for name, path, is_loader in shared_libs(host_path, libpath):
            # libraries go flat into a directory the loader searches without ld.so.cache; the
            # build tree's libvigil.so.0 too, since the RUNPATH into the build tree is gone
            to = guest_path(path) if is_loader else GUEST_LIBDIR + "/" + name
            real = os.path.realpath(path)
            if self.libs.setdefault(to, real) != real:
                raise RuntimeError("initramfs: %s wanted from both %s and %s" % (to, self.libs[to], real))
            self.cpio.copy(real, to, 0o755)

    def add_tree(self, host_dir, dest):
        for root, dirs, files in os.walk(host_dir):
            dirs.sort()
            rel = os.path.relpath(root, host_dir)
            for f in sorted(files):
                src = os.path.join(root, f)
                to = os.path.normpath(os.path.join(dest, rel, f))
                if is_elf(src) and os.access(src, os.X_OK):
                    self.add_elf(src, to)
                else:
                    self.cpio.copy(src, to)


# the parts of Debian's python3 stdlib a case never needs (vm-python): tests, the static library
# and its build files, GUI and packaging tools, installed third-party packages
PYTHON_SKIP = ("test", "idlelib", "tkinter", "turtledemo", "lib2to3", "ensurepip", "pydoc_data",
               "dist-packages", "site-packages", "venv")
# extension modules left out with them: the libraries they pull (libcrypto, libdb, libsqlite3,
# ncurses) would double the python's share of the initramfs
PYTHON_SKIP_EXT = ("_ssl", "_hashlib", "_dbm", "_gdbm", "_sqlite3", "_curses", "_curses_panel",
                   "readline", "nis", "_crypt", "_tkinter")


def add_python(ir, python):
    """Debian's python3 (not a pyenv shim) and its standard library, at their host paths."""
    exe = os.path.realpath(python)
    if not is_elf(exe):
        raise Missing("vm-python: %s is not an ELF executable (a shim? name /usr/bin/python3)" % python)
    ir.add_elf(exe, "/usr/bin/python3")
    ver = os.path.basename(exe)  # python3.11
    stdlib = "/usr/lib/" + ver
    if not os.path.isfile(os.path.join(stdlib, "os.py")):
        raise Missing("vm-python: no standard library in %s" % stdlib)
    for root, dirs, files in os.walk(stdlib):
        dirs[:] = sorted(d for d in dirs if not (root == stdlib and (d in PYTHON_SKIP or d.startswith("config-"))))
        for f in sorted(files):
            src = os.path.join(root, f)
            if os.path.islink(src) and not os.path.exists(src):
                continue
            if f.endswith(".so") and is_elf(src):
                mod = f.split(".")[0]
                if mod in PYTHON_SKIP_EXT or mod.startswith(("_test", "xx", "_xx", "_ctypes_test")):
                    continue
                try:  # an extension whose libraries this host lacks is left out, not fatal
                    shared_libs(src)
                except RuntimeError:
                    continue
                ir.add_elf(src, src)
            else:
                ir.cpio.copy(src, src)


def deb_version(pkg):
    r = run(["apt-cache", "show", "--no-all-versions", pkg]) if shutil.which("apt-cache") else None
    m = re.search(r"^Version:\s*(\S+)", r.stdout, re.M) if r else None
    return m.group(1).replace(":", "%3a") if m else None


def fetch_deb(pkg, cache):
    """A Debian package's files, never installed: apt-get download + dpkg-deb -x into
    cache/debs/<pkg>_<version>/ (once), as for the kernel. Returns that directory."""
    base = os.path.join(cache, "debs")
    ver = deb_version(pkg)
    if ver and os.path.exists(os.path.join(base, "%s_%s" % (pkg, ver), ".complete")):
        return os.path.join(base, "%s_%s" % (pkg, ver))
    if not ver:  # no package lists: whatever version is cached
        old = sorted(glob.glob(os.path.join(base, pkg + "_*", ".complete")))
        if old:
            return os.path.dirname(old[-1])
        raise Missing("vm-deb: apt-cache does not know %s and nothing is cached in %s" % (pkg, base))
    for tool in ("apt-get", "dpkg-deb"):
        if not shutil.which(tool):
            raise Missing("%s not found (needed to fetch %s)" % (tool, pkg))
    os.makedirs(base, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".fetch-", dir=base)
    try:
        cmd = ["apt-get", "download", "-q"]
        if os.geteuid() == 0:
            cmd += ["-o", "APT::Sandbox::User=root"]
        log("fetching %s %s (apt-get download, once; cached in %s)" % (pkg, ver, base))
        for attempt in range(3):  # on shared machines another agent's policy may deny a connect
            r = fetch(cmd + [pkg], tmp)
            if r.returncode == 0:
                break
            time.sleep(2)
        debs = glob.glob(os.path.join(tmp, "*.deb"))
        if r.returncode != 0 or not debs:
            raise Missing("apt-get download %s failed: %s" % (pkg, (r.stderr or r.stdout).strip()[-400:]))
        root = os.path.join(tmp, "root")
        r = run(["dpkg-deb", "-x", debs[0], root])
        if r.returncode != 0:
            raise RuntimeError("dpkg-deb -x %s failed: %s" % (debs[0], r.stderr.strip()))
        with open(os.path.join(root, ".complete"), "w") as f:
            f.write(os.path.basename(debs[0]) + "\n")
        final = os.path.join(base, "%s_%s" % (pkg, ver))
        shutil.rmtree(final, ignore_errors=True)
        os.rename(root, final)
        return final
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def add_debs(ir, pkgs, cache):
    """vm-deb: the programs (bin/, sbin/) and configuration (etc/) of packages unpacked from
    the mirror, at their paths in the guest; their libraries are found in the unpacked
    packages first, then on the host."""
    roots = [fetch_deb(p, cache) for p in pkgs]
    libpath = []
    for r in roots:
        for d in ("lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu"):
            if os.path.isdir(os.path.join(r, d)):
                libpath.append(os.path.join(r, d))
    for r in roots:
        for top in ("bin", "sbin", "usr/bin", "usr/sbin", "etc"):
            d = os.path.join(r, top)
            for root, dirs, files in os.walk(d):
                dirs.sort()
                for f in sorted(files):
                    src = os.path.join(root, f)
                    to = guest_path("/" + os.path.relpath(src, r))
                    if os.path.islink(src):
                        continue
                    if is_elf(src) and os.access(src, os.X_OK):
                        ir.add_elf(src, to, libpath)
                    else:
                        ir.cpio.copy(src, to)


def case_headers(path):
    """'# vm-KEY: values' lines at the top of a case file, as {KEY: [values]}."""
    heads = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"#\s*vm-([a-z]+):\s*(.*)", line)
            if m:
                heads.setdefault(m.group(1), []).extend(m.group(2).split())
            elif line.strip() and not line.startswith("#"):
                break
    return heads


def modinfo_depends(ko):
    """The depends= field of a module's .modinfo section (ELF64 little-endian, uncompressed)."""
    with open(ko, "rb") as f:
        elf = f.read()
    if elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
        raise RuntimeError("vm-modules: %s is not an uncompressed ELF64 module" % ko)
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3a)

    def section(i):
        name, _, _, _, off, size = struct.unpack_from("<IIQQQQ", elf, shoff + i * shentsize)
        return name, off, size

    _, stroff, _ = section(shstrndx)
    for i in range(shnum):
        name, off, size = section(i)
        if elf[stroff + name:elf.index(b"\0", stroff + name)] == b".modinfo":
            for field in elf[off:off + size].split(b"\0"):
                if field.startswith(b"depends="):
                    return [d for d in field[8:].decode().split(",") if d]
            return []
    return []


def module_closure(modules_dir, names):
    """Module files (relative to modules_dir) for names and what they depend on, in load order.
    The package ships no modules.dep (depmod writes it at install), so read each .modinfo."""
    def norm(n):
        return re.sub(r"\.ko$", "", os.path.basename(n)).replace("-", "_")

    files = {}
    for root, _, fs in os.walk(modules_dir):
        for f in fs:
            if f.endswith(".ko"):
                files[norm(f)] = os.path.relpath(os.path.join(root, f), modules_dir)
    builtin = set()
    p = os.path.join(modules_dir, "modules.builtin")
    if os.path.exists(p):
        with open(p) as f:
            builtin = {norm(line.strip()) for line in f}
    order = []

    def visit(name, wanted_by):
        key = norm(name)
        if key in builtin or files.get(key) in order:
            return
        if key not in files:
            raise RuntimeError("vm-modules: no module %s in %s (wanted by %s)" % (name, modules_dir, wanted_by))
        for d in modinfo_depends(os.path.join(modules_dir, files[key])):
            visit(d, key)
        order.append(files[key])

    for n in names:
        visit(n, "a case")
    return order


def build_initramfs(build, cases_dir, cases, kernel, out_path, ci, shell, cache, icount=False):
    """Pack the guest: busybox, jq, vigil's build tree, the cases and what their headers ask for."""
    ir = Initramfs()
    c = ir.cpio
    for top in ("bin", "sbin", "lib", "lib64"):
        c.symlink("/" + top, "usr/" + top)
    for d in ("/usr/bin", "/usr/sbin", "/usr/lib", "/usr/lib64", "/proc", "/sys", "/dev", "/run", "/tmp",
              "/root", "/mnt", "/etc", "/var"):
        c.dir(d, 0o1777 if d == "/tmp" else 0o755)
    c.symlink("/var/tmp", "/tmp")
    c.symlink("/var/run", "/run")
    # the kernel opens /dev/console for init before anything is mounted
    c.node("/dev/console", stat.S_IFCHR | 0o600, 5, 1)
    c.node("/dev/null", stat.S_IFCHR | 0o666, 1, 3)
    c.file("/etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
    c.file("/etc/group", b"root:x:0:\nnogroup:x:65534:\n")
    c.file("/etc/hostname", b"vm\n")

    busybox = shutil.which("busybox")
    ir.add_elf(busybox, "/usr/bin/busybox")
    c.symlink("/usr/bin/sh", "busybox")
    ir.add_elf(shutil.which("jq"), "/usr/bin/jq")
    c.copy(os.path.join(HERE, "init.sh"), "/init", 0o755)

    # vigil: the agent, the CLI and the test programs of the host and vm lanes
    for name in ("vigild", "vigil"):
        ir.add_elf(os.path.join(build, "core", "cli", name), GUEST_ROOT + "/bin/" + name)
    for lane in ("host", "vm"):
        d = os.path.join(build, "tests", lane)
        for f in sorted(glob.glob(os.path.join(d, "*")) + glob.glob(os.path.join(d, "progs", "*"))):
            if os.path.isfile(f) and os.access(f, os.X_OK) and is_elf(f):
                ir.add_elf(f, "%s/tests/%s/%s" % (GUEST_ROOT, lane, os.path.basename(f)))
    # the selector library's PROG_TEST_RUN test, for the stock kernel's verifier (case 20)
    for name in ("test_selectors_bpf",):
        f = os.path.join(build, "tests", "unit", name)
        if os.path.isfile(f):
            ir.add_elf(f, "%s/tests/unit/%s" % (GUEST_ROOT, name))
    for tree in ("rules", "lua"):
        if os.path.isdir(os.path.join(SOURCE, tree)):
            ir.add_tree(os.path.join(SOURCE, tree), GUEST_ROOT + "/" + tree)
    ir.add_tree(cases_dir, GUEST_ROOT + "/cases")
    # the policy corpus tool (case 50), and a corpus to measure it on (env VIGIL_VM_CORPUS:
    # a directory of policies nobody here wrote, e.g. Tetragon's examples; not in the tree)
    corpus_tool = os.path.join(SOURCE, "scripts", "policy-corpus.sh")
    if os.path.isfile(corpus_tool):
        c.copy(corpus_tool, GUEST_ROOT + "/bin/policy-corpus.sh", 0o755)
    corpus = os.environ.get("VIGIL_VM_CORPUS")
    if corpus:
        if not os.path.isdir(corpus):
            raise RuntimeError("VIGIL_VM_CORPUS %s is not a directory" % corpus)
        ir.add_tree(corpus, GUEST_ROOT + "/corpus")

    # what the chosen cases ask for in their headers
    modules = []
    for name, path in cases:
        heads = case_headers(path)
        for b in heads.get("bin", []):
            host = b if os.path.isabs(b) else shutil.which(b)
            if not host or not os.path.isfile(host):
                raise Missing("case %s wants program %s, not found on this machine" % (name, b))
            to = guest_path(host)
            if to.split("/")[1] in HIDDEN:
                raise RuntimeError("case %s: vm-bin %s would land under /%s, which the guest mounts over"
                                   % (name, b, to.split("/")[1]))
            if is_elf(host) and os.access(host, os.X_OK):
                ir.add_elf(host, to)
            else:
                c.copy(host, to)
        for rel in heads.get("build", []):
            host = os.path.join(build, rel)
            if not os.path.isfile(host):
                raise RuntimeError("case %s wants %s from the build tree: not built" % (name, host))
            to = os.path.normpath(GUEST_ROOT + "/build/" + rel)
            if is_elf(host) and os.access(host, os.X_OK):
                ir.add_elf(host, to)
            else:
                c.copy(host, to)
        for rel in heads.get("src", []):
            host = os.path.join(SOURCE, rel)
            if not os.path.isfile(host):
                raise RuntimeError("case %s wants %s from the source tree: no such file" % (name, host))
            c.copy(host, os.path.normpath(GUEST_ROOT + "/" + rel))
        if heads.get("python"):
            add_python(ir, heads["python"][0])
        if heads.get("deb"):
            add_debs(ir, heads["deb"], cache)
        for m in heads.get("modules", []):
            if m not in modules:
                modules.append(m)
    load = []
    if modules:
        if not kernel.modules:
            raise Missing("cases want kernel modules %s but this kernel has no module tree" % " ".join(modules))
        for rel in module_closure(kernel.modules, modules):
            c.copy(os.path.join(kernel.modules, rel), "/usr/lib/modules/" + rel, 0o644)
            load.append("/usr/lib/modules/" + rel)

    c.file("/etc/vmtest/cases", "".join(n + "\n" for n, _ in cases).encode())
    c.file("/etc/vmtest/modules", "".join(m + "\n" for m in load).encode())
    c.file("/etc/vmtest/timeouts", "".join(
        "%s %s\n" % (n, (case_headers(p).get("timeout") or ["180"])[0]) for n, p in cases).encode())
    # the size of the measuring cases (vm-optin), from the host's VMTEST_BENCH_* variables
    c.file("/etc/vmtest/env", "".join("export %s='%s'\n" % (k, v.replace("'", "'\\''"))
                                      for k, v in sorted(os.environ.items())
                                      if re.fullmatch(r"VMTEST_BENCH_[A-Z0-9_]+", k)).encode())
    c.file("/etc/vmtest/ci", b"1\n" if ci else b"0\n")
    c.file("/etc/vmtest/shell", b"1\n" if shell else b"0\n")
    c.file("/etc/vmtest/icount", b"1\n" if icount else b"0\n")  # guest time counts instructions

    tmp = out_path + ".tmp"
    with open(tmp, "wb") as f:
        c.write(f)  # uncompressed: under TCG the kernel would spend seconds inflating it
    os.replace(tmp, out_path)
    return os.path.getsize(out_path), len(c.entries)


# --- the boot -----------------------------------------------------------------------------

class Console:
    """Reads the guest's serial console (qemu's stdout) into a log file and a verdict table."""

    LINE = re.compile(r"VMTEST (\S+)(?: (START|PASS|FAIL|SKIP|INFO)\b ?(.*))?")

    def __init__(self, proc, log_path, t0):
        self.proc = proc
        self.t0 = t0
        self.log = open(log_path, "w", buffering=1, errors="replace")
        self.lines = []
        self.verdicts = {}   # case -> (verdict, reason)
        self.started = {}    # case -> host seconds since boot start
        self.finished = {}
        self.info = []
        self.booted = None
        self.done = None
        self.event = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for raw in io.TextIOWrapper(self.proc.stdout, errors="replace", newline=None):
            line = raw.rstrip("\r\n").replace("\r", "")
            self.log.write(line + "\n")
            self.lines.append(line)
            m = self.LINE.search(line)
            if not m:
                continue
            now = time.monotonic() - self.t0
            what, kind, rest = m.group(1), m.group(2), (m.group(3) or "").strip()
            if what == "BOOTED" and not kind:
                self.booted = now
            elif what == "DONE" and not kind:
                self.done = now
                self.event.set()
            elif kind == "START":
                self.started[what] = now
            elif kind == "INFO":
                self.info.append((what, rest))
            elif kind:
                self.verdicts[what] = (kind, rest)
                self.finished[what] = now
        self.event.set()

    def close(self):
        self.thread.join(timeout=5)
        self.log.close()


# --icount: the guest's clocks advance by the instructions it executes (one nanosecond each),
# not by host time, so what the guest measures is a count of its instructions: the same from
# run to run and blind to the host's load. Guest time then runs ~5x slower than the host's on
# our machines, and caches and memory are not modelled (every instruction costs the same)
ICOUNT = ["-icount", "shift=0,align=off,sleep=off"]


def qemu_command(kernel, initrd, smp, icount=False):
    cmd = ["qemu-system-x86_64", "-accel", "tcg", "-cpu", "max", "-m", "1024", "-smp", str(smp),
           "-nographic", "-no-reboot", "-nic", "none",
           "-kernel", kernel.vmlinuz, "-initrd", initrd, "-append", APPEND]
    return cmd + (ICOUNT if icount else []) + os.environ.get("VIGIL_VM_QEMU_ARGS", "").split()


def boot(cmd, log_path, timeout):
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    con = Console(proc, log_path, t0)
    finished = con.event.wait(timeout)
    if finished and con.done is not None:
        try:  # poweroff -f follows DONE at once
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    con.close()
    con.timed_out = not finished
    con.elapsed = time.monotonic() - t0
    return con


# --- the lane -----------------------------------------------------------------------------

def select_cases(cases_dir, patterns):
    cases = []
    for p in sorted(glob.glob(os.path.join(cases_dir, "*.sh"))):
        name = os.path.basename(p)[:-3]
        if name == "lib":
            continue
        if patterns and not any(fnmatch.fnmatch(name, pat) or name == pat for pat in patterns):
            continue
        optin = case_headers(p).get("optin")
        if optin and os.environ.get(optin[0], "") in ("", "0"):
            # long measurements, not tests: the default lane keeps its time
            log("%s left out: it runs only with %s=1" % (name, optin[0]))
            continue
        cases.append((name, p))
    return cases


def prerequisites(build):
    for tool, pkg in (("qemu-system-x86_64", "qemu-system-x86"), ("busybox", "busybox-static"),
                      ("jq", "jq"), ("ldd", "libc-bin")):
        if not shutil.which(tool):
            raise Missing("%s not found (Debian package %s; scripts/deps.sh installs it)" % (tool, pkg))
    for name in ("vigild", "vigil"):
        p = os.path.join(build, "core", "cli", name)
        if not os.access(p, os.X_OK):
            raise RuntimeError("%s not built (cmake --build %s)" % (p, build))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cases", nargs="*", help="case names or globs (default: all; env VIGIL_VM_CASES)")
    ap.add_argument("--build-dir", default=os.environ.get("VIGIL_BUILD_DIR", os.path.join(SOURCE, "build")))
    ap.add_argument("--cache-dir", help="kernel cache (default: env VIGIL_VM_CACHE or BUILD/vm-cache)")
    ap.add_argument("--cases-dir", default=os.path.join(HERE, "cases"),
                    help="where the cases and lib.sh are (default: tests/vm/cases)")
    ap.add_argument("--log", help="guest console log (default: BUILD/tests/vm/console.log)")
    ap.add_argument("--timeout", type=float, default=float(os.environ.get("VIGIL_VM_TIMEOUT", 540)),
                    help="seconds from boot to VMTEST DONE (default 540)")
    ap.add_argument("--smp", type=int, default=int(os.environ.get("VIGIL_VM_SMP", 1)))
    ap.add_argument("--icount", action="store_true",
                    default=os.environ.get("VIGIL_VM_ICOUNT", "") not in ("", "0"),
                    help="guest clocks count guest instructions (qemu -icount): measurements that repeat "
                         "whatever the host's load; slower (env VIGIL_VM_ICOUNT=1)")
    ap.add_argument("--shell", action="store_true",
                    help="interactive: after the cases, a shell on the console instead of power-off")
    args = ap.parse_args()

    build = os.path.abspath(args.build_dir)
    cache = os.path.abspath(args.cache_dir or os.environ.get("VIGIL_VM_CACHE") or os.path.join(build, "vm-cache"))
    work = os.path.join(build, "tests", "vm")
    os.makedirs(work, exist_ok=True)
    log_path = os.path.abspath(args.log or os.path.join(work, "console.log"))
    patterns = args.cases or os.environ.get("VIGIL_VM_CASES", "").replace(",", " ").split()
    ci = in_ci()
    t_lane = time.monotonic()

    cases_dir = os.path.abspath(args.cases_dir)
    cases = select_cases(cases_dir, patterns)
    if not cases:
        log("FAIL: no case matches %s in %s" % (" ".join(patterns) or "*", cases_dir))
        return 1
    try:
        prerequisites(build)
        kernel = find_kernel(cache)
        t = time.monotonic()
        initrd = os.path.join(work, "initramfs.cpio")
        size, count = build_initramfs(build, cases_dir, cases, kernel, initrd, ci, args.shell, cache,
                                      args.icount)
        log("kernel %s; initramfs %.1f MiB, %d entries, packed in %.2f s; cases: %s"
            % (kernel.name, size / 1048576, count, time.monotonic() - t, " ".join(n for n, _ in cases)))
    except Missing as e:
        if ci:
            log("FAIL: prerequisite missing in CI: %s" % e)
            return 1
        log("SKIP: %s" % e)
        return EXIT_SKIP

    cmd = qemu_command(kernel, initrd, args.smp, args.icount)
    if args.shell:
        return subprocess.call(cmd)
    log("booting: " + " ".join(cmd))
    con = boot(cmd, log_path, args.timeout)

    # judge: DONE seen, every chosen case reported, none failed (nor skipped in CI)
    problems = []
    if con.timed_out:
        problems.append("guest did not finish within %.0f s" % args.timeout)
    elif con.done is None:
        problems.append("guest stopped without reporting VMTEST DONE (panic, or init died?)")
    running = [n for n, _ in cases if n in con.started and n not in con.verdicts]
    if running and con.done is None:
        problems.append("the guest stopped while case %s was running" % running[-1])
    if con.booted is None:
        problems.append("guest never reported VMTEST BOOTED (kernel or initramfs did not come up)")
    for name, _ in cases:
        v = con.verdicts.get(name)
        took = ""
        if name in con.started and name in con.finished:
            took = " (%.1f s)" % (con.finished[name] - con.started[name])
        if v is None:
            problems.append("case %s did not report" % name)
            log("%-24s NO VERDICT" % name)
            continue
        log("%-24s %s%s%s" % (name, v[0], took, "  " + v[1] if v[1] else ""))
        if v[0] == "FAIL":
            problems.append("case %s failed: %s" % (name, v[1]))
        elif v[0] == "SKIP" and ci:
            problems.append("case %s skipped in CI: %s" % (name, v[1]))
    for name, text in con.info:
        log("info %s: %s" % (name, text))
    boot_s = "%.1f s" % con.booted if con.booted is not None else "n/a"
    log("timings: boot to init %s, guest run %.1f s, lane %.1f s; console log %s"
        % (boot_s, con.elapsed, time.monotonic() - t_lane, log_path))
    if problems:
        print("\n---- guest console, last %d lines (%s) ----" % (TAIL_LINES, log_path))
        print("\n".join(con.lines[-TAIL_LINES:]))
        print("----")
        for p in problems:
            log("FAIL: " + p)
        return 1
    log("PASS: %d case(s)" % len(cases))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as e:
        log("FAIL: %s" % e)
        sys.exit(1)
