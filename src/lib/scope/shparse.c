/* Static shell script parser: every simple command a script can run
 * (src/lib/scope/shparse.h, docs/design.md "Shell scripts").
 *
 * A recursive-descent parser working directly on the bytes (no separate
 * token stream): `P` is a cursor over one buffer (the script, a here-document
 * body inside it, or a string such as a backquoted command or `sh -c` text);
 * `struct shared` holds what every cursor of one dg_sh_parse call shares: the
 * output, the variable table and the caps. Nothing is global. Every read
 * goes through at(), which checks the buffer's end. */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scope/shparse.h"
#include "dockergate/util.h"

struct var {
	char *name;
	uint32_t hash;
	char *value; /* NULL: unknown */
	int placeholder; /* value holds "${PATH}" (the inherited PATH) */
	int exported;
};

struct shared {
	struct dg_sh_script *out;
	size_t cmd_cap, fn_cap, prob_cap;
	struct var *vars;
	size_t nvars, vars_cap, scope_top;
	int vars_overflow;
	size_t nwords;
	int stop;  /* a cap was reached: unwind everything */
	int abort; /* nesting too deep: unwind to the top level, resume at the next line */
	int nul_reported;
};

struct heredoc {
	char *delim;
	int quoted, strip;
};

typedef struct P {
	struct shared *sh;
	const char *s;
	size_t len, pos;
	unsigned line;
	int depth;
	unsigned ctx; /* DG_SH_IN_* flags given to every command found */
	enum dg_sh_dialect d;
	size_t floor; /* variables below this index are visible only when exported (sh -c) */
	int path_mode; /* reading the value of PATH=...: an inherited $PATH becomes "${PATH}" */
	struct heredoc *hd;
	size_t nhd;
} P;

struct word {
	struct dg_buf v;
	int dynamic, quoted;
	size_t start, end;
	unsigned line;
	int lbracket, brace_open, brace_comma;
};

struct wvec {
	struct dg_sh_word *v;
	size_t n, cap;
};

struct assign {
	char *name;
	char *value; /* NULL: unknown */
	int placeholder;
};

struct cb {
	struct wvec argv, assigns;
	struct assign *as; /* prefix assignments (argc == 0) or declaration arguments */
	size_t nas, nas_decl;
	unsigned line;
};

static void parse_list(P *p);
static int parse_command(P *p);
static void read_dq(P *p, struct word *w, int heredoc);
static void dollar(P *p, struct word *w, int in_dq);
static void backtick(P *p, struct word *w, int in_dq);
static void parse_buffer(P *p, const char *s, size_t len, unsigned line, unsigned ctx,
			 enum dg_sh_dialect d, int new_shell);

enum { T_EOF, T_NL, T_SEMI, T_DSEMI, T_SEMIAMP, T_DSEMIAMP, T_AMP, T_AND, T_OR, T_PIPE,
       T_PIPEAMP, T_LP, T_RP, T_REDIR, T_WORD };

/* ---- problems, caps, cursor ---- */

