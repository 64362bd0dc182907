/* ELF header classification. Every offset and count is checked against the
 * file size before use; a malformed file is reported, never trusted. */
#include <stdio.h>
#include <string.h>

#include "dockergate/elfinfo.h"

#define PT_DYNAMIC 2
#define PT_INTERP 3
#define DT_NULL 0
#define DT_SONAME 14
#define DT_FLAGS_1 0x6ffffffb
#define DF_1_PIE 0x08000000

static uint64_t rd(const unsigned char *p, int size, int be)
{
	uint64_t v = 0;
	for (int i = 0; i < size; i++)
		v |= (uint64_t)p[be ? size - 1 - i : i] << (8 * i);
	return v;
}

int dg_elf_classify(const unsigned char *p, size_t n, struct dg_elf_class *c,
		    struct dg_error *err)
{
	memset(c, 0, sizeof *c);
	if (n < 16 || memcmp(p, "\x7f" "ELF", 4))
		return dg_err(err, DG_E_IMAGE, "not an ELF file");
	if (p[4] != 1 && p[4] != 2)
		return dg_err(err, DG_E_IMAGE, "ELF: bad class %u", p[4]);
	if (p[5] != 1 && p[5] != 2)
		return dg_err(err, DG_E_IMAGE, "ELF: bad data encoding %u", p[5]);
	int b64 = p[4] == 2, be = p[5] == 2;
	size_t ehsz = b64 ? 64 : 52;
	if (n < ehsz)
		return dg_err(err, DG_E_IMAGE, "ELF: truncated header");
	c->bits = b64 ? 64 : 32;
	c->big_endian = be;
	uint16_t type = (uint16_t)rd(p + 16, 2, be);
	c->machine = (uint16_t)rd(p + 18, 2, be);
	uint64_t phoff = b64 ? rd(p + 32, 8, be) : rd(p + 28, 4, be);
	uint16_t phentsize = (uint16_t)rd(p + (b64 ? 54 : 42), 2, be);
	uint16_t phnum = (uint16_t)rd(p + (b64 ? 56 : 44), 2, be);
	size_t want = b64 ? 56 : 32;
	if (phnum && (phentsize < want || phoff > n || (uint64_t)phnum * phentsize > n - phoff))
		return dg_err(err, DG_E_IMAGE, "ELF: program headers out of bounds");
	uint64_t dynoff = 0, dynsz = 0;
	for (uint16_t i = 0; i < phnum; i++) {
		const unsigned char *ph = p + phoff + (size_t)i * phentsize;
		uint32_t pt = (uint32_t)rd(ph, 4, be);
		if (pt == PT_INTERP)
			c->has_interp = 1;
		if (pt == PT_DYNAMIC) {
			c->has_dynamic = 1;
			dynoff = b64 ? rd(ph + 8, 8, be) : rd(ph + 4, 4, be);
			dynsz = b64 ? rd(ph + 32, 8, be) : rd(ph + 16, 4, be);
		}
	}
	int pie_flag = 0, soname = 0;
	if (c->has_dynamic && dynoff <= n && dynsz <= n - dynoff) {
		size_t esz = b64 ? 16 : 8;
		for (uint64_t o = dynoff; o + esz <= dynoff + dynsz; o += esz) {
			uint64_t tag = rd(p + o, b64 ? 8 : 4, be);
			if (tag == DT_NULL)
				break;
			if (tag == DT_FLAGS_1 && (rd(p + o + esz / 2, b64 ? 8 : 4, be) & DF_1_PIE))
				pie_flag = 1;
			if (tag == DT_SONAME)
				soname = 1;
		}
	}
	switch (type) {
	case 1: c->type = DG_ELF_RELOC; break;
	case 2: c->type = c->has_interp ? DG_ELF_EXEC : DG_ELF_STATIC; break;
	case 3:
		/* A shared object with PT_INTERP (glibc's libc.so.6 runs and prints its
		 * version) is still a library: PIEs are marked DF_1_PIE by every linker
		 * of the last decade, libraries have a SONAME. */
		if (c->has_interp && (pie_flag || !soname))
			c->type = DG_ELF_PIE;
		else
			c->type = c->has_interp || !pie_flag ? DG_ELF_SHARED : DG_ELF_STATIC_PIE;
		break;
	case 4: c->type = DG_ELF_CORE; break;
	default: c->type = DG_ELF_UNKNOWN; break;
	}
	return 0;
}

const char *dg_elf_type_name(enum dg_elf_type t)
{
	switch (t) {
	case DG_ELF_EXEC: return "executable";
	case DG_ELF_PIE: return "pie";
	case DG_ELF_SHARED: return "shared-object";
	case DG_ELF_STATIC: return "static";
	case DG_ELF_STATIC_PIE: return "static-pie";
	case DG_ELF_RELOC: return "relocatable";
	case DG_ELF_CORE: return "core";
	case DG_ELF_UNKNOWN: break;
	}
	return "unknown";
}

const char *dg_elf_machine_name(uint16_t m, char *buf, size_t n)
{
	switch (m) {
	case 62: return "x86-64";
	case 3: return "i386";
	case 183: return "aarch64";
	case 40: return "arm";
	case 8: return "mips";
	case 20: return "ppc";
	case 21: return "ppc64";
	case 22: return "s390";
	case 243: return "riscv";
	case 258: return "loongarch";
	}
	snprintf(buf, n, "machine-%u", m);
	return buf;
}
