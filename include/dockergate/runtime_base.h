/* The container runtime's own syscalls: what runc or crun calls between installing a
 * container's seccomp filter and exec'ing its entrypoint (and the entrypoint's start),
 * which every profile must allow or the container does not start. Measured with the real
 * runtimes (tests/tools/runtime_base.py, data/README.md) and compiled in from
 * data/runtime-base.json; both no_new_privileges modes are included. */
#ifndef DOCKERGATE_RUNTIME_BASE_H
#define DOCKERGATE_RUNTIME_BASE_H

#include "dockergate/error.h"
#include "dockergate/image.h"

/* Appends (without repeats) the x86-64 syscall names of WHICH: "none", "runc", "crun" or
 * "all" (every runtime measured), and with any of them restart_syscall, which the kernel
 * has every task call to restart an interrupted sleep. DG_E_USAGE for another word. */
int dg_runtime_base(const char *which, struct dg_strv *out, struct dg_error *err);

#endif
