/* `docker save` / `podman save` archives: the classic layout (manifest.json,
 * <id>.json config, <id>/layer.tar) and Docker 25+ (the same manifest.json
 * pointing into an OCI blobs/sha256/ store, with an index.json beside it). */
#include <stdlib.h>
#include <string.h>

#include "image/image_internal.h"
#include "dockergate/util.h"

/* "x:1" matches "localhost/x:1" and "docker.io/library/x:1"; "x" means "x:latest". */
int dg_ref_matches(const char *cand, const char *want);
int dg_ref_matches(const char *cand, const char *want)
{
	if (!cand || !want)
		return 0;
	if (!strcmp(cand, want))
		return 1;
	const char *last = strrchr(want, '/');
	int has_tag = strchr(last ? last : want, ':') != NULL;
	dg_autofree char *w = has_tag ? dg_xstrdup(want) : dg_xasprintf("%s:latest", want);
	size_t cl = strlen(cand), wl = strlen(w);
	if (!strcmp(cand, w))
		return 1;
	return cl > wl && cand[cl - wl - 1] == '/' && !strcmp(cand + cl - wl, w);
}

/* blobs/sha256/<hex> → the digest it names. */
static int blob_digest(const char *name, unsigned char out[32])
{
	const char *p = name;
	if (!strncmp(p, "./", 2))
		p += 2;
	if (strncmp(p, "blobs/sha256/", 13) || !dg_is_hex64(p + 13))
		return 0;
	dg_autofree char *d = dg_xasprintf("sha256:%s", p + 13);
	return dg_parse_digest(d, out, "", NULL) == 0;
}

/* <hex>.json (classic config name = image ID) → the digest it names. */
static int config_name_digest(const char *name, unsigned char out[32])
{
	if (blob_digest(name, out))
		return 1;
	const char *b = strrchr(name, '/');
	b = b ? b + 1 : name;
	if (strlen(b) != 69 || strcmp(b + 64, ".json"))
		return 0;
	dg_autofree char *hex = dg_xstrndup(b, 64);
	if (!dg_is_hex64(hex))
		return 0;
	dg_autofree char *d = dg_xasprintf("sha256:%s", hex);
	return dg_parse_digest(d, out, "", NULL) == 0;
}

static void docker25_manifest_digest(struct dg_image *img, const char *tag)
{
	char *data;
	size_t len;
	struct dg_error e = DG_ERROR_INIT;
	if (!img->src->ops->exists(img->src, "index.json") ||
	    dg_source_read(img->src, "index.json", NULL, -1, &data, &len, &e) < 0)
		return;
	json_t *j = dg_json_parse(data, len, "index.json", &e);
	free(data);
	json_t *ms = j ? json_object_get(j, "manifests") : NULL;
	size_t i, n = json_array_size(ms);
	json_t *d;
	json_array_foreach(ms, i, d)
	{
		json_t *ann = json_object_get(d, "annotations");
		const char *name = json_string_value(json_object_get(ann, "io.containerd.image.name"));
		const char *dig = json_string_value(json_object_get(d, "digest"));
		unsigned char sha[32];
		if (!dig || dg_parse_digest(dig, sha, "", NULL) < 0)
			continue;
		if (n == 1 || (tag && name && !strcmp(name, tag))) {
			img->info.manifest_digest = dg_xstrdup(dig);
			break;
		}
	}
	json_decref(j);
}

