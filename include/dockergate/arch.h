/* The architectures a profile can name: the ELF machine (and class, byte order) of
 * code, libseccomp's architecture token, and the names Docker and libseccomp use
 * for it. One table (base/arch.c) so the analysis, the profiles and the CLI agree. */
#ifndef DOCKERGATE_ARCH_H
#define DOCKERGATE_ARCH_H

#include <stddef.h>
#include <stdint.h>

#define DG_ARCH_X86_64 0x1u
#define DG_ARCH_X86 0x2u
#define DG_ARCH_AARCH64 0x4u
#define DG_ARCH_ARM 0x8u
#define DG_ARCH_S390X 0x10u
#define DG_ARCH_S390 0x20u
#define DG_ARCH_PPC64LE 0x40u
#define DG_ARCH_PPC64 0x80u
#define DG_ARCH_PPC 0x100u
#define DG_ARCH_RISCV64 0x200u
#define DG_ARCH_MIPS 0x400u
#define DG_ARCH_MIPSEL 0x800u
#define DG_ARCH_MIPS64 0x1000u
#define DG_ARCH_MIPSEL64 0x2000u

struct dg_arch {
	const char *name;      /* "x86-64", "aarch64", ... (messages) */
	unsigned bit;          /* DG_ARCH_* (struct dg_profile's arches) */
	uint16_t machine;      /* EM_* */
	int bits;              /* ELF class: 32 or 64 */
	int big_endian;        /* -1: either */
	uint32_t scmp;         /* SCMP_ARCH_* */
	const char *scmp_name; /* "SCMP_ARCH_AARCH64" (Docker's and the OCI formats' architectures) */
	const char *goarch;    /* Docker's name for it in includes/excludes arches ("arm64") */
};

const struct dg_arch *dg_arches(size_t *n);
/* The architecture of code of MACHINE, BITS, byte order BIG_ENDIAN, or NULL. */
const struct dg_arch *dg_arch_of(uint16_t machine, int bits, int big_endian);
const struct dg_arch *dg_arch_by_bit(unsigned bit);
const struct dg_arch *dg_arch_by_scmp_name(const char *name);

#endif
