/* The architecture table (arch.h). */
#include <seccomp.h>
#include <string.h>

#include "dockergate/arch.h"

static const struct dg_arch arches[] = {
	{"x86-64", DG_ARCH_X86_64, 62, 64, 0, SCMP_ARCH_X86_64, "SCMP_ARCH_X86_64", "amd64"},
	{"i386", DG_ARCH_X86, 3, 32, 0, SCMP_ARCH_X86, "SCMP_ARCH_X86", "386"},
	{"aarch64", DG_ARCH_AARCH64, 183, 64, 0, SCMP_ARCH_AARCH64, "SCMP_ARCH_AARCH64", "arm64"},
	{"arm", DG_ARCH_ARM, 40, 32, 0, SCMP_ARCH_ARM, "SCMP_ARCH_ARM", "arm"},
	{"s390x", DG_ARCH_S390X, 22, 64, 1, SCMP_ARCH_S390X, "SCMP_ARCH_S390X", "s390x"},
	{"s390", DG_ARCH_S390, 22, 32, 1, SCMP_ARCH_S390, "SCMP_ARCH_S390", "s390"},
	{"ppc64le", DG_ARCH_PPC64LE, 21, 64, 0, SCMP_ARCH_PPC64LE, "SCMP_ARCH_PPC64LE", "ppc64le"},
	{"ppc64", DG_ARCH_PPC64, 21, 64, 1, SCMP_ARCH_PPC64, "SCMP_ARCH_PPC64", "ppc64"},
	{"ppc", DG_ARCH_PPC, 20, 32, 1, SCMP_ARCH_PPC, "SCMP_ARCH_PPC", "ppc"},
	{"riscv64", DG_ARCH_RISCV64, 243, 64, 0, SCMP_ARCH_RISCV64, "SCMP_ARCH_RISCV64", "riscv64"},
	{"mips", DG_ARCH_MIPS, 8, 32, 1, SCMP_ARCH_MIPS, "SCMP_ARCH_MIPS", "mips"},
	{"mipsel", DG_ARCH_MIPSEL, 8, 32, 0, SCMP_ARCH_MIPSEL, "SCMP_ARCH_MIPSEL", "mipsle"},
	{"mips64", DG_ARCH_MIPS64, 8, 64, 1, SCMP_ARCH_MIPS64, "SCMP_ARCH_MIPS64", "mips64"},
	{"mipsel64", DG_ARCH_MIPSEL64, 8, 64, 0, SCMP_ARCH_MIPSEL64, "SCMP_ARCH_MIPSEL64", "mips64le"},
};
#define NARCHES (sizeof arches / sizeof *arches)

const struct dg_arch *dg_arches(size_t *n)
{
	*n = NARCHES;
	return arches;
}

const struct dg_arch *dg_arch_of(uint16_t machine, int bits, int big_endian)
{
	for (size_t i = 0; i < NARCHES; i++)
		if (arches[i].machine == machine && arches[i].bits == bits &&
		    (arches[i].big_endian < 0 || arches[i].big_endian == !!big_endian))
			return &arches[i];
	return NULL;
}

const struct dg_arch *dg_arch_by_bit(unsigned bit)
{
	for (size_t i = 0; i < NARCHES; i++)
		if (arches[i].bit == bit)
			return &arches[i];
	return NULL;
}

const struct dg_arch *dg_arch_by_scmp_name(const char *name)
{
	for (size_t i = 0; i < NARCHES; i++)
		if (!strcmp(arches[i].scmp_name, name))
			return &arches[i];
	return NULL;
}
