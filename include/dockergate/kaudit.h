/* The kernel's seccomp audit records (type=1326, AUDIT_SECCOMP) as the kernel
 * log (/dev/kmsg) shows them when no audit daemon is running: how `verify`
 * learns which syscalls a profile denied and which executable made them.
 *
 * A filter action of SCMP_ACT_LOG lets the call through and writes a record:
 *   audit: type=1326 audit(1732340000.123:4567): auid=4294967295 uid=0 gid=0
 *   ses=4294967295 subj=unconfined pid=12345 comm="nginx" exe="/usr/sbin/nginx"
 *   sig=0 arch=c000003e syscall=83 compat=0 ip=0x7f3a2b code=0x7ffc0000
 * comm and exe are quoted, or hex-encoded when they hold a space, a quote or a
 * byte outside 0x21..0x7e. exe is the path as the process sees it (inside the
 * container's root). The kernel prints at most printk_ratelimit_burst (10) of
 * them per printk_ratelimit (5 s); the rest only raise the audit "lost" count,
 * which dg_audit_status reads. */
#ifndef DOCKERGATE_KAUDIT_H
#define DOCKERGATE_KAUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "dockergate/error.h"

#define DG_AUDIT_ARCH_X86_64 0xc000003eu
#define DG_AUDIT_ARCH_I386 0x40000003u

struct dg_seccomp_record {
	long long pid;
	uint32_t arch;      /* AUDIT_ARCH_* */
	int syscall;        /* number in ARCH's table */
	uint32_t code;      /* the filter's return value (0x7ffc0000: SECCOMP_RET_LOG) */
	uint64_t serial;    /* audit(TIME:SERIAL) */
	char comm[64];      /* decoded; "?" when absent */
	char exe[4096];     /* decoded; "?" when absent */
};

#define DG_SECCOMP_RET_LOG 0x7ffc0000u

/* Parses one kernel log line. Returns 1 and fills R when it is a seccomp record,
 * 0 when it is anything else (another record type, a truncated or garbled one). */
int dg_seccomp_record_parse(const char *line, size_t len, struct dg_seccomp_record *r);

/* The kernel log from now on: opened non-blocking, positioned at its end. */
struct dg_kmsg;
int dg_kmsg_open(struct dg_kmsg **out, struct dg_error *err);
/* Calls CB for every seccomp record logged since open (or the last call);
 * returns how many records of any kind were read. */
typedef void (*dg_kmsg_fn)(const struct dg_seccomp_record *r, void *ud);
long dg_kmsg_drain(struct dg_kmsg *k, dg_kmsg_fn cb, void *ud);
void dg_kmsg_close(struct dg_kmsg *k);

/* The audit subsystem's state (AUDIT_GET over netlink; needs CAP_AUDIT_CONTROL):
 * ENABLED (0 off, 1 on, 2 locked), PID of the audit daemon that receives the
 * records instead of the kernel log (0: none), LOST records so far. */
struct dg_audit_status {
	uint32_t enabled, pid, lost;
};
int dg_audit_status(struct dg_audit_status *st, struct dg_error *err);

#endif