static void problem(P *p, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void problem(P *p, unsigned line, const char *fmt, ...)
{
	struct dg_sh_script *o = p->sh->out;
	if (o->nproblems >= DG_SH_MAX_PROBLEMS) {
		o->truncated = 1;
		return;
	}
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (o->nproblems == p->sh->prob_cap) {
		p->sh->prob_cap = p->sh->prob_cap ? 2 * p->sh->prob_cap : 8;
		o->problems = dg_xreallocarray(o->problems, p->sh->prob_cap, sizeof *o->problems);
	}
	o->problems[o->nproblems].line = line;
	o->problems[o->nproblems].msg =
		dg_xstrdup(o->nproblems + 1 == DG_SH_MAX_PROBLEMS ? "too many problems; later ones dropped" : msg);
	o->nproblems++;
}

static int halted(const P *p) { return p->sh->stop || p->sh->abort; }

static int enter(P *p)
{
	if (halted(p))
		return -1;
	if (p->depth >= DG_SH_MAX_DEPTH) {
		problem(p, p->line, "nesting deeper than %d levels; skipped to the next line", DG_SH_MAX_DEPTH);
		p->sh->abort = 1;
		return -1;
	}
	p->depth++;
	return 0;
}

static void leave(P *p) { p->depth--; }

static int at(const P *p, size_t off)
{
	size_t i = p->pos + off;
	return i < p->len && i >= p->pos ? (unsigned char)p->s[i] : -1;
}

static void adv(P *p)
{
	if (p->pos < p->len) {
		if (p->s[p->pos] == '\n')
			p->line++;
		p->pos++;
	}
}

static void advn(P *p, size_t n)
{
	while (n--)
		adv(p);
}

static int is_meta(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '&' || c == '|' || c == '<' ||
	       c == '>' || c == '(' || c == ')' || c == 0;
}

static int is_delim(int c) { return c < 0 || is_meta(c); }
static int name_start(int c) { return c == '_' || (c >= 0 && c < 128 && isalpha(c)); }
static int name_char(int c) { return c == '_' || (c >= 0 && c < 128 && isalnum(c)); }

static void nul_byte(P *p)
{
	if (!p->sh->nul_reported)
		problem(p, p->line, "NUL byte in the script (ignored)");
	p->sh->nul_reported = 1;
}

/* Blanks, line continuations, NUL bytes and a comment (at a token start). */
static void skip_blanks(P *p)
{
	for (;;) {
		int c = at(p, 0);
		if (c == ' ' || c == '\t') {
			adv(p);
		} else if (c == '\\' && at(p, 1) == '\n') {
			advn(p, 2);
		} else if (c == 0) {
			nul_byte(p);
			adv(p);
		} else if (c == '#') {
			while (at(p, 0) >= 0 && at(p, 0) != '\n')
				adv(p);
		} else {
			return;
		}
	}
}

static int peek_kw(const P *p, const char *kw)
{
	size_t n = strlen(kw);
	if (p->len - p->pos < n || memcmp(p->s + p->pos, kw, n))
		return 0;
	return is_delim(at(p, n));
}

/* The next token's type after blanks; *N its length for operators. */
static int peek_tok(P *p, size_t *n)
{
	size_t dummy;
	if (!n)
		n = &dummy;
	skip_blanks(p);
	int c = at(p, 0), c1 = at(p, 1);
	*n = 1;
	switch (c) {
	case -1:
		*n = 0;
		return T_EOF;
	case '\n':
		return T_NL;
	case ';':
		if (c1 == ';') {
			*n = at(p, 2) == '&' ? 3 : 2;
			return *n == 3 ? T_DSEMIAMP : T_DSEMI;
		}
		if (c1 == '&') {
			*n = 2;
			return T_SEMIAMP;
		}
		return T_SEMI;
	case '&':
		if (c1 == '&') {
			*n = 2;
			return T_AND;
		}
		if (c1 == '>' && p->d == DG_SH_BASH)
			return T_REDIR;
		return T_AMP;
	case '|':
		if (c1 == '|') {
			*n = 2;
			return T_OR;
		}
		if (c1 == '&' && p->d == DG_SH_BASH) {
			*n = 2;
			return T_PIPEAMP;
		}
		return T_PIPE;
	case '(':
		return T_LP;
	case ')':
		return T_RP;
	case '<':
	case '>':
		if (c1 == '(' && p->d == DG_SH_BASH)
			return T_WORD; /* process substitution */
		return T_REDIR;
	default:
		break;
	}
	if (c >= '0' && c <= '9') {
		size_t i = 0;
		while (at(p, i) >= '0' && at(p, i) <= '9')
			i++;
		if (at(p, i) == '<' || at(p, i) == '>')
			return T_REDIR;
	}
	return T_WORD;
}

static void read_heredocs(P *p);

/* Here-documents still pending in a cursor that is done (their body never came). */
static void drop_pending(P *c)
{
	for (size_t i = 0; i < c->nhd; i++)
		free(c->hd[i].delim);
	free(c->hd);
	c->hd = NULL;
	c->nhd = 0;
}

static void consume_newline(P *p)
{
	adv(p);
	if (p->nhd)
		read_heredocs(p);
}

static void linebreak(P *p)
{
	while (!halted(p) && peek_tok(p, NULL) == T_NL)
		consume_newline(p);
}

static void skip_line(P *p)
{
	while (at(p, 0) >= 0 && at(p, 0) != '\n')
		adv(p);
	if (at(p, 0) == '\n')
		consume_newline(p);
}

/* ---- variables ---- */

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static int lookup(const P *p, const char *name, const char **val, int *ph)
{
	const struct shared *sh = p->sh;
	if (sh->vars_overflow)
		return 2;
	uint32_t h = name_hash(name);
	for (size_t i = sh->nvars; i-- > 0;) {
		const struct var *v = &sh->vars[i];
		if (v->hash != h || strcmp(v->name, name))
			continue;
		if (i < p->floor && !v->exported && strcmp(name, "PATH"))
			return 0;
		if (!v->value)
			return 2;
		*val = v->value;
		*ph = v->placeholder;
		return 1;
	}
	return 0;
}

static void setvar(P *p, const char *name, const char *value, int ph, int exported)
{
	struct shared *sh = p->sh;
	if (sh->vars_overflow)
		return;
	uint32_t h = name_hash(name);
	for (size_t i = sh->nvars; i-- > 0;) {
		struct var *v = &sh->vars[i];
		if (v->hash != h || strcmp(v->name, name))
			continue;
		exported |= v->exported;
		if (i >= sh->scope_top) {
			free(v->value);
			v->value = value ? dg_xstrdup(value) : NULL;
			v->placeholder = ph;
			v->exported = exported;
			return;
		}
		break;
	}
	if (sh->nvars >= DG_SH_MAX_VARS) {
		sh->vars_overflow = 1;
		problem(p, p->line, "more than %d variable assignments: values no longer tracked",
			DG_SH_MAX_VARS);
		return;
	}
	if (sh->nvars == sh->vars_cap) {
		sh->vars_cap = sh->vars_cap ? 2 * sh->vars_cap : 16;
		sh->vars = dg_xreallocarray(sh->vars, sh->vars_cap, sizeof *sh->vars);
	}
	struct var *v = &sh->vars[sh->nvars++];
	v->name = dg_xstrdup(name);
	v->hash = h;
	v->value = value ? dg_xstrdup(value) : NULL;
	v->placeholder = ph;
	v->exported = exported || !strcmp(name, "PATH");
}

struct scope {
	size_t mark, old_top;
};

static struct scope scope_open(P *p)
{
	struct scope s = {p->sh->nvars, p->sh->scope_top};
	p->sh->scope_top = p->sh->nvars;
	return s;
}

/* Ends a scope. A subshell's assignments vanish; a conditional region's
 * (if/case branches, loops, && ||, function bodies) leave their variables
 * unknown after it. */
static void scope_close(P *p, struct scope s, int cond)
{
	struct shared *sh = p->sh;
	size_t n = sh->nvars > s.mark ? sh->nvars - s.mark : 0;
	struct var *gone = n ? dg_xmalloc(n * sizeof *gone) : NULL;
	if (n)
		memcpy(gone, sh->vars + s.mark, n * sizeof *gone);
	if (sh->nvars > s.mark)
		sh->nvars = s.mark;
	sh->scope_top = s.old_top;
	for (size_t i = 0; i < n; i++) {
		if (cond)
			setvar(p, gone[i].name, NULL, 0, gone[i].exported);
		free(gone[i].name);
		free(gone[i].value);
	}
	free(gone);
}

/* dg_buf_steal, but "" (terminated) for an empty buffer. */
static char *buf_str(struct dg_buf *b)
{
	if (!b->len) {
		dg_buf_free(b);
		return dg_xstrdup("");
	}
	return dg_buf_steal(b);
}

/* ---- words ---- */

static void word_begin(P *p, struct word *w)
{
	memset(w, 0, sizeof *w);
	w->start = p->pos;
	w->line = p->line;
}

static void word_free(struct word *w) { dg_buf_free(&w->v); }

static char *word_text(const P *p, struct word *w)
{
	if (w->dynamic) {
		size_t n = w->end > w->start ? w->end - w->start : 0;
		dg_buf_free(&w->v);
		/* raw source; NUL bytes in it would cut the text short: replace them */
		char *t = dg_xmalloc(n + 1);
		if (n)
			memcpy(t, p->s + w->start, n);
		t[n] = 0;
		for (size_t i = 0; i < n; i++)
			if (!t[i])
				t[i] = '?';
		return t;
	}
	return buf_str(&w->v);
}

static int count_word(P *p)
{
	if (++p->sh->nwords > DG_SH_MAX_WORDS) {
		if (!p->sh->stop)
			problem(p, p->line, "more than %d words: parse stopped", DG_SH_MAX_WORDS);
		p->sh->stop = 1;
		p->sh->out->truncated = 1;
		return -1;
	}
	return 0;
}

static void expand_var(P *p, struct word *w, const char *name, int quoted)
{
	const char *val = NULL;
	int ph = 0;
	int r = lookup(p, name, &val, &ph);
	if (r == 1 && (!ph || p->path_mode)) {
		if (!quoted && strpbrk(val, " \t\n*?["))
			w->dynamic = 1; /* field splitting or pathname expansion */
		dg_buf_puts(&w->v, val);
	} else if (r == 0 && p->path_mode && !strcmp(name, "PATH")) {
		dg_buf_puts(&w->v, "${PATH}");
	} else {
		w->dynamic = 1;
	}
}

/* $((...)) or ((...)): with P at the first '(' of "((", is it arithmetic (a
 * "))" closes it) rather than nested subshells? *END: offset after "))".
 * The look-ahead stops at a newline: it is not consumed, so a longer one
 * would make nested "$(((((" lines quadratic. */
static int arith_end(const P *p, size_t *end)
{
	int d = 2;
	char q = 0;
	for (size_t i = 2;; i++) {
		int c = at(p, i);
		if (c < 0 || c == '\n')
			return 0;
		if (q) {
			if (c == q)
				q = 0;
			else if (c == '\\' && q == '"')
				i++;
			continue;
		}
		if (c == '\'' || c == '"') {
			q = (char)c;
		} else if (c == '\\') {
			i++;
		} else if (c == '(') {
			d++;
		} else if (c == ')') {
			if (d == 2) {
				if (at(p, i + 1) != ')')
					return 0;
				*end = i + 2;
				return 1;
			}
			d--;
		}
	}
}

/* Skips the arithmetic expression at P ("((" .. "))", END from arith_end); its
 * $(..) and `..` still run: they are parsed like a here-document's body. */
static void skip_arith(P *p, size_t end)
{
	size_t start = p->pos + 2, stop = p->pos + end - 2;
	if (!enter(p)) {
		P c = *p;
		c.len = stop;
		c.pos = start;
		c.hd = NULL;
		c.nhd = 0;
		c.path_mode = 0;
		c.ctx = p->ctx | DG_SH_IN_SUBST;
		while (c.pos < c.len && !halted(&c)) {
			struct word w;
			word_begin(&c, &w);
			read_dq(&c, &w, 1);
			word_free(&w);
		}
		drop_pending(&c);
		leave(p);
	}
	advn(p, end);
}

static void cmd_subst(P *p, struct word *w)
{
	/* P at '(' */
	unsigned line = p->line;
	w->dynamic = 1;
	adv(p);
	if (enter(p))
		return;
	unsigned ctx = p->ctx;
	int pm = p->path_mode;
	p->ctx |= DG_SH_IN_SUBST;
	p->path_mode = 0;
	struct scope sc = scope_open(p);
	parse_list(p);
	if (!halted(p)) {
		if (peek_tok(p, NULL) == T_RP)
			adv(p);
		else
			problem(p, line, "unterminated command substitution");
	}
	scope_close(p, sc, 0);
	p->ctx = ctx;
	p->path_mode = pm;
	leave(p);
}

static void read_single(P *p, struct word *w)
{
	/* P after the opening quote */
	unsigned line = p->line;
	for (;;) {
		int c = at(p, 0);
		if (c < 0) {
			problem(p, line, "unterminated single quote");
			return;
		}
		adv(p);
		if (c == '\'')
			return;
		if (c)
			dg_buf_putc(&w->v, (char)c);
	}
}

static void read_ansi_c(P *p, struct word *w)
{
	/* P after $' */
	unsigned line = p->line;
	for (;;) {
		int c = at(p, 0);
		if (c < 0) {
			problem(p, line, "unterminated $'...'");
			return;
		}
		adv(p);
		if (c == '\'')
			return;
		if (c != '\\') {
			if (c)
				dg_buf_putc(&w->v, (char)c);
			continue;
		}
		int e = at(p, 0);
		if (e < 0)
			continue;
		adv(p);
		const char *map = "n\nt\tr\ra\ab\be\033E\033f\fv\v\\\\''\"\"??";
		const char *m = NULL;
		for (const char *k = map; *k; k += 2)
			if (*k == e) {
				m = k + 1;
				break;
			}
		if (m) {
			dg_buf_putc(&w->v, *m);
		} else if ((e >= '0' && e <= '7') || e == 'x') {
			int v = 0, digits = 0, base = e == 'x' ? 16 : 8, max = e == 'x' ? 2 : 3;
			if (e != 'x') {
				v = e - '0';
				digits = 1;
			}
			while (digits < max && at(p, 0) >= 0 && isxdigit(at(p, 0)) &&
			       (base == 16 || (at(p, 0) >= '0' && at(p, 0) <= '7'))) {
				int d = at(p, 0);
				v = v * base + (isdigit(d) ? d - '0' : (tolower(d) - 'a' + 10));
				digits++;
				adv(p);
			}
			if (v & 0xff)
				dg_buf_putc(&w->v, (char)(v & 0xff));
		} else {
			w->dynamic = 1; /* \u, \c...: not decoded */
			dg_buf_putc(&w->v, '\\');
			if (e)
				dg_buf_putc(&w->v, (char)e);
		}
	}
}

/* The word part of ${NAME<op>WORD}, up to the closing brace (consumed). */
static void read_brace_word(P *p, struct word *w, int in_dq, unsigned line)
{
	for (;;) {
		if (halted(p))
			return;
		int c = at(p, 0);
		if (c < 0) {
			problem(p, line, "unterminated ${...}");
			return;
		}
		if (c == '}') {
			adv(p);
			return;
		}
		if (c == '\\') {
			int n = at(p, 1);
			advn(p, 2);
			if (n > 0 && n != '\n')
				dg_buf_putc(&w->v, (char)n);
		} else if (c == '\'' && !in_dq) {
			adv(p);
			read_single(p, w);
		} else if (c == '"') {
			adv(p);
			read_dq(p, w, 0);
		} else if (c == '$') {
			dollar(p, w, 1);
		} else if (c == '`') {
			backtick(p, w, in_dq);
		} else {
			if (c == '*' || c == '?' || c == '[')
				w->dynamic = 1; /* a pattern */
			if (c)
				dg_buf_putc(&w->v, (char)c);
			adv(p);
		}
	}
}

static void brace_param(P *p, struct word *w, int in_dq)
{
	/* P at '{' */
	unsigned line = p->line;
	adv(p);
	if (enter(p)) {
		w->dynamic = 1;
		return;
	}
	int special = 0;
	char name[128];
	size_t nl = 0;
	int c = at(p, 0);
	if ((c == '#' || c == '!') && at(p, 1) != '}') {
		special = 1;
		adv(p);
		c = at(p, 0);
	}
	if (name_start(c)) {
		while (name_char(at(p, 0))) {
			if (nl + 1 < sizeof name)
				name[nl++] = (char)at(p, 0);
			else
				special = 1; /* too long to look up: unknown */
			adv(p);
		}
	} else if (c >= '0' && c <= '9') {
		special = 1;
		while (at(p, 0) >= '0' && at(p, 0) <= '9')
			adv(p);
	} else if (c >= 0 && strchr("@*#?-$!", c) && c) {
		special = 1;
		adv(p);
	} else {
		special = 1;
		if (c != '}')
			problem(p, line, "bad substitution");
	}
	name[nl] = 0;
	c = at(p, 0);
	if (c == '}') {
		adv(p);
		if (special || !nl)
			w->dynamic = 1;
		else
			expand_var(p, w, name, in_dq);
		leave(p);
		return;
	}
	/* ${NAME op WORD} */
	char op[3] = {0};
	if (c == ':' && at(p, 1) >= 0 && strchr("-=?+", at(p, 1))) {
		op[0] = ':';
		op[1] = (char)at(p, 1);
		advn(p, 2);
	} else if (c == '-' || c == '=' || c == '?' || c == '+') {
		op[0] = (char)c;
		adv(p);
	}
	struct word alt;
	word_begin(p, &alt);
	read_brace_word(p, &alt, in_dq, line);
	const char *val = NULL;
	int ph = 0;
	int r = (!special && nl && op[0]) ? lookup(p, name, &val, &ph) : 2;
	if (r == 1 && ph && !p->path_mode)
		r = 2;
	char o = op[0] == ':' ? op[1] : op[0];
	int colon = op[0] == ':';
	if (r != 1 || o == '?') {
		w->dynamic = 1;
	} else if (o == '-' || o == '=') {
		if (*val || !colon) {
			dg_buf_puts(&w->v, val);
		} else if (alt.dynamic) {
			w->dynamic = 1;
		} else if (alt.v.len) {
			dg_buf_append(&w->v, alt.v.data, alt.v.len);
		}
	} else if (o == '+') {
		if (*val || !colon) {
			if (alt.dynamic)
				w->dynamic = 1;
			else if (alt.v.len)
				dg_buf_append(&w->v, alt.v.data, alt.v.len);
		}
	} else {
		w->dynamic = 1;
	}
	word_free(&alt);
	leave(p);
}

static void dollar(P *p, struct word *w, int in_dq)
{
	/* P at '$' */
	int c = at(p, 1);
	if (c == '{') {
		adv(p);
		brace_param(p, w, in_dq);
	} else if (c == '(') {
		adv(p);
		size_t end;
		if (at(p, 1) == '(' && arith_end(p, &end)) {
			skip_arith(p, end);
			w->dynamic = 1;
		} else {
			cmd_subst(p, w);
		}
	} else if (c == '\'' && !in_dq && p->d == DG_SH_BASH) {
		advn(p, 2);
		w->quoted = 1;
		read_ansi_c(p, w);
	} else if (c == '"' && !in_dq && p->d == DG_SH_BASH) {
		advn(p, 2);
		w->quoted = 1;
		read_dq(p, w, 0);
	} else if (name_start(c)) {
		char name[128];
		size_t nl = 0;
		adv(p);
		int too_long = 0;
		while (name_char(at(p, 0))) {
			if (nl + 1 < sizeof name)
				name[nl++] = (char)at(p, 0);
			else
				too_long = 1;
			adv(p);
		}
		name[nl] = 0;
		if (too_long)
			w->dynamic = 1;
		else
			expand_var(p, w, name, in_dq);
	} else if (c > 0 && ((c >= '0' && c <= '9') || strchr("@*#?-$!", c))) {
		advn(p, 2);
		w->dynamic = 1;
	} else {
		adv(p);
		dg_buf_putc(&w->v, '$');
	}
}

static void backtick(P *p, struct word *w, int in_dq)
{
	/* P at '`' */
	unsigned line = p->line;
	struct dg_buf b = {0};
	w->dynamic = 1;
	adv(p);
	for (;;) {
		int c = at(p, 0);
		if (c < 0) {
			problem(p, line, "unterminated `...`");
			break;
		}
		if (c == '`') {
			adv(p);
			break;
		}
		if (c == '\\' && at(p, 1) >= 0) {
			int n = at(p, 1);
			if (n == '`' || n == '\\' || n == '$' || (in_dq && n == '"')) {
				dg_buf_putc(&b, (char)n);
				advn(p, 2);
				continue;
			}
			if (n == '\n') {
				advn(p, 2);
				continue;
			}
		}
		dg_buf_putc(&b, (char)c);
		adv(p);
	}
	if (b.len)
		parse_buffer(p, b.data, b.len, line, DG_SH_IN_SUBST, p->d, 0);
	dg_buf_free(&b);
}

static void read_dq(P *p, struct word *w, int heredoc)
{
	/* P after the opening quote (or at a here-document body) */
	unsigned line = p->line;
	w->quoted = 1;
	for (;;) {
		if (halted(p))
			return;
		int c = at(p, 0);
		if (c < 0) {
			if (!heredoc)
				problem(p, line, "unterminated double quote");
			return;
		}
		if (c == '"' && !heredoc) {
			adv(p);
			return;
		}
		if (c == '\\') {
			int n = at(p, 1);
			if (n == '\n') {
				advn(p, 2);
			} else if (n == '$' || n == '`' || n == '\\' || (n == '"' && !heredoc)) {
				dg_buf_putc(&w->v, (char)n);
				advn(p, 2);
			} else {
				dg_buf_putc(&w->v, '\\');
				adv(p);
			}
		} else if (c == '$') {
			dollar(p, w, 1);
		} else if (c == '`') {
			backtick(p, w, 1);
		} else {
			if (c)
				dg_buf_putc(&w->v, (char)c);
			adv(p);
		}
	}
}

static void procsubst(P *p, struct word *w)
{
	/* P at '<' or '>' before '(' */
	adv(p);
	cmd_subst(p, w);
}

/* One word; ASSIGN_OK: an assignment may start here (tracks PATH=...$PATH). */
static int read_word(P *p, struct word *w, int assign_ok)
{
	word_begin(p, w);
	if (count_word(p))
		return -1;
	int pm = p->path_mode;
	if (assign_ok && (p->len - p->pos >= 5 && !memcmp(p->s + p->pos, "PATH=", 5)))
		p->path_mode = 1;
	for (;;) {
		if (halted(p))
			break;
		int c = at(p, 0);
		if (c < 0)
			break;
		if ((c == '<' || c == '>') && at(p, 1) == '(' && p->d == DG_SH_BASH) {
			procsubst(p, w);
			continue;
		}
		if (is_meta(c))
			break;
		switch (c) {
		case '\\':
			if (at(p, 1) == '\n') {
				advn(p, 2);
			} else if (at(p, 1) < 0) {
				dg_buf_putc(&w->v, '\\');
				adv(p);
			} else {
				if (at(p, 1))
					dg_buf_putc(&w->v, (char)at(p, 1));
				w->quoted = 1;
				advn(p, 2);
			}
			break;
		case '\'':
			w->quoted = 1;
			adv(p);
			read_single(p, w);
			break;
		case '"':
			adv(p);
			read_dq(p, w, 0);
			break;
		case '$':
			dollar(p, w, 0);
			break;
		case '`':
			backtick(p, w, 0);
			break;
		case '*':
		case '?':
			w->dynamic = 1;
			dg_buf_putc(&w->v, (char)c);
			adv(p);
			break;
		case '[':
			w->lbracket = 1;
			dg_buf_putc(&w->v, (char)c);
			adv(p);
			break;
		case ']':
			if (w->lbracket)
				w->dynamic = 1;
			dg_buf_putc(&w->v, (char)c);
			adv(p);
			break;
		case '~':
			if (p->pos == w->start)
				w->dynamic = 1;
			dg_buf_putc(&w->v, (char)c);
			adv(p);
			break;
		case '{':
		case '}':
		case ',':
			if (c == '{')
				w->brace_open = 1;
			else if (c == ',' && w->brace_open)
				w->brace_comma = 1;
			else if (c == '}' && w->brace_comma && p->d == DG_SH_BASH)
				w->dynamic = 1; /* brace expansion */
			dg_buf_putc(&w->v, (char)c);
			adv(p);
			break;
		default:
			dg_buf_putc(&w->v, (char)c);
			adv(p);
		}
	}
	w->end = p->pos;
	p->path_mode = pm;
	return 0;
}

/* Length of NAME in "NAME=..." / "NAME+=..." at the start of W's raw text. */
static size_t assign_name_len(const P *p, const struct word *w, int *append)
{
	size_t i = w->start;
	*append = 0;
	if (i >= w->end || !name_start((unsigned char)p->s[i]))
		return 0;
	while (i < w->end && name_char((unsigned char)p->s[i]))
		i++;
	size_t n = i - w->start;
	if (p->d == DG_SH_BASH && i < w->end && p->s[i] == '[') {
		/* NAME[SUBSCRIPT]=...: an element; the variable's value becomes unknown */
		while (i < w->end && p->s[i] != ']')
			i++;
		if (i + 1 < w->end && p->s[i + 1] == '=') {
			*append = 1;
			return n;
		}
		if (i + 2 < w->end && p->s[i + 1] == '+' && p->s[i + 2] == '=') {
			*append = 1;
			return n;
		}
		return 0;
	}
	if (i < w->end && p->s[i] == '=')
		return i - w->start;
	if (p->d == DG_SH_BASH && i + 1 < w->end && p->s[i] == '+' && p->s[i + 1] == '=') {
		*append = 1;
		return i - w->start;
	}
	return 0;
}

/* ---- here-documents ---- */

static void read_heredocs(P *p)
{
	size_t n = p->nhd;
	struct heredoc *hd = p->hd;
	p->hd = NULL;
	p->nhd = 0;
	for (size_t k = 0; k < n; k++) {
		struct heredoc *h = &hd[k];
		size_t bstart = p->pos, bend = p->len, dl = strlen(h->delim);
		unsigned bline = p->line, startline = p->line;
		int found = 0;
		while (p->pos < p->len) {
			size_t ls = p->pos, le = ls;
			while (le < p->len && p->s[le] != '\n')
				le++;
			size_t i = ls;
			if (h->strip)
				while (i < le && p->s[i] == '\t')
					i++;
			int match = le - i == dl && !memcmp(p->s + i, h->delim, dl);
			p->pos = le;
			if (le < p->len)
				adv(p);
			if (match) {
				bend = ls;
				found = 1;
				break;
			}
		}
		if (!found)
			problem(p, startline, "unterminated here-document (delimiter '%s')", h->delim);
		if (!h->quoted && bend > bstart && !halted(p) && !enter(p)) {
			P c = *p;
			c.s = p->s;
			c.len = bend;
			c.pos = bstart;
			c.line = bline;
			c.hd = NULL;
			c.nhd = 0;
			c.ctx = p->ctx | DG_SH_IN_SUBST;
			c.path_mode = 0;
			while (c.pos < c.len && !halted(&c)) {
				struct word w;
				word_begin(&c, &w);
				read_dq(&c, &w, 1);
				word_free(&w);
			}
			drop_pending(&c);
			leave(p);
		}
		free(h->delim);
	}
	free(hd);
}

static void parse_redir(P *p)
{
	unsigned line = p->line;
	while (at(p, 0) >= '0' && at(p, 0) <= '9')
		adv(p);
	int c = at(p, 0), c1 = at(p, 1), c2 = at(p, 2);
	int heredoc = 0, strip = 0;
	if (c == '<' && c1 == '<' && c2 == '<') {
		advn(p, 3);
	} else if (c == '<' && c1 == '<') {
		heredoc = 1;
		strip = c2 == '-';
		advn(p, strip ? 3 : 2);
	} else if (c == '&') {
		advn(p, c2 == '>' ? 3 : 2);
	} else if (c1 == '>' || c1 == '&' || (c == '<' && c1 == '>') || (c == '>' && c1 == '|')) {
		advn(p, 2);
	} else {
		adv(p);
	}
	if (peek_tok(p, NULL) != T_WORD) {
		problem(p, line, "redirection without a target");
		return;
	}
	struct word w;
	if (read_word(p, &w, 0))
		return;
	if (heredoc) {
		struct dg_buf d = {0};
		int quoted = 0;
		for (size_t i = w.start; i < w.end; i++) {
			char ch = p->s[i];
			if (ch == '\'' || ch == '"') {
				quoted = 1;
			} else if (ch == '\\') {
				quoted = 1;
				if (i + 1 < w.end)
					dg_buf_putc(&d, p->s[++i]);
			} else if (ch) {
				dg_buf_putc(&d, ch);
			}
		}
		p->hd = dg_xreallocarray(p->hd, p->nhd + 1, sizeof *p->hd);
		p->hd[p->nhd].delim = buf_str(&d);
		p->hd[p->nhd].quoted = quoted;
		p->hd[p->nhd].strip = strip;
		p->nhd++;
	}
	word_free(&w);
}

/* ---- commands ---- */

static void wvec_push(struct wvec *v, char *text, int dynamic)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? 2 * v->cap : 4;
		v->v = dg_xreallocarray(v->v, v->cap, sizeof *v->v);
	}
	v->v[v->n].text = text;
	v->v[v->n].dynamic = dynamic;
	v->n++;
}

