/* Seccomp audit records from the kernel log, and the audit subsystem's state. */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "dockergate/kaudit.h"
#include "dockergate/util.h"

/* The value of " KEY=" in [s, e): a pointer to its first byte, or NULL. */
static const char *field(const char *s, const char *e, const char *key, const char **vend)
{
	size_t kl = strlen(key);
	for (const char *p = s; p + kl + 2 <= e; p++) {
		if (p[0] != ' ' || memcmp(p + 1, key, kl) || p[1 + kl] != '=')
			continue;
		const char *v = p + kl + 2, *q = v;
		while (q < e && *q != ' ')
			q++;
		*vend = q;
		return v;
	}
	return NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* An audit "untrusted string": "quoted", or hex when it held special bytes, or
 * "(null)"/"?" as is. Bytes that decode to NUL end the string. */
static void untrusted(const char *v, const char *e, char *out, size_t cap)
{
	size_t n = 0;
	if (v < e && *v == '"') {
		v++;
		while (v < e && *v != '"' && n + 1 < cap)
			out[n++] = *v++;
	} else if ((e - v) % 2 == 0 && e > v) {
		const char *p = v;
		for (; p < e; p += 2)
			if (hexval(p[0]) < 0 || hexval(p[1]) < 0)
				break;
		if (p == e) {
			for (p = v; p < e && n + 1 < cap; p += 2) {
				int c = hexval(p[0]) * 16 + hexval(p[1]);
				if (!c)
					break;
				out[n++] = (char)c;
			}
		} else {
			while (v < e && n + 1 < cap)
				out[n++] = *v++;
		}
	} else {
		while (v < e && n + 1 < cap)
			out[n++] = *v++;
	}
	if (!n)
		out[n++] = '?';
	out[n] = 0;
}

static int number(const char *v, const char *e, int base, unsigned long long *out)
{
	if (v >= e || (size_t)(e - v) > 24)
		return -1;
	char tmp[32];
	memcpy(tmp, v, (size_t)(e - v));
	tmp[e - v] = 0;
	char *end;
	errno = 0;
	unsigned long long x = strtoull(tmp, &end, base);
	if (errno || *end || end == tmp || tmp[0] == '-')
		return -1;
	*out = x;
	return 0;
}

int dg_seccomp_record_parse(const char *line, size_t len, struct dg_seccomp_record *r)
{
	/* a /dev/kmsg record: "PRI,SEQ,TS,FLAGS;MESSAGE\n continuation lines" */
	const char *s = line, *e = line + len;
	const char *semi = memchr(s, ';', len);
	if (semi && memchr(s, ' ', (size_t)(semi - s)) == NULL)
		s = semi + 1;
	const char *nl = memchr(s, '\n', (size_t)(e - s));
	if (nl)
		e = nl;
	static const char tag[] = "type=1326 audit(";
	const char *t = NULL;
	for (const char *p = s; p + sizeof tag - 1 <= e; p++)
		if (!memcmp(p, tag, sizeof tag - 1)) {
			t = p;
			break;
		}
	if (!t)
		return 0;
	memset(r, 0, sizeof *r);
	const char *colon = t + sizeof tag - 1;
	while (colon < e && *colon != ':' && *colon != ')')
		colon++;
	const char *close = colon;
	while (close < e && *close != ')')
		close++;
	unsigned long long x;
	if (colon < e && *colon == ':' && number(colon + 1, close, 10, &x) == 0)
		r->serial = x;
	const char *ve, *v;
	if (!(v = field(t, e, "pid", &ve)) || number(v, ve, 10, &x))
		return 0;
	r->pid = (long long)x;
	if (!(v = field(t, e, "arch", &ve)) || number(v, ve, 16, &x) || x > UINT32_MAX)
		return 0;
	r->arch = (uint32_t)x;
	if (!(v = field(t, e, "syscall", &ve)) || number(v, ve, 10, &x) || x > 100000)
		return 0;
	r->syscall = (int)x;
	if (!(v = field(t, e, "code", &ve)) || number(v, ve, 16, &x) || x > UINT32_MAX)
		return 0;
	r->code = (uint32_t)x;
	if ((v = field(t, e, "comm", &ve)))
		untrusted(v, ve, r->comm, sizeof r->comm);
	else
		strcpy(r->comm, "?");
	if ((v = field(t, e, "exe", &ve)))
		untrusted(v, ve, r->exe, sizeof r->exe);
	else
		strcpy(r->exe, "?");
	return 1;
}

struct dg_kmsg {
	int fd;
};

int dg_kmsg_open(struct dg_kmsg **out, struct dg_error *err)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return dg_err_sys(err, DG_E_ENV, errno, "/dev/kmsg");
	if (lseek(fd, 0, SEEK_END) < 0) {
		int e = errno;
		close(fd);
		return dg_err_sys(err, DG_E_ENV, e, "/dev/kmsg: seek to the end");
	}
	*out = dg_xcalloc(1, sizeof **out);
	(*out)->fd = fd;
	return 0;
}

long dg_kmsg_drain(struct dg_kmsg *k, dg_kmsg_fn cb, void *ud)
{
	char buf[8192];
	long n = 0;
	for (;;) {
		ssize_t r = read(k->fd, buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EPIPE)
			continue; /* records were overwritten before we read them; go on with the next */
		if (r <= 0)
			break;
		n++;
		struct dg_seccomp_record rec;
		if (dg_seccomp_record_parse(buf, (size_t)r, &rec))
			cb(&rec, ud);
	}
	return n;
}

void dg_kmsg_close(struct dg_kmsg *k)
{
	if (!k)
		return;
	close(k->fd);
	free(k);
}

int dg_audit_status(struct dg_audit_status *st, struct dg_error *err)
{
	memset(st, 0, sizeof *st);
	dg_autoclose int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
	if (fd < 0)
		return dg_err_sys(err, DG_E_ENV, errno, "audit netlink socket");
	struct timeval tv = {.tv_sec = 2};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	struct nlmsghdr req = {.nlmsg_len = NLMSG_LENGTH(0), .nlmsg_type = AUDIT_GET,
			       .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK, .nlmsg_seq = 1};
	if (sendto(fd, &req, req.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0)
		return dg_err_sys(err, DG_E_ENV, errno, "audit status (AUDIT_GET)");
	_Alignas(struct nlmsghdr) char buf[8192];
	for (int rounds = 0; rounds < 8; rounds++) {
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return dg_err_sys(err, DG_E_ENV, errno, "audit status (AUDIT_GET reply)");
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				if (h->nlmsg_len >= NLMSG_LENGTH(sizeof *e) && e->error)
					return dg_err_sys(err, DG_E_ENV, -e->error, "audit status (AUDIT_GET)");
			} else if (h->nlmsg_type == AUDIT_GET) {
				struct audit_status s;
				memset(&s, 0, sizeof s);
				size_t have = h->nlmsg_len - NLMSG_LENGTH(0);
				memcpy(&s, NLMSG_DATA(h), have < sizeof s ? have : sizeof s);
				st->enabled = s.enabled;
				st->pid = s.pid;
				st->lost = s.lost;
				return 0;
			}
		}
	}
	return dg_err(err, DG_E_ENV, "audit status (AUDIT_GET): no answer from the kernel");
}
