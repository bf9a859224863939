#!/usr/bin/env python3
"""test_bpf_arch.py - the BPF objects cross-compile for another architecture (arm64).

Fetches arm64's BTF and asm/unistd.h from Debian 12's packages once (scripts/fetch-arch-btf.py,
cached in the build tree), configures a second build tree with -DVIGIL_BPF_ARCH=arm64, builds
only the BPF objects and skeletons (target vigil_bpf_objects), then checks each object: a BPF
ELF file, built against arm64's struct pt_regs (no x86 register in its BTF), and its CO-RE
relocations resolve against arm64's kernel BTF to arm64's fields (bpftool gen min_core_btf
keeps exactly the types and members the relocations name). The x86 objects of the main build
are the control: the same check must refuse them. The arm64 syscall table is checked too.

    test_bpf_arch.py <source dir> <build dir>

Exit status: 0 pass, 1 fail, 77 skipped (the packages cannot be fetched, outside CI only).
"""
import glob
import os
import platform
import re
import subprocess
import sys

EXIT_SKIP = 77
ARCH = "arm64"
# arm64's struct pt_regs keeps the syscall number in syscallno and the first argument in
# orig_x0; its arguments are user_pt_regs.regs[] (libbpf's bpf_tracing.h, __TARGET_ARCH_arm64)
WANT_MEMBERS = {
    "dispatch": {"pt_regs": {"syscallno"}},
    "generic": {"pt_regs": {"syscallno", "orig_x0"}, "user_pt_regs": {"regs"}},
    "generic_strnstr": {"pt_regs": {"syscallno", "orig_x0"}, "user_pt_regs": {"regs"}},
}
X86_REGISTERS = ("orig_ax", "'di'", "'si'", "'r10'")


def in_ci():
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def log(msg):
    print("cross: " + msg, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def must(cmd, what, **kw):
    r = run(cmd, **kw)
    if r.returncode != 0:
        raise AssertionError("%s failed (%s): %s" % (what, " ".join(cmd), (r.stderr + r.stdout)[-2000:]))
    return r.stdout


def struct_members(btf_dump):
    """{struct name: {member names}} from `bpftool btf dump` (raw format) text."""
    out, current = {}, None
    for line in btf_dump.splitlines():
        m = re.match(r"\[\d+\] STRUCT '([^']*)'", line)
        if m:
            current = out.setdefault(m.group(1), set())
            continue
        m = re.match(r"\s+'([^']*)' type_id=", line)
        if m and current is not None:
            current.add(m.group(1))
        elif not line.startswith("\t"):
            current = None
    return out


def check_object(obj, btf, scratch):
    """The failures of one BPF object built for arm64, [] when it is one."""
    name = os.path.basename(obj)[:-len(".bpf.o")]
    problems = []
    if "file format elf64-bpf" not in must(["llvm-objdump", "-f", obj], "llvm-objdump"):
        problems.append("%s: not a BPF ELF object" % name)
    own = must(["bpftool", "btf", "dump", "file", obj], "bpftool btf dump")
    leaked = [r for r in X86_REGISTERS if r in own]
    if leaked:
        problems.append("%s: x86 registers in its BTF: %s" % (name, ", ".join(leaked)))
    minimal = os.path.join(scratch, name + ".min.btf")
    must(["bpftool", "gen", "min_core_btf", btf, minimal, obj], "bpftool gen min_core_btf")
    members = struct_members(must(["bpftool", "btf", "dump", "file", minimal], "bpftool btf dump"))
    for struct, want in WANT_MEMBERS.get(name, {}).items():
        missing = want - members.get(struct, set())
        if missing:
            problems.append("%s: its CO-RE relocations do not reach arm64's %s.%s" %
                            (name, struct, ",".join(sorted(missing))))
    return problems


def check_syscall_table(build):
    problems = []
    with open(os.path.join(build, "core", "sensors", "syscall_table.inc")) as f:
        table = dict(re.findall(r'\{"([a-z0-9_]+)", (\d+)\}', f.read()))
    # asm-generic numbering as arm64's asm/unistd.h selects it: fcntl is an alias there,
    # renameat is wanted, open and the 32-bit time64 calls do not exist
    want = {"openat": "56", "fcntl": "25", "renameat": "38", "execve": "221", "clone3": "435"}
    for name, nr in want.items():
        if table.get(name) != nr:
            problems.append("syscall table: %s is %s, arm64's is %s" % (name, table.get(name), nr))
    for name in ("open", "futex_time64", "syscalls"):
        if name in table:
            problems.append("syscall table: %s is not an arm64 syscall" % name)
    with open(os.path.join(build, "core", "sensors", "syscall_arch.h")) as f:
        if '"__arm64_sys_"' not in f.read():
            problems.append("syscall_arch.h: the wrappers' prefix is not __arm64_sys_")
    return problems


def main():
    source, main_build = sys.argv[1], sys.argv[2]
    cache = os.path.join(main_build, "arch-" + ARCH)
    r = subprocess.run([sys.executable, os.path.join(source, "scripts", "fetch-arch-btf.py"),
                        "--arch", ARCH, "--out", cache])
    if r.returncode == EXIT_SKIP and not in_ci():
        log("SKIP: %s's kernel packages cannot be fetched here (see above)" % ARCH)
        return EXIT_SKIP
    if r.returncode != 0:
        log("FAIL: fetching %s's BTF failed" % ARCH)
        return 1
    btf = os.path.join(cache, "vmlinux.btf")
    build = os.path.join(cache, "build")
    must(["cmake", "-S", source, "-B", build, "-DCMAKE_BUILD_TYPE=Release", "-DVIGIL_TESTS=OFF",
          "-DVIGIL_BPF_ARCH=" + ARCH, "-DVIGIL_VMLINUX_BTF=" + btf,
          "-DVIGIL_UNISTD_H=" + os.path.join(cache, "include", "asm", "unistd.h")], "configure")
    must(["cmake", "--build", build, "--target", "vigil_bpf_objects"], "building the BPF objects")

    sources = sorted(os.path.basename(p)[:-len(".bpf.c")] for p in glob.glob(os.path.join(source, "bpf", "*.bpf.c")))
    problems = []
    for name in sources:
        obj = os.path.join(build, "bpf-gen", name + ".bpf.o")
        if not os.path.exists(obj):
            problems.append("%s: no %s object" % (name, ARCH))
            continue
        found = check_object(obj, btf, cache)
        problems += found
        log("%s.bpf.o: %s" % (name, "; ".join(found) if found else "BPF ELF, arm64 CO-RE relocations"))
    # control: the main build's x86 objects must fail the same check
    control = os.path.join(main_build, "bpf-gen", "generic.bpf.o")
    if platform.machine() == "x86_64" and os.path.exists(control) and not check_object(control, btf, cache):
        problems.append("control: the x86 generic.bpf.o passes the arm64 check, so the check proves nothing")
    problems += check_syscall_table(build)
    for p in problems:
        log("FAIL: " + p)
    if not problems:
        log("%d BPF objects built for %s" % (len(sources), ARCH))
    return 1 if problems else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as e:
        log("FAIL: %s" % e)
        sys.exit(1)