static void wvec_free(struct wvec *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->v[i].text);
	free(v->v);
	memset(v, 0, sizeof *v);
}

static void cb_free(struct cb *cb)
{
	wvec_free(&cb->argv);
	wvec_free(&cb->assigns);
	for (size_t i = 0; i < cb->nas; i++) {
		free(cb->as[i].name);
		free(cb->as[i].value);
	}
	free(cb->as);
}

static const char *const posix_builtins[] = {
	".", ":", "[", "alias", "bg", "break", "cd", "chdir", "command", "continue", "echo", "eval",
	"exec", "exit", "export", "false", "fc", "fg", "getopts", "hash", "jobs", "kill", "local",
	"printf", "pwd", "read", "readonly", "return", "set", "shift", "source", "test", "times",
	"trap", "true", "type", "ulimit", "umask", "unalias", "unset", "wait", NULL};
static const char *const bash_builtins[] = {
	"[[", "bind", "builtin", "caller", "compgen", "complete", "compopt", "declare", "dirs",
	"disown", "enable", "help", "history", "let", "logout", "mapfile", "popd", "pushd",
	"readarray", "shopt", "suspend", "typeset", NULL};

static int in_list(const char *const *l, const char *s)
{
	for (; *l; l++)
		if (!strcmp(*l, s))
			return 1;
	return 0;
}

