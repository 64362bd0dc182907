#!/usr/bin/env python3
"""Small in-place edits of 64-bit little-endian ELF files for loader tests, for
what the linker will not produce on its own:

  elfpatch.py FILE dtflags-or MASK    ORs MASK into DT_FLAGS (e.g. 0x2 = DF_SYMBOLIC),
                                      keeping the relocations a normal link made
  elfpatch.py FILE protect SYMBOL...  sets STV_PROTECTED on dynamic symbols, keeping
                                      the relocations that name them (ld binds
                                      protected symbols itself and emits none)
"""
import struct
import sys

path, op, args = sys.argv[1], sys.argv[2], sys.argv[3:]
b = bytearray(open(path, "rb").read())
assert b[:4] == b"\x7fELF" and b[4] == 2 and b[5] == 1, "64-bit little-endian ELF only"
phoff, shoff = struct.unpack_from("<QQ", b, 32)
phentsize, phnum, shentsize, shnum = struct.unpack_from("<HHHH", b, 54)

if op == "dtflags-or":
    mask = int(args[0], 0)
    done = False
    for i in range(phnum):
        p_type, _, p_off, _, _, p_filesz = struct.unpack_from("<IIQQQQ", b, phoff + i * phentsize)
        if p_type != 2:  # PT_DYNAMIC
            continue
        for o in range(p_off, p_off + p_filesz, 16):
            tag, val = struct.unpack_from("<qQ", b, o)
            if tag == 0:
                break
            if tag == 30:  # DT_FLAGS
                struct.pack_into("<qQ", b, o, tag, val | mask)
                done = True
    assert done, "no DT_FLAGS entry (link with -Wl,-z,now to get one)"
elif op == "protect":
    want = set(a.encode() for a in args)
    secs = [struct.unpack_from("<IIQQQQIIQQ", b, shoff + i * shentsize) for i in range(shnum)]
    for s in secs:
        if s[1] != 11:  # SHT_DYNSYM
            continue
        stroff = secs[s[6]][4]
        for o in range(s[4], s[4] + s[5], 24):
            nm = struct.unpack_from("<I", b, o)[0]
            name = bytes(b[stroff + nm:b.index(0, stroff + nm)])
            if name in want:
                b[o + 5] = (b[o + 5] & ~3) | 3  # STV_PROTECTED
                want.discard(name)
    assert not want, "symbols not found: %r" % want
else:
    sys.exit("unknown operation " + op)
open(path, "wb").write(b)