int dg_fmt_docker(struct dg_image *img, struct dg_error *err)
{
	char *data = NULL;
	size_t len;
	int rc = -1;
	json_t *j = NULL;
	unsigned char *diff = NULL;
	size_t ndiff = 0;
	if (dg_source_read(img->src, "manifest.json", NULL, -1, &data, &len, err) < 0)
		return -1;
	if (!(j = dg_json_parse(data, len, "manifest.json", err)))
		goto out;
	if (!json_is_array(j) || json_array_size(j) == 0) {
		dg_err(err, DG_E_IMAGE, "manifest.json: expected a non-empty array of images");
		goto out;
	}
	json_t *chosen = NULL, *e;
	const char *chosen_tag = NULL;
	size_t i, nmatch = 0;
	json_array_foreach(j, i, e)
	{
		json_t *tags = json_object_get(e, "RepoTags"), *t;
		size_t k;
		if (!json_is_object(e)) {
			dg_err(err, DG_E_IMAGE, "manifest.json[%zu]: expected an object", i);
			goto out;
		}
		json_array_foreach(tags, k, t)
		{
			if (!json_is_string(t))
				continue;
			img->info.refs = dg_xreallocarray(img->info.refs, img->info.nrefs + 1, sizeof(char *));
			img->info.refs[img->info.nrefs++] = dg_xstrdup(json_string_value(t));
			if (img->opts.ref && dg_ref_matches(json_string_value(t), img->opts.ref) &&
			    chosen != e) {
				chosen = e;
				chosen_tag = json_string_value(t);
				nmatch++;
			}
		}
	}
	if (img->opts.ref && nmatch != 1) {
		struct dg_buf b = {0};
		for (i = 0; i < img->info.nrefs; i++)
			dg_buf_printf(&b, "%s%s", i ? ", " : "", img->info.refs[i]);
		dg_err(err, DG_E_INPUT, "manifest.json: %s image tagged '%s' (tags: %s)",
		       nmatch ? "more than one" : "no", img->opts.ref, b.data ? b.data : "none");
		dg_buf_free(&b);
		goto out;
	}
	if (!img->opts.ref) {
		if (json_array_size(j) > 1) {
			struct dg_buf b = {0};
			for (i = 0; i < img->info.nrefs; i++)
				dg_buf_printf(&b, "%s%s", i ? ", " : "", img->info.refs[i]);
			dg_err(err, DG_E_INPUT, "manifest.json holds %zu images: choose one with --ref (tags: %s)",
			       json_array_size(j), b.data ? b.data : "none");
			dg_buf_free(&b);
			goto out;
		}
		chosen = json_array_get(j, 0);
		json_t *tags = json_object_get(chosen, "RepoTags");
		chosen_tag = json_string_value(json_array_get(tags, 0));
	}
	if (chosen_tag)
		img->info.ref = dg_xstrdup(chosen_tag);
	const char *cfg = json_string_value(json_object_get(chosen, "Config"));
	json_t *layers = json_object_get(chosen, "Layers");
	if (!cfg) {
		dg_err(err, DG_E_IMAGE, "manifest.json: Config missing or not a string");
		goto out;
	}
	if (!json_is_array(layers)) {
		dg_err(err, DG_E_IMAGE, "manifest.json: Layers missing or not an array");
		goto out;
	}
	unsigned char cdig[32];
	int has_cdig = config_name_digest(cfg, cdig);
	free(data);
	data = NULL;
	if (dg_source_read(img->src, cfg, has_cdig ? cdig : NULL, -1, &data, &len, err) < 0)
		goto out;
	{
		struct dg_sha256 h;
		unsigned char sha[32];
		dg_sha256_init(&h);
		dg_sha256_update(&h, data, len);
		dg_sha256_final(&h, sha);
		img->info.config_digest = dg_digest_str(sha);
	}
	img->info.has_config = 1;
	if (dg_parse_config(img, data, len, &diff, &ndiff, err) < 0)
		goto out;
	if (dg_check_platform(img, err) < 0)
		goto out;
	size_t nl = json_array_size(layers);
	if (nl != ndiff) {
		dg_err(err, DG_E_IMAGE, "manifest.json lists %zu layers but the config has %zu diff_ids", nl,
		       ndiff);
		goto out;
	}
	img->info.layers = dg_xcalloc(nl ? nl : 1, sizeof *img->info.layers);
	img->lsrc = dg_xcalloc(nl ? nl : 1, sizeof *img->lsrc);
	img->info.nlayers = nl;
	for (i = 0; i < nl; i++) {
		const char *ln = json_string_value(json_array_get(layers, i));
		if (!ln) {
			dg_err(err, DG_E_IMAGE, "manifest.json: Layers[%zu]: expected a string", i);
			goto out;
		}
		struct dg_layer_src *ls = &img->lsrc[i];
		ls->name = dg_xstrdup(ln);
		ls->size = -1;
		ls->has_digest = blob_digest(ln, ls->digest);
		memcpy(ls->diff_id, diff + 32 * i, 32);
		img->info.layers[i].path = dg_xstrdup(ln);
		img->info.layers[i].diff_id = dg_digest_str(ls->diff_id);
		if (ls->has_digest)
			img->info.layers[i].digest = dg_digest_str(ls->digest);
	}
	docker25_manifest_digest(img, chosen_tag);
	rc = 0;
out:
	free(diff);
	free(data);
	json_decref(j);
	return rc;
}