static int is_builtin(enum dg_sh_dialect d, const char *s)
{
	return in_list(posix_builtins, s) || (d == DG_SH_BASH && in_list(bash_builtins, s));
}

static int valid_name(const char *s)
{
	if (!name_start((unsigned char)*s))
		return 0;
	for (; *s; s++)
		if (!name_char((unsigned char)*s))
			return 0;
	return 1;
}

static void push_cmd(P *p, struct dg_sh_cmd *c)
{
	struct shared *sh = p->sh;
	struct dg_sh_script *o = sh->out;
	if (o->ncmds >= DG_SH_MAX_CMDS) {
		if (!sh->stop)
			problem(p, c->line, "more than %d commands: parse stopped", DG_SH_MAX_CMDS);
		sh->stop = 1;
		o->truncated = 1;
		for (size_t i = 0; i < c->argc; i++)
			free(c->argv[i].text);
		for (size_t i = 0; i < c->nassigns; i++)
			free(c->assigns[i].text);
		free(c->argv);
		free(c->assigns);
		free(c->path);
		return;
	}
	if (o->ncmds == sh->cmd_cap) {
		sh->cmd_cap = sh->cmd_cap ? 2 * sh->cmd_cap : 16;
		o->cmds = dg_xreallocarray(o->cmds, sh->cmd_cap, sizeof *o->cmds);
	}
	o->cmds[o->ncmds++] = *c;
}

