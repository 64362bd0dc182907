/* OCI image layouts, as a directory or an oci-archive tar: index.json, nested
 * indexes, manifests chosen by ref name and platform, config, layer blobs. */
#include <stdlib.h>
#include <string.h>

#include "image/image_internal.h"
#include "dockergate/util.h"

int dg_ref_matches(const char *cand, const char *want);

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"

struct cand {
	unsigned char digest[32];
	int64_t size;
	char *os, *arch, *variant; /* from the descriptor, may be NULL */
	char *ref;                 /* from the top-level descriptor */
};

struct cands {
	struct cand *v;
	size_t n;
};

static char *blob_name(const unsigned char d[32])
{
	char hex[65];
	dg_hex(hex, d, 32);
	return dg_xasprintf("blobs/sha256/%s", hex);
}

static int desc_digest(json_t *d, unsigned char out[32], int64_t *size, const char *what,
		       struct dg_error *err)
{
	if (!json_is_object(d))
		return dg_err(err, DG_E_IMAGE, "%s: expected a descriptor object", what);
	if (dg_parse_digest(json_string_value(json_object_get(d, "digest")), out, what, err) < 0)
		return -1;
	json_t *s = json_object_get(d, "size");
	if (!json_is_integer(s) || json_integer_value(s) < 0)
		return dg_err(err, DG_E_IMAGE, "%s: size missing or invalid", what);
	*size = (int64_t)json_integer_value(s);
	return 0;
}

static int read_blob(struct dg_image *img, const unsigned char d[32], int64_t size, char **data,
		     size_t *len, struct dg_error *err)
{
	dg_autofree char *name = blob_name(d);
	if ((uint64_t)size > img->opts.limits.max_json_bytes)
		return dg_err(err, DG_E_LIMIT, "%s: %lld bytes, over the limit for a JSON document", name,
			      (long long)size);
	return dg_source_read(img->src, name, d, size, data, len, err);
}

static const char *jstr(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

static int collect(struct dg_image *img, json_t *index, const char *what, const char *ref,
		   unsigned depth, struct cands *out, struct dg_error *err)
{
	if (depth > img->opts.limits.max_index_depth)
		return dg_err(err, DG_E_LIMIT, "%s: indexes nested deeper than %u", what,
			      img->opts.limits.max_index_depth);
	json_t *ms = json_object_get(index, "manifests");
	if (!json_is_array(ms))
		return dg_err(err, DG_E_IMAGE, "%s: manifests missing or not an array", what);
	size_t i;
	json_t *d;
	json_array_foreach(ms, i, d)
	{
		char w[256];
		snprintf(w, sizeof w, "%s: manifests[%zu]", what, i);
		unsigned char dig[32];
		int64_t size;
		if (desc_digest(d, dig, &size, w, err) < 0)
			return -1;
		json_t *ann = json_object_get(d, "annotations");
		const char *mt = jstr(d, "mediaType");
		const char *r = ref;
		if (depth == 0) {
			r = jstr(ann, "org.opencontainers.image.ref.name");
			if (!r)
				r = jstr(ann, "io.containerd.image.name");
			if (r) {
				int seen = 0;
				for (size_t k = 0; k < img->info.nrefs; k++)
					seen |= !strcmp(img->info.refs[k], r);
				if (!seen) {
					img->info.refs = dg_xreallocarray(img->info.refs, img->info.nrefs + 1,
									  sizeof(char *));
					img->info.refs[img->info.nrefs++] = dg_xstrdup(r);
				}
			}
		}
		const char *rtype = jstr(ann, "vnd.docker.reference.type");
		if (rtype && !strcmp(rtype, "attestation-manifest"))
			continue; /* build provenance, not a runnable image */
		int is_index = mt && (!strcmp(mt, MT_OCI_INDEX) || !strcmp(mt, MT_DOCKER_LIST));
		if (!mt) { /* undeclared: look inside */
			char *data;
			size_t len;
			if (read_blob(img, dig, size, &data, &len, err) < 0)
				return dg_err_prefix(err, "%s", w);
			json_t *j = dg_json_parse(data, len, w, err);
			free(data);
			if (!j)
				return -1;
			is_index = json_object_get(j, "manifests") != NULL;
			json_decref(j);
		}
		if (is_index) {
			char *data;
			size_t len;
			if (read_blob(img, dig, size, &data, &len, err) < 0)
				return dg_err_prefix(err, "%s", w);
			json_t *j = dg_json_parse(data, len, w, err);
			free(data);
			if (!j)
				return -1;
			int rc = json_is_object(j) ? collect(img, j, w, r, depth + 1, out, err)
						   : dg_err(err, DG_E_IMAGE, "%s: not an object", w);
			json_decref(j);
			if (rc < 0)
				return -1;
			continue;
		}
		if (mt && strcmp(mt, MT_OCI_MANIFEST) && strcmp(mt, MT_DOCKER_MANIFEST))
			continue; /* some other artifact */
		json_t *p = json_object_get(d, "platform");
		const char *os = jstr(p, "os"), *arch = jstr(p, "architecture");
		if (os && arch && !strcmp(os, "unknown") && !strcmp(arch, "unknown"))
			continue;
		out->v = dg_xreallocarray(out->v, out->n + 1, sizeof *out->v);
		struct cand *c = &out->v[out->n++];
		memset(c, 0, sizeof *c);
		memcpy(c->digest, dig, 32);
		c->size = size;
		c->os = os ? dg_xstrdup(os) : NULL;
		c->arch = arch ? dg_xstrdup(arch) : NULL;
		c->variant = jstr(p, "variant") ? dg_xstrdup(jstr(p, "variant")) : NULL;
		c->ref = r ? dg_xstrdup(r) : NULL;
	}
	return 0;
}

static void cands_free(struct cands *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].os);
		free(c->v[i].arch);
		free(c->v[i].variant);
		free(c->v[i].ref);
	}
	free(c->v);
}

