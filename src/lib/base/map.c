/* Byte-string → index hash map (map.h). */
#include <stdlib.h>
#include <string.h>

#include "dockergate/map.h"
#include "dockergate/util.h"

static uint64_t hash_bytes(const unsigned char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a, then a final mix */
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static size_t find(const struct dg_map *m, const void *key, size_t len, uint64_t h)
{
	size_t i = (size_t)h & (m->cap - 1);
	while (m->s[i].key && (m->s[i].hash != h || m->s[i].len != len || memcmp(m->s[i].key, key, len)))
		i = (i + 1) & (m->cap - 1);
	return i;
}

size_t dg_map_get(const struct dg_map *m, const void *key, size_t len)
{
	if (!m->cap)
		return SIZE_MAX;
	size_t i = find(m, key, len, hash_bytes(key, len));
	return m->s[i].key ? m->s[i].val : SIZE_MAX;
}

static void grow(struct dg_map *m)
{
	struct dg_map o = *m;
	m->cap = o.cap ? 2 * o.cap : 64;
	m->s = dg_xcalloc(m->cap, sizeof *m->s);
	for (size_t i = 0; i < o.cap; i++)
		if (o.s[i].key)
			m->s[find(m, o.s[i].key, o.s[i].len, o.s[i].hash)] = o.s[i];
	free(o.s);
}

static size_t put(struct dg_map *m, const void *key, size_t len, size_t val, int replace)
{
	if (2 * (m->n + 1) > m->cap)
		grow(m);
	uint64_t h = hash_bytes(key, len);
	struct dg_map_slot *s = &m->s[find(m, key, len, h)];
	if (s->key) {
		if (replace)
			s->val = val;
		return s->val;
	}
	s->key = dg_xmalloc(len ? len : 1);
	memcpy(s->key, key, len);
	s->len = len;
	s->hash = h;
	s->val = val;
	m->n++;
	return val;
}

void dg_map_put(struct dg_map *m, const void *key, size_t len, size_t val) { put(m, key, len, val, 1); }

size_t dg_map_add(struct dg_map *m, const void *key, size_t len, size_t val) { return put(m, key, len, val, 0); }

void dg_map_free(struct dg_map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->s[i].key);
	free(m->s);
	memset(m, 0, sizeof *m);
}