static char *current_path(const P *p, const struct cb *cb)
{
	for (size_t i = cb->nas_decl ? 0 : cb->nas; i-- > 0;)
		if (!strcmp(cb->as[i].name, "PATH"))
			return dg_xstrdup(cb->as[i].value ? cb->as[i].value : "");
	const char *val = NULL;
	int ph = 0;
	switch (lookup(p, "PATH", &val, &ph)) {
	case 0:
		return NULL;
	case 1:
		return dg_xstrdup(val);
	default:
		return dg_xstrdup("");
	}
}

static void apply_assigns(P *p, const struct cb *cb, int exported)
{
	for (size_t i = 0; i < cb->nas; i++)
		setvar(p, cb->as[i].name, cb->as[i].value, cb->as[i].placeholder, exported);
}

static char *join_static(const struct dg_sh_word *v, size_t n)
{
	struct dg_buf b = {0};
	for (size_t i = 0; i < n; i++) {
		if (v[i].dynamic) {
			dg_buf_free(&b);
			return NULL;
		}
		if (i)
			dg_buf_putc(&b, ' ');
		dg_buf_puts(&b, v[i].text);
	}
	return buf_str(&b);
}

/* Nested strings: sh -c STRING, trap STRING, eval STRING. */
static void nested(P *p, const struct cb *cb, const struct dg_sh_cmd *c, const char *name)
{
	const struct dg_sh_word *a = c->argv;
	size_t n = c->argc;
	if (!(c->flags & DG_SH_BUILTIN) || (c->flags & DG_SH_EXEC)) {
		const char *base = strrchr(name, '/');
		base = base ? base + 1 : name;
		if (strcmp(base, "sh") && strcmp(base, "bash") && strcmp(base, "dash") && strcmp(base, "ash"))
			return;
		int has_c = 0;
		size_t i = 1;
		for (; i < n; i++) {
			if (a[i].dynamic)
				return;
			const char *t = a[i].text;
			if (!strcmp(t, "--")) {
				i++;
				break;
			}
			if ((t[0] != '-' && t[0] != '+') || !t[1])
				break;
			if ((t[1] == 'o' || t[1] == 'O') && !t[2]) {
				i++;
				continue;
			}
			if (t[1] != '-' && strchr(t + 1, 'c'))
				has_c = 1;
		}
		if (!has_c || i >= n || a[i].dynamic)
			return;
		struct scope sc = scope_open(p);
		size_t floor = p->floor;
		p->floor = p->sh->nvars;
		apply_assigns(p, cb, 1);
		parse_buffer(p, a[i].text, strlen(a[i].text), c->line, DG_SH_IN_STRING,
			     strcmp(base, "bash") ? DG_SH_POSIX : DG_SH_BASH, 1);
		p->floor = floor;
		scope_close(p, sc, 0);
		return;
	}
	if (!strcmp(name, "trap")) {
		size_t i = 1;
		if (i < n && !a[i].dynamic && !strcmp(a[i].text, "--"))
			i++;
		if (i + 1 >= n || a[i].dynamic || !a[i].text[0] || (a[i].text[0] == '-' && !a[i].text[1]))
			return;
		if (a[i].text[0] == '-' && i == 1 && (!strcmp(a[i].text, "-p") || !strcmp(a[i].text, "-l")))
			return;
		parse_buffer(p, a[i].text, strlen(a[i].text), c->line, DG_SH_IN_TRAP, p->d, 0);
	} else if (!strcmp(name, "eval")) {
		p->sh->out->uses_eval = 1;
		char *s = join_static(a + 1, n - 1);
		if (s && *s)
			parse_buffer(p, s, strlen(s), c->line, DG_SH_IN_EVAL, p->d, 0);
		else if (!s)
			setvar(p, "PATH", NULL, 0, 1); /* a dynamic eval could set anything */
		free(s);
	}
}

/* Variables a builtin changes. */
static void builtin_effects(P *p, const struct cb *cb, const struct dg_sh_cmd *c, const char *name)
{
	const struct dg_sh_word *a = c->argv;
	size_t n = c->argc;
	if (!strcmp(name, "export") || !strcmp(name, "readonly") || !strcmp(name, "declare") ||
	    !strcmp(name, "typeset") || !strcmp(name, "local")) {
		apply_assigns(p, cb, !strcmp(name, "export"));
		if (!strcmp(name, "export"))
			for (size_t i = 1; i < n; i++)
				if (!a[i].dynamic && valid_name(a[i].text)) {
					const char *val = NULL;
					int ph = 0;
					int r = lookup(p, a[i].text, &val, &ph);
					if (r == 1) {
						char *v = dg_xstrdup(val);
						setvar(p, a[i].text, v, ph, 1);
						free(v);
					}
				}
		return;
	}
	if (!strcmp(name, "read") || !strcmp(name, "unset") || !strcmp(name, "mapfile") ||
	    !strcmp(name, "readarray") || !strcmp(name, "printf") || !strcmp(name, "getopts")) {
		size_t i = !strcmp(name, "getopts") ? 2 : 1;
		if (!strcmp(name, "printf")) {
			if (n < 3 || a[1].dynamic || strcmp(a[1].text, "-v"))
				return;
			i = 2;
			n = 3;
		}
		for (; i < n; i++)
			if (!a[i].dynamic && valid_name(a[i].text))
				setvar(p, a[i].text, NULL, 0, 0);
	}
}

