/* The container runtime's own syscalls (include/dockergate/runtime_base.h), measured by
 * tests/tools/runtime_base.py into data/runtime-base.json and compiled in. */
#include <jansson.h>
#include <string.h>

#include "dockergate/runtime_base.h"
#include "dockergate/util.h"

__asm__(".pushsection .rodata\n"
	".balign 16\n"
	".globl dg_runtime_base_start\n"
	".hidden dg_runtime_base_start\n"
	"dg_runtime_base_start:\n"
	".incbin \"data/runtime-base.json\"\n"
	".globl dg_runtime_base_end\n"
	".hidden dg_runtime_base_end\n"
	"dg_runtime_base_end:\n"
	".byte 0\n"
	".popsection\n");
extern const char dg_runtime_base_start[], dg_runtime_base_end[];

static int add_list(json_t *arr, struct dg_strv *out, struct dg_error *err)
{
	size_t i;
	json_t *v;
	if (!json_is_array(arr))
		return dg_err(err, DG_E_INTERNAL, "data/runtime-base.json: a set is not a list");
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v))
			return dg_err(err, DG_E_INTERNAL, "data/runtime-base.json: a name is not a string");
		int dup = 0;
		for (size_t k = 0; k < out->n && !dup; k++)
			dup = !strcmp(out->v[k], json_string_value(v));
		if (!dup)
			dg_strv_push(out, json_string_value(v));
	}
	return 0;
}

int dg_runtime_base(const char *which, struct dg_strv *out, struct dg_error *err)
{
	if (!strcmp(which, "none"))
		return 0;
	if (strcmp(which, "runc") && strcmp(which, "crun") && strcmp(which, "all"))
		return dg_err(err, DG_E_USAGE, "--runtime-base: expected none, runc, crun or all, got '%s'", which);
	json_error_t je;
	json_t *root = json_loadb(dg_runtime_base_start, (size_t)(dg_runtime_base_end - dg_runtime_base_start), 0, &je);
	if (!root)
		return dg_err(err, DG_E_INTERNAL, "data/runtime-base.json: %s", je.text);
	int rc = 0;
	json_t *rts = json_object_get(root, "runtimes");
	const char *names[2] = {"runc", "crun"};
	for (int k = 0; k < 2 && rc == 0; k++) {
		if (strcmp(which, "all") && strcmp(which, names[k]))
			continue;
		json_t *rt = json_object_get(rts, names[k]);
		if (!rt) {
			if (strcmp(which, "all"))
				rc = dg_err(err, DG_E_INPUT, "--runtime-base %s: not measured (see data/README.md)", which);
			continue;
		}
		/* both no_new_privileges modes: a profile does not know how it will be run */
		if (add_list(json_object_get(rt, "nnp_false"), out, err) < 0 ||
		    add_list(json_object_get(rt, "nnp_true"), out, err) < 0)
			rc = -1;
	}
	json_decref(root);
	/* Not the runtime's, but made for every program: the kernel restarts a sleep or wait
	 * interrupted by a stop/continue or an ignored signal by having the task call
	 * restart_syscall, which the filter sees (Docker's default allows it too). */
	if (rc == 0) {
		int have = 0;
		for (size_t i = 0; i < out->n && !have; i++)
			have = !strcmp(out->v[i], "restart_syscall");
		if (!have)
			dg_strv_push(out, "restart_syscall");
	}
	return rc;
}
