#!/usr/bin/env python3
"""Drop the line info from a BPF object, in place: btf_ext_drop_lines.py OBJCOPY OBJ.

libbpf copies an object's whole .BTF and .BTF.ext when it opens it and, when it loads a
program, that program's line info again (with its subprograms'), and keeps them all until the
object is closed. Line info is ~89% of .BTF.ext (16 bytes a source line) and the source lines
it quotes most of .BTF's strings: ~350 KB of the agent's heap per open hook object. The kernel
needs none of it to load or run a program (it only annotates verifier logs and `bpftool prog
dump` with source lines). Kept: the types, func_info and the CO-RE relocations, with the
strings they name (offsets renumbered). The .bpf.o the compiler wrote keeps its line info.
"""
import os
import struct
import subprocess
import sys
import tempfile

MAGIC = 0xEB9F
# BTF kinds whose btf_type is followed by vlen records: (record size, offset of a name_off in
# it or None); and those followed by one fixed-size part
VLEN_RECORDS = {4: (12, 0), 5: (12, 0), 6: (8, 0), 13: (8, 0), 15: (12, None), 19: (12, 0)}
FIXED_TAIL = {1: 4, 3: 12, 14: 4, 17: 4}
KNOWN_KINDS = set(range(1, 20))


def ext_parts(data):
    """.BTF.ext's header fields and its parts as (offset, length), relative to the header's end."""
    magic, _version, _flags, hdr_len = struct.unpack_from("<HBBI", data, 0)
    if magic != MAGIC:
        raise ValueError("not a .BTF.ext (magic %#x)" % magic)
    if hdr_len < 24 or hdr_len % 8:
        raise ValueError(".BTF.ext header length %d not understood" % hdr_len)
    fields = list(struct.unpack_from("<%dI" % ((hdr_len - 8) // 4), data, 8))
    return hdr_len, [(fields[i], fields[i + 1]) for i in range(0, len(fields), 2)]


def ext_without_lines(data):
    """The .BTF.ext bytes without line info: its length 0, the later parts moved up."""
    hdr_len, parts = ext_parts(data)
    body = data[hdr_len:]
    out, fields = bytearray(), []
    for k, (off, length) in enumerate(parts):
        if k == 1:	# line_info
            length = 0
        fields += [len(out), length]
        out += body[off:off + length]
    return data[:8] + struct.pack("<%dI" % len(fields), *fields) + bytes(out)


def ext_string_refs(data):
    """Where .BTF.ext names a .BTF string: byte offsets (in data) of each u32 string offset:
    every section name (func_info, core_relo) and each CO-RE relocation's access string."""
    hdr_len, parts = ext_parts(data)
    refs = []
    for k, (off, length) in enumerate(parts[:3]):
        if not length:
            continue
        pos, end = hdr_len + off, hdr_len + off + length
        rec_size = struct.unpack_from("<I", data, pos)[0]
        pos += 4
        while pos < end:
            num = struct.unpack_from("<I", data, pos + 4)[0]
            refs.append(pos)
            if k == 2:	# core_relo: insn_off, type_id, access_str_off, kind
                refs += [pos + 8 + i * rec_size + 8 for i in range(num)]
            elif k == 1:
                raise ValueError("line info left in .BTF.ext")
            pos += 8 + num * rec_size
    return refs


def btf_compact_strings(btf, ext):
    """.BTF with only the strings its types and ext name, and ext with its offsets renumbered."""
    magic, _version, _flags, hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from("<HBBIIIII", btf, 0)
    if magic != MAGIC or hdr_len != 24:
        raise ValueError(".BTF header not understood")
    types = bytearray(btf[hdr_len + type_off:hdr_len + type_off + type_len])
    strs = btf[hdr_len + str_off:hdr_len + str_off + str_len]
    refs = []	# (buffer, byte offset of a u32 string offset)
    pos = 0
    while pos < len(types):
        info = struct.unpack_from("<I", types, pos + 4)[0]
        kind, vlen = (info >> 24) & 0x1F, info & 0xFFFF
        if kind not in KNOWN_KINDS:
            raise ValueError("BTF kind %d not understood" % kind)
        refs.append((types, pos))
        pos += 12
        if kind in VLEN_RECORDS:
            size, name_at = VLEN_RECORDS[kind]
            if name_at is not None:
                refs += [(types, pos + i * size + name_at) for i in range(vlen)]
            pos += vlen * size
        else:
            pos += FIXED_TAIL.get(kind, 0)
    ext = bytearray(ext)
    refs += [(ext, at) for at in ext_string_refs(ext)]
    new_strs, placed = bytearray(b"\0"), {0: 0}
    for buf, at in refs:
        off = struct.unpack_from("<I", buf, at)[0]
        if off not in placed:
            end = strs.index(b"\0", off)
            placed[off] = len(new_strs)
            new_strs += strs[off:end + 1]
        struct.pack_into("<I", buf, at, placed[off])
    header = struct.pack("<HBBIIIII", magic, _version, _flags, hdr_len, 0, len(types), len(types), len(new_strs))
    return header + bytes(types) + bytes(new_strs), bytes(ext)


def main():
    if len(sys.argv) != 3:
        print("usage: btf_ext_drop_lines.py OBJCOPY OBJ", file=sys.stderr)
        return 2
    objcopy, obj = sys.argv[1:]
    with tempfile.TemporaryDirectory() as d:
        btf_path, ext_path = os.path.join(d, "btf"), os.path.join(d, "ext")
        subprocess.run([objcopy, "--dump-section", ".BTF=" + btf_path, "--dump-section", ".BTF.ext=" + ext_path,
                        obj, os.path.join(d, "o")], check=True)
        with open(btf_path, "rb") as f:
            btf = f.read()
        with open(ext_path, "rb") as f:
            ext = f.read()
        btf, ext = btf_compact_strings(btf, ext_without_lines(ext))
        with open(btf_path, "wb") as f:
            f.write(btf)
        with open(ext_path, "wb") as f:
            f.write(ext)
        subprocess.run([objcopy, "--update-section", ".BTF=" + btf_path, "--update-section", ".BTF.ext=" + ext_path,
                        obj], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