static void emit(P *p, struct cb *cb)
{
	if (cb->argv.n == 0) {
		apply_assigns(p, cb, 0);
		cb_free(cb);
		return;
	}
	struct dg_sh_word *av = cb->argv.v;
	size_t n = cb->argv.n, i = 0;
	unsigned fl = p->ctx;
	while (i < n && !av[i].dynamic) {
		const char *t = av[i].text;
		if (!strcmp(t, "exec")) {
			fl |= DG_SH_EXEC;
			i++;
			while (i < n && !av[i].dynamic && av[i].text[0] == '-' && av[i].text[1]) {
				int takes = strchr(av[i].text, 'a') != NULL;
				if (!strcmp(av[i].text, "--")) {
					i++;
					break;
				}
				i++;
				if (takes && i < n)
					i++;
			}
			continue;
		}
		if (!strcmp(t, "command")) {
			size_t j = i + 1;
			int look = 0, defp = 0;
			while (j < n && !av[j].dynamic && av[j].text[0] == '-' && av[j].text[1]) {
				if (!strcmp(av[j].text, "--")) {
					j++;
					break;
				}
				look |= strpbrk(av[j].text, "vV") != NULL;
				defp |= strchr(av[j].text, 'p') != NULL;
				j++;
			}
			if (look || j >= n)
				break;
			fl |= DG_SH_COMMAND | (defp ? DG_SH_DEFAULT_PATH : 0);
			i = j;
			continue;
		}
		if (!strcmp(t, "builtin") && i + 1 < n) {
			fl |= DG_SH_VIA_BUILTIN;
			i++;
			continue;
		}
		break;
	}
	if (i >= n) {
		/* `exec` with only redirections: no command runs */
		apply_assigns(p, cb, 0);
		cb_free(cb);
		return;
	}
	for (size_t k = 0; k < i; k++)
		free(av[k].text);
	memmove(av, av + i, (n - i) * sizeof *av);
	n -= i;

	struct dg_sh_cmd c = {0};
	c.argv = av;
	c.argc = n;
	c.line = cb->line;
	const char *name = av[0].dynamic ? NULL : av[0].text;
	if (name && !(fl & DG_SH_EXEC)) {
		if (is_builtin(p->d, name) || (fl & DG_SH_VIA_BUILTIN))
			fl |= DG_SH_BUILTIN;
		if (!strcmp(name, ".") || !strcmp(name, "source"))
			fl |= DG_SH_SOURCE | DG_SH_BUILTIN;
		if (!strcmp(name, "type"))
			fl |= DG_SH_LOOKUP;
		if (!strcmp(name, "command"))
			for (size_t k = 1; k < n && !av[k].dynamic && av[k].text[0] == '-'; k++)
				if (strpbrk(av[k].text, "vV"))
					fl |= DG_SH_LOOKUP;
	}
	c.flags = fl;
	c.path = current_path(p, cb);
	if (cb->nas_decl == 0 && cb->assigns.n) {
		c.assigns = cb->assigns.v;
		c.nassigns = cb->assigns.n;
		cb->assigns.v = NULL;
		cb->assigns.n = cb->assigns.cap = 0;
	}
	cb->argv.v = NULL;
	cb->argv.n = cb->argv.cap = 0;
	char *name_copy = name ? dg_xstrdup(name) : NULL;
	struct dg_sh_cmd view = c; /* argv stays valid: the output owns it now */
	push_cmd(p, &c);
	if (name_copy && !p->sh->stop) {
		if (view.flags & DG_SH_BUILTIN)
			builtin_effects(p, cb, &view, name_copy);
		nested(p, cb, &view, name_copy);
	}
	free(name_copy);
	cb_free(cb);
}

static void add_function(P *p, const char *name)
{
	struct shared *sh = p->sh;
	struct dg_sh_script *o = sh->out;
	/* duplicates are dropped once the parse is over (sorted, then unique) */
	if (o->nfunctions == sh->fn_cap) {
		sh->fn_cap = sh->fn_cap ? 2 * sh->fn_cap : 8;
		o->functions = dg_xreallocarray(o->functions, sh->fn_cap, sizeof *o->functions);
	}
	o->functions[o->nfunctions++] = dg_xstrdup(name);
}

static void function_body(P *p, const char *name, unsigned line)
{
	add_function(p, name);
	linebreak(p);
	unsigned ctx = p->ctx;
	p->ctx |= DG_SH_IN_FUNCTION;
	struct scope sc = scope_open(p);
	if (!parse_command(p) && !halted(p))
		problem(p, line, "function '%s' without a body", name);
	scope_close(p, sc, 1);
	p->ctx = ctx;
}

static int fname_ok(const P *p, const char *s)
{
	if (p->d != DG_SH_BASH)
		return valid_name(s);
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || strchr("_.:+-@/%^", *s) || (unsigned char)*s >= 0x80))
			return 0;
	return 1;
}

/* NAME=(...) in bash: the elements' substitutions are found, the value is unknown. */
static void parse_array(P *p)
{
	unsigned line = p->line;
	adv(p);
	for (;;) {
		if (halted(p))
			return;
		int t = peek_tok(p, NULL);
		if (t == T_EOF) {
			problem(p, line, "unterminated array assignment");
			return;
		}
		if (t == T_NL) {
			consume_newline(p);
		} else if (t == T_RP) {
			adv(p);
			return;
		} else if (t == T_WORD) {
			struct word w;
			if (read_word(p, &w, 0))
				return;
			word_free(&w);
		} else {
			adv(p);
		}
	}
}

static void parse_simple(P *p)
{
	struct cb cb = {0};
	skip_blanks(p);
	cb.line = p->line;
	for (;;) {
		if (halted(p))
			break;
		int t = peek_tok(p, NULL);
		if (t == T_REDIR) {
			parse_redir(p);
			continue;
		}
		if (t != T_WORD)
			break;
		const struct dg_sh_word *a0 = cb.argv.n ? &cb.argv.v[0] : NULL;
		int decl = a0 && !a0->dynamic &&
			   (!strcmp(a0->text, "export") || !strcmp(a0->text, "readonly") ||
			    !strcmp(a0->text, "local") || !strcmp(a0->text, "declare") ||
			    !strcmp(a0->text, "typeset"));
		struct word w;
		if (read_word(p, &w, !a0 || decl))
			break;
		int append = 0;
		size_t nl = (!a0 || decl) ? assign_name_len(p, &w, &append) : 0;
		if (nl) {
			char *name = dg_xstrndup(p->s + w.start, nl);
			char *value = NULL;
			int ph = 0;
			if (p->d == DG_SH_BASH && at(p, 0) == '(' && w.end == w.start + nl + 1 + (size_t)append) {
				parse_array(p);
				w.dynamic = 1;
				w.end = p->pos;
			} else if (!w.dynamic && !append) {
				const char *full = w.v.data ? w.v.data : "";
				const char *eq = strchr(full, '=');
				value = dg_xstrdup(eq ? eq + 1 : "");
				ph = strstr(value, "${PATH}") != NULL && !strcmp(name, "PATH");
			}
			cb.as = dg_xreallocarray(cb.as, cb.nas + 1, sizeof *cb.as);
			cb.as[cb.nas].name = name;
			cb.as[cb.nas].value = value;
			cb.as[cb.nas].placeholder = ph;
			cb.nas++;
			if (decl) {
				cb.nas_decl = cb.nas;
				int dyn = w.dynamic;
				wvec_push(&cb.argv, word_text(p, &w), dyn);
			} else {
				int dyn = w.dynamic;
				wvec_push(&cb.assigns, word_text(p, &w), dyn);
			}
			continue;
		}
		if (!a0 && cb.nas == 0 && !w.quoted && !w.dynamic && w.v.data &&
		    fname_ok(p, w.v.data)) {
			size_t pos = p->pos;
			unsigned line = p->line;
			skip_blanks(p);
			if (at(p, 0) == '(') {
				adv(p);
				skip_blanks(p);
				if (at(p, 0) == ')') {
					adv(p);
					char *fname = buf_str(&w.v);
					if (!enter(p)) {
						function_body(p, fname, line);
						leave(p);
					}
					free(fname);
					cb_free(&cb);
					return;
				}
			}
			p->pos = pos;
			p->line = line;
		}
		if (p->d == DG_SH_BASH && (at(p, 0) == '<' || at(p, 0) == '>') && w.end - w.start >= 3 &&
		    p->s[w.start] == '{' && p->s[w.end - 1] == '}') {
			/* {NAME}>file: a redirection that allocates a descriptor */
			word_free(&w);
			parse_redir(p);
			continue;
		}
		int dyn = w.dynamic;
		wvec_push(&cb.argv, word_text(p, &w), dyn);
	}
	emit(p, &cb);
}

