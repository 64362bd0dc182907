/* The loader's view of one ELF file (dyninfo.h): derived from the full model,
 * encoded for the analysis cache and decoded without trusting the bytes. */
#include <stdlib.h>
#include <string.h>

#include "dockergate/dyninfo.h"
#include "base/ser.h"

#define DF_1_PIE 0x08000000
#define REC_MAGIC 0x6e796467u /* "gdyn" */
#define MAX_STR 65536         /* longer than any path or name the reader accepts */

static enum dg_elf_role role_of(const struct dg_elf *e)
{
	if (e->is_loader)
		return DG_ROLE_LOADER;
	switch (e->cls.type) {
	case DG_ELF_EXEC:
	case DG_ELF_PIE:
	case DG_ELF_STATIC:
	case DG_ELF_STATIC_PIE: return DG_ROLE_EXECUTABLE;
	case DG_ELF_SHARED: return DG_ROLE_LIBRARY;
	default: return DG_ROLE_OTHER;
	}
}

static char *dup_or_null(const char *s) { return s ? dg_xstrdup(s) : NULL; }

struct dg_dyninfo *dg_dyninfo_from_elf(const struct dg_elf *e)
{
	struct dg_dyninfo *d = dg_xcalloc(1, sizeof *d);
	d->cls = e->cls;
	d->role = role_of(e);
	d->machine = e->machine;
	d->bits = e->bits;
	d->interp = dup_or_null(e->interp);
	d->soname = dup_or_null(e->soname);
	d->rpath = dup_or_null(e->rpath);
	d->runpath = dup_or_null(e->runpath);
	for (size_t i = 0; i < e->needed.n; i++)
		dg_strv_push(&d->needed, e->needed.v[i]);
	d->flags = e->flags;
	d->flags_1 = e->flags_1;
	d->is_go = e->is_go;
	d->is_rust = e->is_rust;
	memcpy(d->build_id, e->build_id, sizeof d->build_id);
	d->build_id[sizeof d->build_id - 1] = 0;
	return d;
}

struct dg_dyninfo *dg_dyninfo_bad(const char *msg)
{
	struct dg_dyninfo *d = dg_xcalloc(1, sizeof *d);
	d->role = DG_ROLE_OTHER;
	d->error = dg_xstrdup(msg && *msg ? msg : "malformed ELF file");
	return d;
}

void dg_dyninfo_free(struct dg_dyninfo *d)
{
	if (!d)
		return;
	free(d->interp);
	free(d->soname);
	free(d->rpath);
	free(d->runpath);
	dg_strv_free(&d->needed);
	free(d->error);
	free(d);
}

void dg_dyninfo_encode(const struct dg_dyninfo *d, unsigned char **out, size_t *len)
{
	struct dg_buf b = {0};
	dg_ser_u32(&b, REC_MAGIC);
	dg_ser_u32(&b, DG_DYNINFO_VERSION);
	dg_ser_str(&b, d->error);
	dg_ser_u8(&b, (uint8_t)d->cls.type);
	dg_ser_u8(&b, (uint8_t)d->cls.bits);
	dg_ser_u8(&b, (uint8_t)d->cls.big_endian);
	dg_ser_u8(&b, (uint8_t)(d->cls.has_interp | d->cls.has_dynamic << 1));
	dg_ser_u32(&b, d->cls.machine);
	dg_ser_u8(&b, (uint8_t)d->role);
	dg_ser_u8(&b, (uint8_t)(d->is_go | d->is_rust << 1));
	dg_ser_u64(&b, d->flags);
	dg_ser_u64(&b, d->flags_1);
	dg_ser_str(&b, d->interp);
	dg_ser_str(&b, d->soname);
	dg_ser_str(&b, d->rpath);
	dg_ser_str(&b, d->runpath);
	dg_ser_str(&b, d->build_id);
	dg_ser_u32(&b, (uint32_t)d->needed.n);
	for (size_t i = 0; i < d->needed.n; i++)
		dg_ser_str(&b, d->needed.v[i]);
	*len = b.len;
	*out = (unsigned char *)dg_buf_steal(&b);
}

int dg_dyninfo_decode(const unsigned char *p, size_t n, struct dg_dyninfo **out, struct dg_error *err)
{
	struct dg_de de = {.p = p, .n = n};
	struct dg_dyninfo *d = dg_xcalloc(1, sizeof *d);
	if (dg_de_u32(&de) != REC_MAGIC || dg_de_u32(&de) != DG_DYNINFO_VERSION)
		goto bad;
	d->error = dg_de_str(&de, MAX_STR);
	uint8_t type = dg_de_u8(&de), bits = dg_de_u8(&de), be = dg_de_u8(&de), hf = dg_de_u8(&de);
	uint32_t machine = dg_de_u32(&de);
	uint8_t role = dg_de_u8(&de), lang = dg_de_u8(&de);
	if (type > DG_ELF_CORE || (bits != 32 && bits != 64 && !d->error) || be > 1 || hf > 3 ||
	    machine > UINT16_MAX || role < DG_ROLE_EXECUTABLE || role > DG_ROLE_OTHER || lang > 3)
		goto bad;
	d->cls.type = (enum dg_elf_type)type;
	d->cls.bits = d->bits = bits;
	d->cls.big_endian = be;
	d->cls.has_interp = hf & 1;
	d->cls.has_dynamic = hf >> 1;
	d->cls.machine = d->machine = (uint16_t)machine;
	d->role = (enum dg_elf_role)role;
	d->is_go = lang & 1;
	d->is_rust = lang >> 1;
	d->flags = dg_de_u64(&de);
	d->flags_1 = dg_de_u64(&de);
	d->interp = dg_de_str(&de, MAX_STR);
	d->soname = dg_de_str(&de, MAX_STR);
	d->rpath = dg_de_str(&de, MAX_STR);
	d->runpath = dg_de_str(&de, MAX_STR);
	char *bid = dg_de_str(&de, sizeof d->build_id - 1);
	if (bid)
		memcpy(d->build_id, bid, strlen(bid) + 1);
	free(bid);
	uint32_t nn = dg_de_count(&de, 4);
	for (uint32_t i = 0; i < nn && !de.bad; i++) {
		char *s = dg_de_str(&de, MAX_STR);
		if (!s) {
			de.bad = 1;
			break;
		}
		dg_strv_push(&d->needed, s);
		free(s);
	}
	if (de.bad || de.pos != n)
		goto bad;
	*out = d;
	return 0;
bad:
	dg_dyninfo_free(d);
	return dg_err(err, DG_E_INTERNAL, "cached dynamic-info record is malformed");
}
