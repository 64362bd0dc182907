/* Every cap that protects dockergate from hostile images lives here. Inputs
 * beyond a cap are refused with DG_E_LIMIT and a message naming the cap. */
#ifndef DOCKERGATE_LIMITS_H
#define DOCKERGATE_LIMITS_H

#include <stdint.h>

struct dg_limits {
	uint64_t max_expanded_bytes; /* total decompressed layer bytes (bomb cap) */
	uint64_t max_entries;        /* tar entries over all layers */
	uint64_t max_json_bytes;     /* one manifest/index/config document */
	uint64_t max_stored_file;    /* one ELF or script kept for analysis */
	uint64_t max_stored_total;   /* all kept ELF/script bytes */
	uint32_t max_path;           /* bytes in one path */
	uint32_t max_symlink_hops;   /* symlinks followed in one resolution */
	uint32_t max_index_depth;    /* nested OCI indexes */
	uint32_t max_layers;
};

#define DG_DEFAULT_MAX_EXPANDED (64ULL << 30)
#define DG_DEFAULT_MAX_ENTRIES (10000000ULL)
#define DG_DEFAULT_MAX_JSON (32ULL << 20)
#define DG_DEFAULT_MAX_STORED_FILE (2ULL << 30)
#define DG_DEFAULT_MAX_STORED_TOTAL (32ULL << 30)
#define DG_DEFAULT_MAX_PATH 4096
#define DG_DEFAULT_MAX_HOPS 40 /* the kernel's MAXSYMLINKS */
#define DG_DEFAULT_MAX_INDEX_DEPTH 8
#define DG_DEFAULT_MAX_LAYERS 1000
/* DT_NEEDED entries of one ELF file: real ones have at most a few hundred; a
 * file with more is refused so that no image can make the loader emulation
 * search millions of names (fixed, not an option). */
#define DG_MAX_NEEDED 4096

void dg_limits_default(struct dg_limits *l);

#endif
