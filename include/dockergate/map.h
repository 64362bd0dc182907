/* A hash map from byte strings (copied in) to indices: open addressing,
 * power-of-two capacity, at most half full. Used where a run would otherwise
 * compare every pair (graph nodes by inode, edges, messages). */
#ifndef DG_MAP_H
#define DG_MAP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct dg_map_slot {
	unsigned char *key; /* NULL: empty */
	size_t len, val;
	uint64_t hash;
};

struct dg_map {
	struct dg_map_slot *s;
	size_t cap, n;
};

/* The value stored for KEY, or SIZE_MAX. */
size_t dg_map_get(const struct dg_map *m, const void *key, size_t len);
/* Stores VAL for KEY (replacing an earlier value). */
void dg_map_put(struct dg_map *m, const void *key, size_t len, size_t val);
/* Stores VAL for KEY unless KEY is there; returns the value now stored. */
size_t dg_map_add(struct dg_map *m, const void *key, size_t len, size_t val);
void dg_map_free(struct dg_map *m);


#endif
