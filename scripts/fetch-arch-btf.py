#!/usr/bin/env python3
"""fetch-arch-btf.py - another architecture's kernel BTF and syscall numbers, from Debian 12.

Cross-compiling the BPF objects (-DVIGIL_BPF_ARCH=arm64) needs that architecture's BTF, for
vmlinux.h, and its asm/unistd.h, for the syscall table. Debian ships both: the BTF inside the
kernel image of linux-image-<version>-arm64 (CONFIG_DEBUG_INFO_BTF; the arm64 Image is not an
ELF file, so the blob is found by its header), asm/unistd.h in linux-libc-dev. This fetches the
two packages with a private apt state in the output directory, so the host's dpkg
architectures and package lists stay as they are, and keeps only:

    OUT/vmlinux.btf                     raw BTF, for -DVIGIL_VMLINUX_BTF
    OUT/include/asm/unistd.h            for -DVIGIL_UNISTD_H
    OUT/.complete                       the kernel package it came from

A complete OUT is reused as it is (delete it to refetch). Exit status: 0 done, 1 failure,
77 the packages cannot be fetched (no apt or no mirror).

    scripts/fetch-arch-btf.py --arch arm64 --out build/arch-arm64
"""
import argparse
import glob
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

EXIT_UNAVAILABLE = 77
# struct btf_header (include/uapi/linux/btf.h): magic 0xeB9F, version 1, flags 0, hdr_len 24,
# then type_off, type_len, str_off, str_len, offsets counted from the end of the header
BTF_HEADER = struct.Struct("<HBBIIIII")
BTF_MAGIC_BYTES = b"\x9f\xeb\x01\x00\x18\x00\x00\x00"
DEBIAN_ARCH = {"arm64": ("arm64", "aarch64-linux-gnu")}


class Unavailable(Exception):
    """The packages cannot be fetched here."""


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def apt_options(state, arch):
    """apt-get/apt-cache options for a private apt state that knows only arch's packages."""
    opts = ["-o", "APT::Architecture=" + arch, "-o", "APT::Architectures::=" + arch,
            "-o", "Dir::State::Lists=" + os.path.join(state, "lists"),
            "-o", "Dir::Cache=" + os.path.join(state, "cache"),
            "-o", "Dir::State::status=/dev/null", "-o", "Debug::NoLocking=1"]
    if os.geteuid() == 0:
        opts += ["-o", "APT::Sandbox::User=root"]  # root writes into a dir _apt cannot
    return opts


def apt(tool, opts, args, cwd=None):
    if not shutil.which(tool):
        raise Unavailable("%s not found" % tool)
    for pause in (0, 15, 45):  # a mirror connection refused once often works a little later
        time.sleep(pause)
        try:
            r = run([tool, "-q"] + opts + args, cwd=cwd, timeout=600)
        except subprocess.TimeoutExpired:
            raise Unavailable("%s %s: no answer from the mirror within 600 s" % (tool, " ".join(args)))
        if r.returncode == 0:
            break
    if r.returncode != 0:
        raise Unavailable("%s %s failed: %s" % (tool, " ".join(args), (r.stderr or r.stdout).strip()[-400:]))
    return r.stdout


def find_btf(image):
    """The largest well-formed BTF blob in a kernel image, as bytes."""
    best = b""
    i = image.find(BTF_MAGIC_BYTES)
    while i >= 0:
        if i + BTF_HEADER.size <= len(image):
            _, _, _, hdr_len, type_off, type_len, str_off, str_len = BTF_HEADER.unpack_from(image, i)
            end = i + hdr_len + max(type_off + type_len, str_off + str_len)
            if str_len and end <= len(image) and image[i + hdr_len + str_off] == 0 and end - i > len(best):
                best = image[i:end]
        i = image.find(BTF_MAGIC_BYTES, i + 1)
    return best


def extract(deb, member, dest):
    """Write one member of a .deb's data archive to dest."""
    tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE)
    with open(dest, "wb") as out:
        r = subprocess.run(["tar", "-xO", "--wildcards", member], stdin=tar.stdout, stdout=out,
                           stderr=subprocess.PIPE)
    tar.stdout.close()
    if tar.wait() != 0 or r.returncode != 0 or os.path.getsize(dest) == 0:
        raise RuntimeError("%s: no %s in it (%s)" % (deb, member, r.stderr.decode().strip()))


def fetch(arch, out):
    """Fill out (see the module doc); returns the kernel package's name."""
    if os.path.exists(os.path.join(out, ".complete")):
        with open(os.path.join(out, ".complete")) as f:
            return f.read().strip()
    deb_arch, triplet = DEBIAN_ARCH[arch]
    state = os.path.join(out, "apt-" + deb_arch)
    for d in ("lists/partial", "cache/archives/partial"):
        os.makedirs(os.path.join(state, d), exist_ok=True)
    opts = apt_options(state, deb_arch)
    apt("apt-get", opts, ["update"])
    depends = apt("apt-cache", opts, ["depends", "linux-image-" + deb_arch])
    kernel = next((w for w in depends.split() if w.startswith("linux-image-") and w[12:13].isdigit()), None)
    if not kernel:
        raise Unavailable("apt-cache knows no versioned package behind linux-image-" + deb_arch)
    tmp = tempfile.mkdtemp(prefix=".fetch-", dir=out)
    try:
        apt("apt-get", opts, ["download", kernel, "linux-libc-dev"], cwd=tmp)
        kdeb = glob.glob(os.path.join(tmp, kernel + "_*.deb"))[0]
        hdeb = glob.glob(os.path.join(tmp, "linux-libc-dev_*.deb"))[0]
        image = os.path.join(tmp, "vmlinuz")
        extract(kdeb, "./boot/vmlinuz-*", image)
        with open(image, "rb") as f:
            btf = find_btf(f.read())
        if not btf:
            raise RuntimeError("%s: no BTF in its kernel image" % kernel)
        with open(os.path.join(out, "vmlinux.btf"), "wb") as f:
            f.write(btf)
        os.makedirs(os.path.join(out, "include", "asm"), exist_ok=True)
        extract(hdeb, "./usr/include/%s/asm/unistd.h" % triplet, os.path.join(out, "include", "asm", "unistd.h"))
        with open(os.path.join(out, ".complete"), "w") as f:
            f.write(kernel + "\n")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(state, ignore_errors=True)  # package lists and .debs: ~80 MB
    return kernel


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", choices=sorted(DEBIAN_ARCH), required=True)
    ap.add_argument("--out", required=True, help="directory for vmlinux.btf and include/asm/unistd.h")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    try:
        kernel = fetch(a.arch, a.out)
    except Unavailable as e:
        print("fetch-arch-btf: %s" % e, file=sys.stderr)
        return EXIT_UNAVAILABLE
    except (RuntimeError, OSError) as e:
        print("fetch-arch-btf: %s" % e, file=sys.stderr)
        return 1
    print("fetch-arch-btf: %s BTF and syscall numbers from %s in %s" % (a.arch, kernel, a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
