/* The kernel log's seccomp audit records, as `verify` reads them: real records
 * (copied from this machine's /dev/kmsg), hex-encoded names, other record types,
 * and damaged lines that must be refused without reading past their end. */
#include <stdlib.h>
#include <string.h>

#include "dockergate/kaudit.h"
#include "tap.h"

static int parse(const char *s, struct dg_seccomp_record *r)
{
	/* a private copy without the terminating NUL in reach: ASan sees any overread */
	size_t n = strlen(s);
	char *c = malloc(n ? n : 1);
	memcpy(c, s, n);
	int x = dg_seccomp_record_parse(c, n, r);
	free(c);
	return x;
}

int main(void)
{
	struct dg_seccomp_record r;
	const char *kmsg = "5,2383,91845123456,-;audit: type=1326 audit(1763876111.512:1077): auid=4294967295 "
			   "uid=0 gid=0 ses=4294967295 subj=unconfined pid=29880 comm=\"mkdir\" exe=\"/bin/busybox\" "
			   "sig=0 arch=c000003e syscall=83 compat=0 ip=0x4b6a3d code=0x7ffc0000\n"
			   " SUBSYSTEM=audit\n";
	ok(parse(kmsg, &r) == 1, "a /dev/kmsg seccomp record parses");
	ok(r.pid == 29880 && r.syscall == 83 && r.arch == DG_AUDIT_ARCH_X86_64 && r.code == DG_SECCOMP_RET_LOG,
	   "pid, syscall, arch and code");
	ok(r.serial == 1077, "audit serial");
	is_str(r.comm, "mkdir", "comm");
	is_str(r.exe, "/bin/busybox", "exe");

	/* a name with a space is hex-encoded, unquoted */
	const char *hex = "audit: type=1326 audit(1.2:3): pid=7 comm=72756E633A5B323A494E49545D "
			  "exe=2F6F70742F6D7920617070 sig=0 arch=40000003 syscall=5 compat=1 ip=0x1 code=0x7ffc0000";
	ok(parse(hex, &r) == 1 && r.arch == DG_AUDIT_ARCH_I386 && r.syscall == 5, "i386 record");
	is_str(r.comm, "runc:[2:INIT]", "hex-encoded comm decoded");
	is_str(r.exe, "/opt/my app", "hex-encoded exe with a space decoded");

	/* an even-length unquoted value that is not hex stays as it is; absent fields are "?" */
	ok(parse("audit: type=1326 audit(1.2:3): pid=7 exe=(null) arch=c000003e syscall=1 code=0x7fff0000", &r) == 1,
	   "a record without comm parses");
	is_str(r.comm, "?", "missing comm is ?");
	is_str(r.exe, "(null)", "unquoted non-hex exe kept");
	ok(r.code == 0x7fff0000, "an ALLOW-logged code is kept for the caller to filter");

	/* other records and damaged ones */
	ok(parse("audit: type=1400 audit(1.2:3): apparmor=\"DENIED\" pid=1 comm=\"x\" syscall=2 arch=c000003e "
		 "code=0x7ffc0000", &r) == 0, "another record type is not a seccomp record");
	ok(parse("audit: type=1326 audit(1.2:3): pid=7 comm=\"x\" arch=c000003e code=0x7ffc0000", &r) == 0,
	   "no syscall field: refused");
	ok(parse("audit: type=1326 audit(1.2:3): pid=-7 arch=c000003e syscall=1 code=0x7ffc0000", &r) == 0,
	   "negative pid: refused");
	ok(parse("audit: type=1326 audit(1.2:3): pid=7 arch=zz syscall=1 code=0x7ffc0000", &r) == 0,
	   "bad arch: refused");
	ok(parse("audit: type=1326 audit(1.2:3): pid=7 arch=c000003e syscall=99999999999999999999999 code=0x7ffc0000",
		 &r) == 0, "huge syscall number: refused");
	ok(parse("audit: type=1326 audit(", &r) == 0, "truncated record: refused");
	ok(parse("", &r) == 0, "empty line: refused");
	const char *full = "audit: type=1326 audit(1.2:3): pid=7 comm=\"abc\" exe=\"/x\" arch=c000003e syscall=2 code=0x7ffc0000";
	size_t n = strlen(full);
	int bad = 0;
	for (size_t cut = 0; cut < n; cut++) { /* every prefix: parsed or refused, never overread (ASan) */
		char *c = malloc(cut ? cut : 1);
		memcpy(c, full, cut);
		int x = dg_seccomp_record_parse(c, cut, &r);
		if (x == 1 && (r.pid != 7 || r.arch != DG_AUDIT_ARCH_X86_64))
			bad++;
		free(c);
	}
	ok(!bad, "every prefix of a record is parsed consistently or refused");
	/* a long comm is cut to the field's size */
	char longrec[600];
	snprintf(longrec, sizeof longrec, "audit: type=1326 audit(1.2:3): pid=7 comm=\"%0200d\" arch=c000003e syscall=2 code=0x7ffc0000", 0);
	ok(parse(longrec, &r) == 1 && strlen(r.comm) == sizeof r.comm - 1, "an over-long comm is cut, not overflowed");
	return tap_done();
}