static int plat_match(const struct cand *c, const char *want)
{
	char w[256];
	snprintf(w, sizeof w, "%s", want);
	char *arch = strchr(w, '/'), *var = NULL;
	if (!arch)
		return 0;
	*arch++ = 0;
	if ((var = strchr(arch, '/')))
		*var++ = 0;
	if (!c->os || !c->arch)
		return -1; /* unknown: decided from the config later */
	return !strcmp(c->os, w) && !strcmp(c->arch, arch) &&
	       (!var || (c->variant && !strcmp(c->variant, var)));
}

static int ref_ok(const struct cand *c, const char *want)
{
	if (!want)
		return 1;
	if (!c->ref)
		return 0;
	if (dg_ref_matches(c->ref, want) || !strcmp(c->ref, want))
		return 1;
	/* OCI ref names are often just the tag: "1.0" matches "name:1.0" */
	const char *colon = strrchr(want, ':');
	return colon && !strcmp(c->ref, colon + 1);
}

static int refeq(const char *a, const char *b) { return (!a && !b) || (a && b && !strcmp(a, b)); }

/* Several refs are only a choice to make when they name different images (one
 * manifest or index tagged twice is the same image). */
static int same_image_under_every_ref(const struct cands *cs)
{
	const char *r0 = cs->n ? cs->v[0].ref : NULL;
	for (size_t i = 0; i < cs->n; i++) {
		if (refeq(cs->v[i].ref, r0))
			continue;
		/* every digest under this ref must also be under r0, and the counts match */
		size_t n_this = 0, n_r0 = 0;
		for (size_t j = 0; j < cs->n; j++) {
			n_this += refeq(cs->v[j].ref, cs->v[i].ref);
			n_r0 += refeq(cs->v[j].ref, r0);
		}
		if (n_this != n_r0)
			return 0;
		for (size_t j = 0; j < cs->n; j++) {
			if (!refeq(cs->v[j].ref, cs->v[i].ref))
				continue;
			int found = 0;
			for (size_t k = 0; k < cs->n && !found; k++)
				found = refeq(cs->v[k].ref, r0) && !memcmp(cs->v[k].digest, cs->v[j].digest, 32);
			if (!found)
				return 0;
		}
	}
	return 1;
}