static void parse_dbracket(P *p)
{
	struct cb cb = {0};
	cb.line = p->line;
	unsigned line = p->line;
	advn(p, 2);
	wvec_push(&cb.argv, dg_xstrdup("[["), 0);
	for (;;) {
		if (halted(p))
			break;
		skip_blanks(p);
		int c = at(p, 0);
		if (c < 0) {
			problem(p, line, "unterminated [[");
			break;
		}
		if (c == '\n') {
			consume_newline(p);
			continue;
		}
		if (peek_kw(p, "]]")) {
			advn(p, 2);
			wvec_push(&cb.argv, dg_xstrdup("]]"), 0);
			break;
		}
		if ((c == '&' || c == '|') && at(p, 1) == c) {
			wvec_push(&cb.argv, dg_xstrndup(p->s + p->pos, 2), 0);
			advn(p, 2);
			continue;
		}
		if (count_word(p))
			break;
		if (is_meta(c)) {
			wvec_push(&cb.argv, dg_xstrndup(p->s + p->pos, 1), 0);
			adv(p);
			continue;
		}
		struct word w;
		if (read_word(p, &w, 0))
			break;
		int dyn = w.dynamic;
		wvec_push(&cb.argv, word_text(p, &w), dyn);
	}
	emit(p, &cb);
}

static int expect_kw(P *p, const char *kw, const char *what, unsigned line)
{
	if (halted(p))
		return -1;
	skip_blanks(p);
	if (peek_kw(p, kw)) {
		advn(p, strlen(kw));
		return 0;
	}
	problem(p, line, "'%s' without '%s'", what, kw);
	return -1;
}

static void parse_if(P *p)
{
	unsigned line = p->line;
	advn(p, 2);
	parse_list(p);
	if (expect_kw(p, "then", "if", line))
		return;
	struct scope sc = scope_open(p);
	parse_list(p);
	scope_close(p, sc, 1);
	for (;;) {
		if (halted(p))
			return;
		skip_blanks(p);
		if (peek_kw(p, "elif")) {
			advn(p, 4);
			sc = scope_open(p);
			parse_list(p);
			int bad = expect_kw(p, "then", "elif", line);
			if (!bad)
				parse_list(p);
			scope_close(p, sc, 1);
			if (bad)
				return;
		} else if (peek_kw(p, "else")) {
			advn(p, 4);
			sc = scope_open(p);
			parse_list(p);
			scope_close(p, sc, 1);
			expect_kw(p, "fi", "if", line);
			return;
		} else {
			expect_kw(p, "fi", "if", line);
			return;
		}
	}
}

static void parse_loop_body(P *p, const char *what, unsigned line)
{
	linebreak(p);
	if (expect_kw(p, "do", what, line))
		return;
	parse_list(p);
	expect_kw(p, "done", what, line);
}

static void parse_while(P *p, size_t kwlen)
{
	unsigned line = p->line;
	const char *what = kwlen == 5 ? "while/until" : "loop";
	advn(p, kwlen);
	struct scope sc = scope_open(p);
	parse_list(p);
	parse_loop_body(p, what, line);
	scope_close(p, sc, 1);
}

static void parse_for(P *p, size_t kwlen)
{
	unsigned line = p->line;
	advn(p, kwlen);
	skip_blanks(p);
	size_t end;
	if (p->d == DG_SH_BASH && at(p, 0) == '(' && at(p, 1) == '(' && arith_end(p, &end)) {
		skip_arith(p, end);
		int t = peek_tok(p, NULL);
		if (t == T_SEMI)
			adv(p);
		struct scope sc = scope_open(p);
		parse_loop_body(p, "for", line);
		scope_close(p, sc, 1);
		return;
	}
	if (peek_tok(p, NULL) != T_WORD) {
		problem(p, line, "'for' without a variable name");
		return;
	}
	struct word w;
	if (read_word(p, &w, 0))
		return;
	char *var = w.dynamic ? NULL : buf_str(&w.v);
	word_free(&w);
	linebreak(p);
	if (peek_kw(p, "in")) {
		advn(p, 2);
		for (;;) {
			if (halted(p))
				break;
			int t = peek_tok(p, NULL);
			if (t != T_WORD)
				break;
			if (read_word(p, &w, 0))
				break;
			word_free(&w);
		}
	}
	int t = peek_tok(p, NULL);
	if (t == T_SEMI)
		adv(p);
	struct scope sc = scope_open(p);
	if (var && valid_name(var))
		setvar(p, var, NULL, 0, 0);
	free(var);
	parse_loop_body(p, "for", line);
	scope_close(p, sc, 1);
}

static void parse_case(P *p)
{
	unsigned line = p->line;
	advn(p, 4);
	if (peek_tok(p, NULL) != T_WORD) {
		problem(p, line, "'case' without a word");
		return;
	}
	struct word w;
	if (read_word(p, &w, 0))
		return;
	word_free(&w);
	linebreak(p);
	if (expect_kw(p, "in", "case", line))
		return;
	for (;;) {
		linebreak(p);
		if (halted(p))
			return;
		if (peek_kw(p, "esac")) {
			advn(p, 4);
			return;
		}
		int t = peek_tok(p, NULL);
		if (t == T_EOF) {
			problem(p, line, "'case' without 'esac'");
			return;
		}
		if (t == T_LP)
			adv(p);
		for (;;) {
			t = peek_tok(p, NULL);
			if (t != T_WORD) {
				problem(p, p->line, "bad case pattern");
				return;
			}
			if (read_word(p, &w, 0))
				return;
			word_free(&w);
			t = peek_tok(p, NULL);
			if (t == T_PIPE) {
				adv(p);
				continue;
			}
			if (t == T_RP) {
				adv(p);
				break;
			}
			problem(p, p->line, "bad case pattern");
			return;
		}
		struct scope sc = scope_open(p);
		parse_list(p);
		scope_close(p, sc, 1);
		if (halted(p))
			return;
		size_t n;
		t = peek_tok(p, &n);
		if (t == T_DSEMI || t == T_SEMIAMP || t == T_DSEMIAMP) {
			advn(p, n);
			continue;
		}
		if (peek_kw(p, "esac"))
			continue;
		problem(p, p->line, "case item without ';;' or 'esac'");
		return;
	}
}

static void parse_subshell(P *p)
{
	unsigned line = p->line;
	adv(p);
	struct scope sc = scope_open(p);
	parse_list(p);
	if (!halted(p)) {
		if (peek_tok(p, NULL) == T_RP)
			adv(p);
		else
			problem(p, line, "'(' without ')'");
	}
	scope_close(p, sc, 0);
}

static int parse_compound(P *p)
{
	size_t n, end;
	int t = peek_tok(p, &n);
	if (t == T_LP) {
		if (p->d == DG_SH_BASH && at(p, 1) == '(' && arith_end(p, &end)) {
			skip_arith(p, end);
			return 1;
		}
		parse_subshell(p);
		return 1;
	}
	if (t != T_WORD)
		return 0;
	if (peek_kw(p, "{")) {
		/* a group's assignments stay (same shell): no scope */
		unsigned line = p->line;
		adv(p);
		parse_list(p);
		expect_kw(p, "}", "{", line);
	} else if (peek_kw(p, "if")) {
		parse_if(p);
	} else if (peek_kw(p, "while")) {
		parse_while(p, 5);
	} else if (peek_kw(p, "until")) {
		parse_while(p, 5);
	} else if (peek_kw(p, "for")) {
		parse_for(p, 3);
	} else if (peek_kw(p, "case")) {
		parse_case(p);
	} else if (p->d == DG_SH_BASH && peek_kw(p, "select")) {
		parse_for(p, 6);
	} else if (p->d == DG_SH_BASH && peek_kw(p, "[[")) {
		parse_dbracket(p);
	} else if (p->d == DG_SH_BASH && peek_kw(p, "function")) {
		unsigned line = p->line;
		advn(p, 8);
		struct word w;
		if (peek_tok(p, NULL) != T_WORD || read_word(p, &w, 0)) {
			problem(p, line, "'function' without a name");
			return 1;
		}
		char *fname = word_text(p, &w);
		skip_blanks(p);
		if (at(p, 0) == '(') {
			adv(p);
			skip_blanks(p);
			if (at(p, 0) == ')')
				adv(p);
			else
				problem(p, line, "bad function definition");
		}
		function_body(p, fname, line);
		free(fname);
	} else {
		return 0;
	}
	return 1;
}

