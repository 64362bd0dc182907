/* The image's dependency graph, as in the DockerGate seed: every ELF file is
 * a node (executables, libraries, the loader), edges are what the dynamic
 * loader resolves for each DT_NEEDED entry (and PT_INTERP), found inside the
 * image with the real loader's rules. Unresolved libraries become nodes of
 * their own so nothing missing is silently dropped. */
#ifndef DOCKERGATE_GRAPH_H
#define DOCKERGATE_GRAPH_H

#include <stddef.h>

#include "dockergate/loader.h"
#include "dockergate/objdb.h"

enum dg_gnode_kind {
	DG_GN_EXECUTABLE = 1,
	DG_GN_LIBRARY,
	DG_GN_LOADER,
	DG_GN_OTHER,     /* relocatable objects, cores, ELF files the reader refused */
	DG_GN_MISSING,   /* a DT_NEEDED name or interpreter the loader would not find */
};

struct dg_gnode {
	enum dg_gnode_kind kind;
	char *path;              /* first path in the image (a missing node: the requested name) */
	struct dg_strv aliases;  /* further paths of the same file (hardlinks) */
	const struct dg_node *node;
	const struct dg_dyninfo *dyn; /* NULL for missing nodes */
	size_t in, out;          /* edge counts */
	int root;                /* an executable analysed from, or named by --from */
};

enum dg_gedge_kind { DG_GE_NEEDED = 1, DG_GE_INTERP };

struct dg_gedge {
	size_t from, to;
	enum dg_gedge_kind kind;
	char *name;      /* the DT_NEEDED string or PT_INTERP path */
	const char *via; /* how the loader found it ("ld.so.cache", "runpath", ...), NULL when missing */
};

struct dg_graph {
	struct dg_gnode *nodes;
	size_t n;
	struct dg_gedge *edges;
	size_t ne;
	struct dg_strv problems; /* "PATH: libfoo.so not found", "PATH: malformed ELF: ..." */
};

struct dg_graph_opts {
	const char *ld_library_path;
	/* Analyse only from these paths (executables or libraries); all ELF files
	 * of the image when n == 0. */
	struct dg_strv roots;
};

int dg_graph_build(struct dg_objdb *db, const struct dg_graph_opts *o, struct dg_graph **out,
		   struct dg_error *err);
void dg_graph_free(struct dg_graph *g);
const char *dg_gnode_kind_name(enum dg_gnode_kind k);

#endif