int dg_fmt_oci(struct dg_image *img, struct dg_error *err)
{
	char *data = NULL;
	size_t len;
	json_t *idx = NULL, *man = NULL;
	struct cands cs = {0};
	unsigned char *diff = NULL;
	size_t ndiff = 0;
	int rc = -1;
	if (img->src->ops->exists(img->src, "oci-layout")) {
		if (dg_source_read(img->src, "oci-layout", NULL, -1, &data, &len, err) < 0)
			goto out;
		json_t *l = dg_json_parse(data, len, "oci-layout", err);
		free(data);
		data = NULL;
		if (!l)
			goto out;
		const char *v = jstr(l, "imageLayoutVersion");
		int ok = v && !strncmp(v, "1.", 2);
		json_decref(l);
		if (!ok) {
			dg_err(err, DG_E_IMAGE, "oci-layout: unsupported imageLayoutVersion");
			goto out;
		}
	}
	if (dg_source_read(img->src, "index.json", NULL, -1, &data, &len, err) < 0)
		goto out;
	if (!(idx = dg_json_parse(data, len, "index.json", err)))
		goto out;
	free(data);
	data = NULL;
	if (!json_is_object(idx)) {
		dg_err(err, DG_E_IMAGE, "index.json: not a JSON object");
		goto out;
	}
	if (collect(img, idx, "index.json", NULL, 0, &cs, err) < 0)
		goto out;
	/* Filter by ref, then platform. */
	size_t k = 0;
	for (size_t i = 0; i < cs.n; i++) {
		if (ref_ok(&cs.v[i], img->opts.ref))
			cs.v[k++] = cs.v[i];
		else {
			free(cs.v[i].os), free(cs.v[i].arch), free(cs.v[i].variant), free(cs.v[i].ref);
		}
	}
	cs.n = k;
	if (cs.n == 0) {
		struct dg_buf b = {0};
		for (size_t i = 0; i < img->info.nrefs; i++)
			dg_buf_printf(&b, "%s%s", i ? ", " : "", img->info.refs[i]);
		if (img->opts.ref)
			dg_err(err, DG_E_INPUT, "index.json: no image named '%s' (refs: %s)", img->opts.ref,
			       b.data ? b.data : "none");
		else
			dg_err(err, DG_E_IMAGE, "index.json: no image manifest");
		dg_buf_free(&b);
		goto out;
	}
	if (!img->opts.ref && !same_image_under_every_ref(&cs)) {
		struct dg_buf b = {0};
		for (size_t i = 0; i < img->info.nrefs; i++)
			dg_buf_printf(&b, "%s%s", i ? ", " : "", img->info.refs[i]);
		dg_err(err, DG_E_INPUT, "index.json names several images: choose one with --ref (refs: %s)",
		       b.data ? b.data : "none");
		dg_buf_free(&b);
		goto out;
	}
	char defplat[64];
	dg_platform_default(defplat, sizeof defplat);
	const char *want = img->opts.platform ? img->opts.platform : (cs.n > 1 ? defplat : NULL);
	struct cand *pick = NULL;
	if (!want) {
		pick = &cs.v[0];
	} else {
		size_t nm = 0;
		for (size_t i = 0; i < cs.n; i++) {
			int m = plat_match(&cs.v[i], want);
			if (m != 0 && !pick)
				pick = &cs.v[i];
			nm += m != 0;
		}
		if (!pick) {
			struct dg_buf b = {0};
			for (size_t i = 0; i < cs.n; i++)
				dg_buf_printf(&b, "%s%s/%s%s%s", i ? ", " : "", cs.v[i].os ? cs.v[i].os : "?",
					      cs.v[i].arch ? cs.v[i].arch : "?", cs.v[i].variant ? "/" : "",
					      cs.v[i].variant ? cs.v[i].variant : "");
			dg_err(err, DG_E_INPUT, "index.json: no image for platform %s (has: %s)%s", want,
			       b.data, img->opts.platform ? "" : "; choose one with --platform");
			dg_buf_free(&b);
			goto out;
		}
		(void)nm;
	}
	if (pick->ref)
		img->info.ref = dg_xstrdup(pick->ref);
	img->info.manifest_digest = dg_digest_str(pick->digest);
	if (read_blob(img, pick->digest, pick->size, &data, &len, err) < 0)
		goto out;
	if (!(man = dg_json_parse(data, len, "image manifest", err)))
		goto out;
	free(data);
	data = NULL;
	const char *mt = jstr(man, "mediaType");
	if (mt && strcmp(mt, MT_OCI_MANIFEST) && strcmp(mt, MT_DOCKER_MANIFEST)) {
		dg_err(err, DG_E_IMAGE, "image manifest: unsupported mediaType '%.100s'", mt);
		goto out;
	}
	unsigned char cdig[32];
	int64_t csize;
	if (desc_digest(json_object_get(man, "config"), cdig, &csize, "image manifest: config", err) < 0)
		goto out;
	if (read_blob(img, cdig, csize, &data, &len, err) < 0)
		goto out;
	img->info.config_digest = dg_digest_str(cdig);
	img->info.has_config = 1;
	if (dg_parse_config(img, data, len, &diff, &ndiff, err) < 0)
		goto out;
	if (img->opts.platform && dg_check_platform(img, err) < 0)
		goto out;
	json_t *layers = json_object_get(man, "layers");
	if (!json_is_array(layers)) {
		dg_err(err, DG_E_IMAGE, "image manifest: layers missing or not an array");
		goto out;
	}
	size_t nl = json_array_size(layers);
	if (nl != ndiff) {
		dg_err(err, DG_E_IMAGE, "image manifest lists %zu layers but the config has %zu diff_ids", nl,
		       ndiff);
		goto out;
	}
	img->info.layers = dg_xcalloc(nl ? nl : 1, sizeof *img->info.layers);
	img->lsrc = dg_xcalloc(nl ? nl : 1, sizeof *img->lsrc);
	img->info.nlayers = nl;
	for (size_t i = 0; i < nl; i++) {
		char w[64];
		snprintf(w, sizeof w, "image manifest: layers[%zu]", i);
		json_t *d = json_array_get(layers, i);
		struct dg_layer_src *ls = &img->lsrc[i];
		if (desc_digest(d, ls->digest, &ls->size, w, err) < 0)
			goto out;
		ls->has_digest = 1;
		ls->name = blob_name(ls->digest);
		memcpy(ls->diff_id, diff + 32 * i, 32);
		struct dg_layer_info *li = &img->info.layers[i];
		li->digest = dg_digest_str(ls->digest);
		li->diff_id = dg_digest_str(ls->diff_id);
		li->path = dg_xstrdup(ls->name);
		if (jstr(d, "mediaType"))
			li->media_type = dg_xstrdup(jstr(d, "mediaType"));
	}
	rc = 0;
out:
	free(diff);
	free(data);
	json_decref(idx);
	json_decref(man);
	cands_free(&cs);
	return rc;
}