static int at_closer(P *p)
{
	static const char *const kws[] = {"}", "fi", "then", "else", "elif", "do", "done", "esac", NULL};
	int t = peek_tok(p, NULL);
	if (t == T_EOF || t == T_RP || t == T_DSEMI || t == T_SEMIAMP || t == T_DSEMIAMP)
		return 1;
	if (t != T_WORD)
		return 0;
	for (const char *const *k = kws; *k; k++)
		if (peek_kw(p, *k))
			return 1;
	return 0;
}

/* Returns 1 when a command was parsed. */
static int parse_command(P *p)
{
	if (halted(p))
		return 0;
	int t = peek_tok(p, NULL);
	if (t != T_WORD && t != T_REDIR && t != T_LP)
		return 0;
	if (t == T_WORD && at_closer(p))
		return 0;
	if (enter(p))
		return 0;
	if (parse_compound(p)) {
		while (!halted(p) && peek_tok(p, NULL) == T_REDIR)
			parse_redir(p);
	} else if (t != T_LP) {
		parse_simple(p);
	}
	leave(p);
	return 1;
}

static void parse_pipeline(P *p)
{
	unsigned line = p->line;
	int needed = 0;
	for (;;) {
		if (halted(p))
			return;
		peek_tok(p, NULL);
		if (p->d == DG_SH_BASH && peek_kw(p, "time")) {
			advn(p, 4);
			skip_blanks(p);
			if (peek_kw(p, "-p"))
				advn(p, 2);
			continue;
		}
		if (peek_kw(p, "!")) {
			adv(p);
			continue;
		}
		break;
	}
	for (;;) {
		if (!parse_command(p)) {
			if (needed && !halted(p))
				problem(p, line, "'|' without a command after it");
			return;
		}
		size_t n;
		int t = peek_tok(p, &n);
		if (t != T_PIPE && t != T_PIPEAMP)
			return;
		advn(p, n);
		linebreak(p);
		line = p->line;
		needed = 1;
	}
}

static void parse_and_or(P *p)
{
	parse_pipeline(p);
	for (;;) {
		if (halted(p))
			return;
		size_t n;
		unsigned line = p->line;
		int t = peek_tok(p, &n);
		if (t != T_AND && t != T_OR)
			return;
		advn(p, n);
		linebreak(p);
		struct scope sc = scope_open(p);
		size_t before = p->sh->out->ncmds;
		size_t pos = p->pos;
		parse_pipeline(p);
		scope_close(p, sc, 1);
		if (p->pos == pos && p->sh->out->ncmds == before && !halted(p))
			problem(p, line, "'%s' without a command after it", t == T_AND ? "&&" : "||");
	}
}

static void parse_list(P *p)
{
	for (;;) {
		if (halted(p))
			return;
		linebreak(p);
		if (halted(p) || at_closer(p))
			return;
		size_t first = p->sh->out->ncmds;
		parse_and_or(p);
		if (halted(p))
			return;
		size_t n;
		int t = peek_tok(p, &n);
		if (t == T_SEMI) {
			adv(p);
		} else if (t == T_AMP) {
			adv(p);
			for (size_t i = first; i < p->sh->out->ncmds; i++)
				p->sh->out->cmds[i].flags |= DG_SH_BACKGROUND;
		} else if (t == T_NL) {
			consume_newline(p);
		} else if (at_closer(p)) {
			return;
		} else {
			problem(p, p->line, "syntax error near '%.*s'", (int)(n ? n : 1), p->s + p->pos);
			skip_line(p);
		}
	}
}

static const char *tok_name(P *p)
{
	size_t n;
	int t = peek_tok(p, &n);
	switch (t) {
	case T_RP:
		return ")";
	case T_DSEMI:
		return ";;";
	case T_SEMIAMP:
	case T_DSEMIAMP:
		return ";&";
	default:
		break;
	}
	static const char *const kws[] = {"}", "fi", "then", "else", "elif", "do", "done", "esac", NULL};
	for (const char *const *k = kws; *k; k++)
		if (peek_kw(p, *k))
			return *k;
	return "token";
}

static void parse_top(P *p, int root)
{
	for (;;) {
		parse_list(p);
		if (p->sh->stop)
			break;
		if (p->sh->abort) {
			if (!root)
				break;
			p->sh->abort = 0;
			p->depth = 0;
			skip_line(p);
			continue;
		}
		if (peek_tok(p, NULL) == T_EOF)
			break;
		problem(p, p->line, "unexpected '%s'", tok_name(p));
		skip_line(p);
	}
	if (p->nhd && !halted(p)) {
		for (size_t i = 0; i < p->nhd; i++)
			problem(p, p->line, "here-document '%s' without a body", p->hd[i].delim);
	}
	drop_pending(p);
}

static void parse_buffer(P *p, const char *s, size_t len, unsigned line, unsigned ctx,
			 enum dg_sh_dialect d, int new_shell)
{
	if (enter(p))
		return;
	P c = {0};
	c.sh = p->sh;
	c.s = s;
	c.len = len;
	c.line = line;
	c.depth = p->depth;
	c.ctx = p->ctx | ctx;
	c.d = d;
	c.floor = new_shell ? p->sh->nvars : p->floor;
	struct scope sc = scope_open(p);
	parse_top(&c, 0);
	/* a backquoted command runs in a subshell; trap and eval strings in this shell,
	 * but at an unknown time (trap) or with their own effects: treat both as conditional */
	scope_close(p, sc, !(ctx & (DG_SH_IN_SUBST | DG_SH_IN_STRING)));
	leave(p);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int dg_sh_parse(const char *text, size_t len, enum dg_sh_dialect d, struct dg_sh_script *out,
		struct dg_error *err)
{
	if (!out)
		return dg_err(err, DG_E_INTERNAL, "dg_sh_parse: no output");
	memset(out, 0, sizeof *out);
	if (!text && len)
		return dg_err(err, DG_E_INTERNAL, "dg_sh_parse: no text");
	struct shared sh = {0};
	sh.out = out;
	P p = {0};
	p.sh = &sh;
	p.s = text ? text : "";
	p.len = text ? len : 0;
	p.line = 1;
	p.d = d == DG_SH_BASH ? DG_SH_BASH : DG_SH_POSIX;
	parse_top(&p, 1);
	for (size_t i = 0; i < sh.nvars; i++) {
		free(sh.vars[i].name);
		free(sh.vars[i].value);
	}
	free(sh.vars);
	if (out->nfunctions) {
		qsort(out->functions, out->nfunctions, sizeof *out->functions, cmp_str);
		size_t k = 0;
		for (size_t i = 0; i < out->nfunctions; i++) {
			if (k && !strcmp(out->functions[k - 1], out->functions[i]))
				free(out->functions[i]);
			else
				out->functions[k++] = out->functions[i];
		}
		out->nfunctions = k;
	}
	/* calls of the script's functions (not through exec/command/builtin) */
	for (size_t i = 0; i < out->ncmds && out->nfunctions; i++) {
		struct dg_sh_cmd *c = &out->cmds[i];
		if (c->argv[0].dynamic || (c->flags & (DG_SH_EXEC | DG_SH_COMMAND | DG_SH_VIA_BUILTIN)))
			continue;
		const char *name = c->argv[0].text;
		if (bsearch(&name, out->functions, out->nfunctions, sizeof *out->functions, cmp_str))
			c->flags = (c->flags & ~(DG_SH_BUILTIN | DG_SH_SOURCE | DG_SH_LOOKUP)) | DG_SH_FUNCTION_CALL;
	}
	return 0;
}

void dg_sh_script_free(struct dg_sh_script *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->ncmds; i++) {
		struct dg_sh_cmd *c = &s->cmds[i];
		for (size_t k = 0; k < c->argc; k++)
			free(c->argv[k].text);
		for (size_t k = 0; k < c->nassigns; k++)
			free(c->assigns[k].text);
		free(c->argv);
		free(c->assigns);
		free(c->path);
	}
	free(s->cmds);
	for (size_t i = 0; i < s->nfunctions; i++)
		free(s->functions[i]);
	free(s->functions);
	for (size_t i = 0; i < s->nproblems; i++)
		free(s->problems[i].msg);
	free(s->problems);
	memset(s, 0, sizeof *s);
}
