/* The shell script parser: the grammar's corners, real entrypoint scripts
 * (faithful imitations of the official images' docker-entrypoint.sh) and
 * hostile input (every prefix of a script, deep nesting, garbage, NUL bytes).
 * Each script is parsed from a private copy of exactly its bytes, so ASan sees
 * any read past the end. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scope/shparse.h"
#include "tap.h"
#include "dockergate/util.h"

static struct dg_sh_script S;

static char *dg_buf_str(struct dg_buf *b)
{
	dg_buf_putc(b, 0);
	return dg_buf_steal(b);
}
static char *R; /* the commands of S, rendered */

/* One line per command: "FLAGS:argv..." (no "FLAGS:" when none); a dynamic
 * word is shown as {raw text}. Flags: x exec, c command, v builtin NAME,
 * b builtin, f function call, s source, l lookup, p command -p, & background,
 * $ in a substitution, F in a function, T trap, S sh -c string, E eval. */
static void render(void)
{
	static const char letters[] = "xcvbfslp&$FTSE";
	struct dg_buf b = {0};
	for (size_t i = 0; i < S.ncmds; i++) {
		const struct dg_sh_cmd *c = &S.cmds[i];
		if (i)
			dg_buf_putc(&b, '\n');
		int any = 0;
		for (unsigned k = 0; letters[k]; k++)
			if (c->flags & (1u << k)) {
				dg_buf_putc(&b, letters[k]);
				any = 1;
			}
		if (any)
			dg_buf_putc(&b, ':');
		for (size_t k = 0; k < c->argc; k++) {
			if (k)
				dg_buf_putc(&b, ' ');
			dg_buf_printf(&b, c->argv[k].dynamic ? "{%s}" : "%s", c->argv[k].text);
		}
	}
	free(R);
	R = dg_buf_str(&b);
}

static void parse_n(const char *text, size_t n, enum dg_sh_dialect d)
{
	dg_sh_script_free(&S);
	char *c = malloc(n ? n : 1);
	if (n)
		memcpy(c, text, n);
	struct dg_error err = DG_ERROR_INIT;
	if (dg_sh_parse(c, n, d, &S, &err))
		printf("# dg_sh_parse failed: %s\n", err.msg);
	free(c);
	render();
}

static const char *sh(const char *text)
{
	parse_n(text, strlen(text), DG_SH_POSIX);
	return R;
}

static const char *bash(const char *text)
{
	parse_n(text, strlen(text), DG_SH_BASH);
	return R;
}

/* The commands' PATH values, one per line ("-" inherited, "?" unknown). */
static const char *paths(void)
{
	struct dg_buf b = {0};
	for (size_t i = 0; i < S.ncmds; i++) {
		if (i)
			dg_buf_putc(&b, '\n');
		const char *p = S.cmds[i].path;
		dg_buf_puts(&b, !p ? "-" : !*p ? "?" : p);
	}
	free(R);
	R = dg_buf_str(&b);
	return R;
}

static const char *lines(void)
{
	struct dg_buf b = {0};
	for (size_t i = 0; i < S.ncmds; i++)
		dg_buf_printf(&b, "%s%u", i ? " " : "", S.cmds[i].line);
	free(R);
	R = dg_buf_str(&b);
	return R;
}

static const char *problems(void)
{
	struct dg_buf b = {0};
	for (size_t i = 0; i < S.nproblems; i++)
		dg_buf_printf(&b, "%s%u: %s", i ? "\n" : "", S.problems[i].line, S.problems[i].msg);
	free(R);
	R = dg_buf_str(&b);
	return R;
}

static const char *functions(void)
{
	struct dg_buf b = {0};
	for (size_t i = 0; i < S.nfunctions; i++)
		dg_buf_printf(&b, "%s%s", i ? " " : "", S.functions[i]);
	free(R);
	R = dg_buf_str(&b);
	return R;
}

static void test_basics(void)
{
	is_str(sh(""), "", "empty script");
	ok(S.ncmds == 0 && S.nproblems == 0, "no commands, no problems");
	is_str(sh("echo hello world\n"), "b:echo hello world", "a builtin");
	is_str(sh("ls -l /tmp"), "ls -l /tmp", "a program, no final newline");
	is_str(sh("#!/bin/sh\n# comment\n\n  cat /etc/passwd # trailing\n"), "cat /etc/passwd", "comments");
	is_str(lines(), "4", "line number");
	is_str(sh("echo a#b c #d\n"), "b:echo a#b c", "# inside a word vs at a word start");
	is_str(sh("a | b && c || d; e & f\n"), "a\nb\nc\nd\n&:e\nf", "pipelines, && ||, ; and &");
	is_str(sh("a & b"), "&:a\nb", "& applies to its own list only");
	is_str(sh("x && y &\n"), "&:x\n&:y", "& applies to an and-or list");
	is_str(sh("! grep -q x f"), "grep -q x f", "negation");
	is_str(sh("(cd /x && make) ; { a; b; }\n"), "b:cd /x\nmake\na\nb", "subshell and group");
	is_str(sh("one \\\n  two \\\nthree\nfour"), "one two three\nfour", "line continuations");
	is_str(lines(), "1 4", "lines after continuations");
	is_str(sh("'l''s' \"-\"l a\\ b"), "ls -l a b", "quote removal");
	is_str(sh("echo 'a \"b\" $c' \"d 'e' \\$f \\\\ \\q\""), "b:echo a \"b\" $c d 'e' $f \\ \\q",
	       "single and double quotes");
	is_str(sh(">/dev/null 2>&1 cmd arg <in 3<>rw"), "cmd arg", "redirections are not words");
	is_str(sh("exec >/var/log/x 2>&1\nexec 3>&-\n"), "", "exec with only redirections runs nothing");
	is_str(sh("exec nginx -g 'daemon off;'"), "x:nginx -g daemon off;", "exec NAME");
	is_str(sh("exec -a foo /bin/x y"), "x:/bin/x y", "exec -a NAME");
	is_str(sh("command ls; command -v ls; command -p cat; builtin echo x"),
	       "c:ls\nbl:command -v ls\ncp:cat\nvb:echo x", "command, command -v, command -p, builtin");
	is_str(sh("exec echo hi"), "x:echo hi", "exec runs the program, not the builtin");
	is_str(sh("FOO=1 BAR=\"x y\" cmd a"), "cmd a", "prefix assignments are not words");
	ok(S.ncmds == 1 && S.cmds[0].nassigns == 2 && !strcmp(S.cmds[0].assigns[0].text, "FOO=1") &&
		   !strcmp(S.cmds[0].assigns[1].text, "BAR=x y"),
	   "prefix assignments kept");
	is_str(sh("A=1\nB=$(hostname)\n"), "$:hostname", "assignments alone run nothing but their substitutions");
	is_str(sh("true; false; :; [ -f x ]; test 1; cd /; pwd; kill 1; printf x; read v; wait"),
	       "b:true\nb:false\nb::\nb:[ -f x ]\nb:test 1\nb:cd /\nb:pwd\nb:kill 1\nb:printf x\nb:read v\nb:wait",
	       "dash builtins (echo, printf, test, kill included)");
	is_str(sh("shopt -s x; let i=1; declare x"), "shopt -s x\nlet i=1\ndeclare x", "bash builtins are programs for dash");
	is_str(bash("shopt -s x; let i=1; declare x; mapfile a"), "b:shopt -s x\nb:let i=1\nb:declare x\nb:mapfile a",
	       "bash builtins");
	is_str(sh(". /etc/profile\nsource ./env.sh"), "bs:. /etc/profile\nbs:source ./env.sh", "sourcing");
	is_str(sh("type ls; hash -r"), "bl:type ls\nb:hash -r", "type is a lookup");
}

static void test_words(void)
{
	is_str(sh("echo $1 \"$@\" $# $? ${2} $0 \"$*\""), "b:echo {$1} {\"$@\"} {$#} {$?} {${2}} {$0} {\"$*\"}",
	       "positional and special parameters are dynamic");
	is_str(sh("echo $HOME ${HOME}x"), "b:echo {$HOME} {${HOME}x}", "unknown variables are dynamic");
	is_str(sh("X=/opt/app; $X/bin/run \"$X\" ${X}/y"), "/opt/app/bin/run /opt/app /opt/app/y",
	       "static variables expand");
	is_str(sh("APP=/opt/app/bin/server; exec \"$APP\" --x"), "x:/opt/app/bin/server --x", "the brief's example");
	is_str(sh("X='a b'; echo $X \"$X\""), "b:echo {$X} a b", "unquoted value with blanks: field splitting");
	is_str(sh("echo *.sh a?c [ab]x [ x ]"), "b:echo {*.sh} {a?c} {[ab]x} [ x ]", "globs are dynamic, [ alone is not");
	is_str(sh("echo '*' \"?\" \\*"), "b:echo * ? *", "quoted glob characters are literal");
	is_str(sh("echo ~ ~/x a~b"), "b:echo {~} {~/x} a~b", "tilde is dynamic at a word start");
	is_str(sh("echo $((1+2)) $(( (1+2)*3 ))"), "b:echo {$((1+2))} {$(( (1+2)*3 ))}", "arithmetic");
	is_str(sh("echo $( (a; b) )"), "$:a\n$:b\nb:echo {$( (a; b) )}", "$( ( ) ) is a substitution");
	is_str(sh("echo $((a); (b))"), "$:a\n$:b\nb:echo {$((a); (b))}", "$(( that is not arithmetic");
	is_str(bash("echo $(( x + $(date +%s) ))"), "$:date +%s\nb:echo {$(( x + $(date +%s) ))}",
	       "a substitution inside arithmetic");
	is_str(sh("X=v; echo ${X:-d} ${Y:-d} ${X#v} ${X%\\}} ${#X} ${X:+alt} ${Y+alt}"),
	       "b:echo v {${Y:-d}} {${X#v}} {${X%\\}}} {${#X}} alt {${Y+alt}}", "parameter expansion operators");
	is_str(sh("X=\"\"; echo ${X:-dflt} ${X-dflt} x${X}y"), "b:echo dflt  xy", "empty static values");
	is_str(sh("echo \"${v#*#}\" ${v%%\"}\"*} next"), "b:echo {\"${v#*#}\"} {${v%%\"}\"*}} next",
	       "# and } inside ${var#pattern}");
	is_str(sh("echo ${x:-$(fallback)}"), "$:fallback\nb:echo {${x:-$(fallback)}}", "substitution in a default");
	is_str(sh("echo `date` \"`id -u`\" `echo \\`nested\\``"),
	       "$:date\n$:id -u\n$:nested\nb$:echo {`nested`}\nb:echo {`date`} {\"`id -u`\"} {`echo \\`nested\\``}",
	       "backquotes, nested");
	is_str(sh("echo \"$(a \"$(b 'c')\")\""), "$:b c\n$:a {\"$(b 'c')\"}\nb:echo {\"$(a \"$(b 'c')\")\"}",
	       "nested quotes in substitutions");
	is_str(sh("X=$(cmd1) Y=\"$(cmd2)\" cmd3 \"$X\""), "$:cmd1\n$:cmd2\ncmd3 {\"$X\"}",
	       "substitutions in assignments");
	is_str(sh("echo $(case x in a) one;; (b) two;; esac)"), "$:one\n$:two\nb:echo {$(case x in a) one;; (b) two;; esac)}",
	       "case with ) inside $( )");
	{
		char lng[800], v[300];
		memset(v, 'V', 200);
		v[200] = 0;
		snprintf(lng, sizeof lng, "%.127s=x; echo $%s ${%s}", v, v, v);
		char want[800];
		snprintf(want, sizeof want, "b:echo {$%s} {${%s}}", v, v);
		is_str(sh(lng), want, "a very long name is not confused with its prefix");
	}
	is_str(sh("echo $ a$ \"$\""), "b:echo $ a$ $", "a lone $ is literal");
	is_str(bash("echo $'a\\tb\\x41\\101\\'' $\"loc\""), "b:echo a\tbAA' loc", "$'...' and $\"...\" in bash");
	is_str(sh("echo $'a'"), "b:echo $a", "$'...' is not special in dash");
	is_str(bash("echo {a,b} {x} a{1..3}"), "b:echo {{a,b}} {x} a{1..3}", "brace expansion (comma form)");
	is_str(bash("cmd 2>/dev/null 3>&1 >>log <<<x"), "cmd", "<<< here-string");
}

static void test_compound(void)
{
	is_str(sh("if a; then b; elif c; then d; else e; fi"), "a\nb\nc\nd\ne", "if/elif/else");
	is_str(sh("if [ \"$(id -u)\" = '0' ]; then\n  chown -R app /data\nfi\n"),
	       "$:id -u\nb:[ {\"$(id -u)\"} = 0 ]\nchown -R app /data", "if [ \"$(id -u)\" = '0' ]");
	is_str(sh("while read -r l; do echo \"$l\"; done < f\nuntil ping -c1 db; do sleep 1; done"),
	       "b:read -r l\nb:echo {\"$l\"}\nping -c1 db\nsleep 1", "while and until");
	is_str(sh("for f in /d/*.sh; do . \"$f\"; done\nfor x\ndo\n  run \"$x\"\ndone"),
	       "bs:. {\"$f\"}\nrun {\"$x\"}", "for loops");
	is_str(sh("for i in 1 2; do X=$i; done; echo $X"), "b:echo {$X}", "a loop variable is unknown");
	is_str(sh("case \"$1\" in\n  -*) set -- redis-server \"$@\" ;;\n  a|b) one;;\n  *) other\nesac\n"),
	       "b:set -- redis-server {\"$@\"}\none\nother", "case");
	is_str(sh("case x in (a) one ;; esac; after"), "one\nafter", "case pattern with (");
	is_str(bash("case $1 in a) one ;& b) two ;;& *) three ;; esac"), "one\ntwo\nthree", ";& and ;;& in bash");
	is_str(sh("case $x in\nesac\nnext"), "next", "empty case");
	is_str(sh("f() { g; }\nf a\nh() (sub)\nh"), "F:g\nf:f a\nF:sub\nf:h", "functions and their calls");
	is_str(functions(), "f h", "function names");
	is_str(bash("function name { run; }\nfunction other() {\n  x\n}\nname\nother"), "F:run\nF:x\nf:name\nf:other",
	       "function keyword in bash");
	is_str(sh("f() { :; }\ncommand f; exec f; builtin f"), "bF::\nc:f\nx:f\nvb:f",
	       "command/exec/builtin bypass functions");
	is_str(sh("later\nlater() { x; }"), "f:later\nF:x", "a function defined anywhere in the script");
	is_str(bash("[[ -f $x && $a < $b || ( $c > d ) ]] && run"), "b:[[ -f {$x} && {$a} < {$b} || ( {$c} > d ) ]]\nrun",
	       "[[ ]] with < > and grouping");
	is_str(bash("[[ $x =~ ^(a|b)$ ]] && ok"), "b:[[ {$x} =~ ^ ( a | b ) $ ]]\nok", "[[ =~ ]] regex");
	is_str(bash("(( i++ )); ((j=2)) && x"), "x", "(( )) in bash");
	is_str(sh("((a) ; (b))"), "a\nb", "(( is two subshells in dash");
	is_str(bash("for ((i=0;i<3;i++)); do x; done"), "x", "arithmetic for");
	is_str(bash("a=(x $(y) \"z\")\nb+=(w)\nrun ${a[0]}"), "$:y\nrun {${a[0]}}", "bash arrays");
	is_str(bash("cat <(ls) >(wc -l) < <(gen)"), "$:ls\n$:wc -l\n$:gen\ncat {<(ls)} {>(wc -l)}", "process substitution");
	is_str(bash("exec {fd}>/tmp/x\nexec {fd}>&-\nrun {a}"), "run {a}", "{fd}> redirections in bash");
	is_str(bash("printf x \"$(cat <<EOF\nin $(here)\nEOF\n)\"\nafter"), "$:cat\n$:here\nb:printf x {\"$(cat <<EOF\nin $(here)\nEOF\n)\"}\nafter",
	       "a here-document in a substitution in double quotes");
	is_str(bash("while IFS= read -r l; do h \"$l\"; done < <(find /x)"), "b:read -r l\nh {\"$l\"}\n$:find /x",
	       "while read ... done < <(find)");
	ok(S.ncmds == 3 && S.cmds[0].nassigns == 1 && !strcmp(S.cmds[0].assigns[0].text, "IFS="), "IFS= prefix");
	is_str(sh("if [ -z \"$X\" ]; then X=/a; else X=/b; fi\n$X/run"), "b:[ -z {\"$X\"} ]\n{$X/run}",
	       "a variable set in both branches is unknown after");
	is_str(sh("BIN=/opt/bin\nexec \"$BIN/x\" \"a\"'b'\"$BIN\""), "x:/opt/bin/x ab/opt/bin", "mixed quoting with a static variable");
	is_str(bash("time -p cmd | other |& third"), "cmd\nother\nthird", "time and |& in bash");
	is_str(bash("select x in a b; do run; done"), "run", "select");
	is_str(sh("if a\nthen\n b\nfi >log 2>&1 &\n"), "&:a\n&:b", "redirections and & after a compound");
	is_str(sh("{ a\n} | { b; }"), "a\nb", "groups in a pipeline");
}

static void test_heredocs(void)
{
	is_str(sh("cat <<EOF\nrm -rf /\n$(whoami) `hostname` ${X:-$(d)}\nEOF\nnext"),
	       "cat\n$:whoami\n$:hostname\n$:d\nnext", "here-document body: only its substitutions");
	is_str(lines(), "1 3 3 3 5", "here-document lines");
	is_str(sh("cat <<'EOF'\n$(no)\nEOF\ncat <<\"E\"\n`no`\nE\ncat <<\\E\n$(no)\nE\nnext"), "cat\ncat\ncat\nnext",
	       "quoted delimiters: no expansion");
	is_str(sh("cat <<-EOF\n\t$(a)\n\tEOF\nafter"), "cat\n$:a\nafter", "<<- strips tabs before the delimiter");
	is_str(sh("a <<X; b <<Y\nx\nX\ny $(c)\nY\nd"), "a\nb\n$:c\nd", "two here-documents on a line");
	is_str(sh("cat <<EOF | grep x\nbody\nEOF\n"), "cat\ngrep x", "here-document then a pipeline");
	is_str(sh("cat <<EOF\nno end\n"), "cat", "unterminated here-document");
	ok(S.nproblems == 1 && strstr(S.problems[0].msg, "unterminated here-document"), "reported");
	is_str(sh("x=$(cat <<EOF\nhi $(who)\nEOF\n)\nrun"), "$:cat\n$:who\nrun", "here-document inside $( )");
	is_str(sh("cat <<EOF\nEOF"), "cat", "delimiter at the end of the text");
	is_str(sh("cat <<EOF\n$(cat <<Y)\nEOF\necho $(( $(cat <<Z) ))\nZ\nnext"), "cat\n$:cat\n$:cat\nb:echo {$(( $(cat <<Z) ))}\nZ\nnext",
	       "here-documents inside a body or arithmetic (the latter's body is not looked for: a known limit)");
	is_str(sh("while read l; do x; done <<EOF\na\nEOF\n"), "b:read l\nx", "here-document after done");
}

static void test_path(void)
{
	sh("a\nPATH=/x:$PATH\nb\nexport PATH=\"/opt/bin:${PATH}\"\nc\nPATH=/only d\ne");
	is_str(paths(), "-\n/x:${PATH}\n/x:${PATH}\n/opt/bin:/x:${PATH}\n/only\n/opt/bin:/x:${PATH}", "PATH tracked in straight-line code");
	sh("if x; then PATH=/y:$PATH; fi\na");
	is_str(paths(), "-\n?", "PATH changed conditionally is unknown");
	sh("PATH=$(gen)\na");
	is_str(paths(), "-\n?", "PATH from a substitution is unknown");
	sh("(PATH=/sub; a)\nb\nx=$(PATH=/s; c)\nd");
	is_str(paths(), "/sub\n-\n/s\n-", "PATH changes in subshells stay there");
	sh("APP=/app; PATH=\"$APP/bin:$PATH\"; export PATH; exec server");
	is_str(paths(), "/app/bin:${PATH}\n/app/bin:${PATH}", "PATH built from a static variable");
	sh("echo $PATH");
	is_str(R = (char *)sh("echo $PATH"), "b:echo {$PATH}", "$PATH outside an assignment is dynamic");
	sh("f() { PATH=/f; }\nf\na");
	is_str(paths(), "?\n?", "PATH changed in a function: unknown after its definition");
	sh("eval \"$SETUP\"\na");
	is_str(paths(), "-\n?", "a dynamic eval leaves PATH unknown");
	bash("PATH[0]=/x\na");
	is_str(paths(), "?", "an array element assignment to PATH");
	is_str(bash("arr[1]=$(gen) arr[2]+=x\nrun ${arr[1]}"), "$:gen\nrun {${arr[1]}}", "array element assignments");
	sh("command -p ls");
	ok(S.ncmds == 1 && (S.cmds[0].flags & DG_SH_DEFAULT_PATH), "command -p flagged");
	sh("PATH=/a sh -c 'b'");
	is_str(R = (char *)sh("PATH=/a sh -c 'b'"), "sh -c b\nS:b", "sh -c string parsed");
	is_str(paths(), "/a\n/a", "the prefix PATH applies inside sh -c");
}

static void test_nested_strings(void)
{
	is_str(sh("trap 'rm -f \"$tmp\"; cleanup' EXIT INT\ntrap - INT\ntrap '' HUP\ntrap -p"),
	       "b:trap rm -f \"$tmp\"; cleanup EXIT INT\nT:rm -f {\"$tmp\"}\nT:cleanup\nb:trap - INT\nb:trap  HUP\nb:trap -p",
	       "trap strings are parsed");
	is_str(sh("eval \"exec $1\"; eval 'a=1; run'"), "b:eval {\"exec $1\"}\nb:eval a=1; run\nE:run", "eval");
	ok(S.uses_eval == 1, "uses_eval set");
	is_str(sh("exec sh -c 'exec nginx -g \"daemon off;\"'"), "x:sh -c exec nginx -g \"daemon off;\"\nxS:nginx -g daemon off;",
	       "exec sh -c");
	is_str(sh("/bin/bash -ec '[[ -x a ]] && b' name arg"), "/bin/bash -ec [[ -x a ]] && b name arg\nbS:[[ -x a ]]\nS:b",
	       "bash -c parses the string as bash");
	is_str(sh("sh -c \"$CMD\"; sh script.sh; sh -o errexit -c c"), "sh -c {\"$CMD\"}\nsh script.sh\nsh -o errexit -c c\nS:c",
	       "dynamic strings and scripts are not parsed");
	is_str(sh("X=1; sh -c 'echo $X'; export Y=2; sh -c 'run $Y'"), "sh -c echo $X\nbS:echo {$X}\nb:export Y=2\nsh -c run $Y\nS:run 2",
	       "sh -c sees exported variables only");
}

static void test_lines_and_flags(void)
{
	sh("a\nb $(c\nd)\n`e`\ntrap 'f\ng' EXIT\nsh -c 'h\ni'\nfn() {\n  j &\n}\n");
	is_str(lines(), "1 2 3 2 4 4 5 5 6 7 7 8 10", "line numbers, in substitutions and nested strings");
	is_str(R = (char *)sh("a\nb $(c\nd)\n`e`\ntrap 'f\ng' EXIT\nsh -c 'h\ni'\nfn() {\n  j &\n}\n"),
	       "a\n$:c\n$:d\nb {$(c\nd)}\n$:e\n{`e`}\nb:trap f\ng EXIT\nT:f\nT:g\nsh -c h\ni\nS:h\nS:i\n&F:j",
	       "flags of each origin; a substitution's output as a command name");
	is_str(sh("x=$(y=$(z))"), "$:z", "assignments alone inside a substitution run nothing");
}

static void test_problems(void)
{
	sh("echo 'unterminated\nnext");
	ok(S.nproblems >= 1 && strstr(problems(), "unterminated single quote"), "unterminated single quote");
	sh("a\nfi\nb\n");
	is_str(problems(), "2: unexpected 'fi'", "stray fi");
	is_str(sh("a\nfi\nb\n"), "a\nb", "recovers after a stray fi");
	sh("if a; then b\nc");
	ok(strstr(problems(), "'if' without 'fi'") != NULL, "if without fi");
	is_str(sh("if a; then b\nc"), "a\nb\nc", "partial if");
	sh("a | | b\nc");
	ok(S.nproblems >= 1, "| | is a problem");
	is_str(sh("a | | b\nc"), "a\nc", "recovery at the next line");
	sh("echo \"$(unterminated");
	ok(S.nproblems >= 1, "unterminated $(");
	sh("x=`echo");
	ok(S.nproblems >= 1, "unterminated backquote");
	sh("echo ${x");
	ok(S.nproblems >= 1, "unterminated ${");
	sh("case x in a) b");
	ok(S.nproblems >= 1, "case without esac");
	sh("for in; do");
	ok(S.nproblems >= 1, "bad for");
	sh("f() \n");
	ok(S.nproblems >= 1, "function without a body");
	sh("echo )\nnext");
	is_str(sh("echo )\nnext"), "b:echo\nnext", "stray ) recovers");
	sh("a <");
	ok(strstr(problems(), "redirection without a target") != NULL, "redirection without a target");
}

static const char redis_ep[] =
	"#!/bin/sh\n"
	"set -e\n"
	"\n"
	"# first arg is `-f` or `--some-option`\n"
	"# or first arg is `something.conf`\n"
	"if [ \"${1#-}\" != \"$1\" ] || [ \"${1%.conf}\" != \"$1\" ]; then\n"
	"\tset -- redis-server \"$@\"\n"
	"fi\n"
	"\n"
	"# allow the container to be started with `--user`\n"
	"if [ \"$1\" = 'redis-server' -a \"$(id -u)\" = '0' ]; then\n"
	"\tfind . \\! -user redis -exec chown redis '{}' +\n"
	"\texec gosu redis \"$0\" \"$@\"\n"
	"fi\n"
	"\n"
	"# set an appropriate umask (if one isn't set already)\n"
	"# - https://github.com/docker-library/redis/issues/305\n"
	"# - https://github.com/redis/redis/blob/bb875603fb7ff3f9d19aad906bd45d7db98d9a39/utils/systemd-redis_server.service#L37\n"
	"um=\"$(umask)\"\n"
	"if [ \"$um\" = '0022' ]; then\n"
	"\tumask 0077\n"
	"fi\n"
	"\n"
	"exec \"$@\"\n";

static const char nginx_ep[] =
	"#!/bin/sh\n"
	"# vim:sw=4:ts=4:et\n"
	"\n"
	"set -e\n"
	"\n"
	"entrypoint_log() {\n"
	"    if [ -z \"${NGINX_ENTRYPOINT_QUIET_LOGS:-}\" ]; then\n"
	"        echo \"$@\"\n"
	"    fi\n"
	"}\n"
	"\n"
	"if [ \"$1\" = \"nginx\" ] || [ \"$1\" = \"nginx-debug\" ]; then\n"
	"    if /usr/bin/find \"/docker-entrypoint.d/\" -mindepth 1 -maxdepth 1 -type f -print -quit 2>/dev/null | read v; then\n"
	"        entrypoint_log \"$0: /docker-entrypoint.d/ is not empty, will attempt to perform configuration\"\n"
	"\n"
	"        entrypoint_log \"$0: Looking for shell scripts in /docker-entrypoint.d/\"\n"
	"        find \"/docker-entrypoint.d/\" -follow -type f -print | sort -V | while read -r f; do\n"
	"            case \"$f\" in\n"
	"                *.envsh)\n"
	"                    if [ -x \"$f\" ]; then\n"
	"                        entrypoint_log \"$0: Sourcing $f\";\n"
	"                        . \"$f\"\n"
	"                    else\n"
	"                        # warn on shell scripts without exec bit\n"
	"                        entrypoint_log \"$0: Ignoring $f, not executable\";\n"
	"                    fi\n"
	"                    ;;\n"
	"                *.sh)\n"
	"                    if [ -x \"$f\" ]; then\n"
	"                        entrypoint_log \"$0: Launching $f\";\n"
	"                        \"$f\"\n"
	"                    else\n"
	"                        # warn on shell scripts without exec bit\n"
	"                        entrypoint_log \"$0: Ignoring $f, not executable\";\n"
	"                    fi\n"
	"                    ;;\n"
	"                *) entrypoint_log \"$0: Ignoring $f\";;\n"
	"            esac\n"
	"        done\n"
	"\n"
	"        entrypoint_log \"$0: Configuration complete; ready for start up\"\n"
	"    else\n"
	"        entrypoint_log \"$0: No files found in /docker-entrypoint.d/, skipping configuration\"\n"
	"    fi\n"
	"fi\n"
	"\n"
	"exec \"$@\"\n";

static const char postgres_ep[] =
	"#!/usr/bin/env bash\n"
	"set -Eeo pipefail\n"
	"# TODO swap to -Eeuo pipefail above (after handling all potentially-unset variables)\n"
	"\n"
	"# usage: file_env VAR [DEFAULT]\n"
	"#    ie: file_env 'XYZ_DB_PASSWORD' 'example'\n"
	"file_env() {\n"
	"\tlocal var=\"$1\"\n"
	"\tlocal fileVar=\"${var}_FILE\"\n"
	"\tlocal def=\"${2:-}\"\n"
	"\tif [ \"${!var:-}\" ] && [ \"${!fileVar:-}\" ]; then\n"
	"\t\tprintf >&2 'error: both %s and %s are set (but are exclusive)\\n' \"$var\" \"$fileVar\"\n"
	"\t\texit 1\n"
	"\tfi\n"
	"\tlocal val=\"$def\"\n"
	"\tif [ \"${!var:-}\" ]; then\n"
	"\t\tval=\"${!var}\"\n"
	"\telif [ \"${!fileVar:-}\" ]; then\n"
	"\t\tval=\"$(< \"${!fileVar}\")\"\n"
	"\tfi\n"
	"\texport \"$var\"=\"$val\"\n"
	"\tunset \"$fileVar\"\n"
	"}\n"
	"\n"
	"# check to see if this file is being run or sourced from another script\n"
	"_is_sourced() {\n"
	"\t# https://unix.stackexchange.com/a/215279\n"
	"\t[ \"${#FUNCNAME[@]}\" -ge 2 ] \\\n"
	"\t\t&& [ \"${FUNCNAME[0]}\" = '_is_sourced' ] \\\n"
	"\t\t&& [ \"${FUNCNAME[1]}\" = 'source' ]\n"
	"}\n"
	"\n"
	"docker_create_db_directories() {\n"
	"\tlocal user; user=\"$(id -u)\"\n"
	"\n"
	"\tmkdir -p \"$PGDATA\"\n"
	"\tchmod 00700 \"$PGDATA\" || :\n"
	"\n"
	"\tmkdir -p /var/run/postgresql || :\n"
	"\tchmod 03775 /var/run/postgresql || :\n"
	"\n"
	"\tif [ -n \"${POSTGRES_INITDB_WALDIR:-}\" ]; then\n"
	"\t\tmkdir -p \"$POSTGRES_INITDB_WALDIR\"\n"
	"\t\tif [ \"$user\" = '0' ]; then\n"
	"\t\t\tfind \"$POSTGRES_INITDB_WALDIR\" \\! -user postgres -exec chown postgres '{}' +\n"
	"\t\tfi\n"
	"\t\tchmod 700 \"$POSTGRES_INITDB_WALDIR\"\n"
	"\tfi\n"
	"\n"
	"\tif [ \"$user\" = '0' ]; then\n"
	"\t\tfind \"$PGDATA\" \\! -user postgres -exec chown postgres '{}' +\n"
	"\t\tfind /var/run/postgresql \\! -user postgres -exec chown postgres '{}' +\n"
	"\tfi\n"
	"}\n"
	"\n"
	"docker_init_database_dir() {\n"
	"\tlocal uid; uid=\"$(id -u)\"\n"
	"\tif ! getent passwd \"$uid\" &> /dev/null; then\n"
	"\t\tlocal wrapper\n"
	"\t\tfor wrapper in {/usr,}/lib{/*,}/libnss_wrapper.so; do\n"
	"\t\t\tif [ -s \"$wrapper\" ]; then\n"
	"\t\t\t\tNSS_WRAPPER_PASSWD=\"$(mktemp)\"\n"
	"\t\t\t\tNSS_WRAPPER_GROUP=\"$(mktemp)\"\n"
	"\t\t\t\texport LD_PRELOAD=\"$wrapper\" NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP\n"
	"\t\t\t\tlocal gid; gid=\"$(id -g)\"\n"
	"\t\t\t\tprintf 'postgres:x:%s:%s:PostgreSQL:%s:/bin/false\\n' \"$uid\" \"$gid\" \"$PGDATA\" > \"$NSS_WRAPPER_PASSWD\"\n"
	"\t\t\t\tprintf 'postgres:x:%s:\\n' \"$gid\" > \"$NSS_WRAPPER_GROUP\"\n"
	"\t\t\t\tbreak\n"
	"\t\t\tfi\n"
	"\t\tdone\n"
	"\tfi\n"
	"\n"
	"\tif [ -n \"${POSTGRES_INITDB_WALDIR:-}\" ]; then\n"
	"\t\tset -- --waldir \"$POSTGRES_INITDB_WALDIR\" \"$@\"\n"
	"\tfi\n"
	"\n"
	"\t# --pwfile refuses to handle a properly-empty file (hence the \"\\n\"): https://github.com/docker-library/postgres/issues/1025\n"
	"\teval 'initdb --username=\"$POSTGRES_USER\" --pwfile=<(printf \"%s\\n\" \"$POSTGRES_PASSWORD\") '\"$POSTGRES_INITDB_ARGS\"' \"$@\"'\n"
	"\n"
	"\t# unset/cleanup \"nss_wrapper\" bits\n"
	"\tif [[ \"${LD_PRELOAD:-}\" == */libnss_wrapper.so ]]; then\n"
	"\t\trm -f \"$NSS_WRAPPER_PASSWD\" \"$NSS_WRAPPER_GROUP\"\n"
	"\t\tunset LD_PRELOAD NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP\n"
	"\tfi\n"
	"}\n"
	"\n"
	"docker_process_init_files() {\n"
	"\t# psql here for backwards compatibility \"${psql[@]}\"\n"
	"\tpsql=( docker_process_sql )\n"
	"\n"
	"\tprintf '\\n'\n"
	"\tlocal f\n"
	"\tfor f; do\n"
	"\t\tcase \"$f\" in\n"
	"\t\t\t*.sh)\n"
	"\t\t\t\tif [ -x \"$f\" ]; then\n"
	"\t\t\t\t\tprintf '%s: running %s\\n' \"$0\" \"$f\"\n"
	"\t\t\t\t\t\"$f\"\n"
	"\t\t\t\telse\n"
	"\t\t\t\t\tprintf '%s: sourcing %s\\n' \"$0\" \"$f\"\n"
	"\t\t\t\t\t. \"$f\"\n"
	"\t\t\t\tfi\n"
	"\t\t\t\t;;\n"
	"\t\t\t*.sql)     printf '%s: running %s\\n' \"$0\" \"$f\"; docker_process_sql -f \"$f\"; printf '\\n' ;;\n"
	"\t\t\t*.sql.gz)  printf '%s: running %s\\n' \"$0\" \"$f\"; gunzip -c \"$f\" | docker_process_sql; printf '\\n' ;;\n"
	"\t\t\t*.sql.xz)  printf '%s: running %s\\n' \"$0\" \"$f\"; xzcat \"$f\" | docker_process_sql; printf '\\n' ;;\n"
	"\t\t\t*)         printf '%s: ignoring %s\\n' \"$0\" \"$f\" ;;\n"
	"\t\tesac\n"
	"\t\tprintf '\\n'\n"
	"\tdone\n"
	"}\n"
	"\n"
	"docker_process_sql() {\n"
	"\tlocal query_runner=( psql -v ON_ERROR_STOP=1 --username \"$POSTGRES_USER\" --no-password --no-psqlrc )\n"
	"\tif [ -n \"$POSTGRES_DB\" ]; then\n"
	"\t\tquery_runner+=( --dbname \"$POSTGRES_DB\" )\n"
	"\tfi\n"
	"\n"
	"\tPGHOST= PGHOSTADDR= \"${query_runner[@]}\" \"$@\"\n"
	"}\n"
	"\n"
	"docker_temp_server_start() {\n"
	"\tif [ \"$1\" = 'postgres' ]; then\n"
	"\t\tshift\n"
	"\tfi\n"
	"\tset -- \"$@\" -c listen_addresses='' -p \"${PGPORT:-5432}\"\n"
	"\tPGUSER=\"${PGUSER:-$POSTGRES_USER}\" \\\n"
	"\tpg_ctl -D \"$PGDATA\" \\\n"
	"\t\t-o \"$(printf '%q ' \"$@\")\" \\\n"
	"\t\t-w start\n"
	"}\n"
	"\n"
	"_pg_want_help() {\n"
	"\tlocal arg\n"
	"\tfor arg; do\n"
	"\t\tcase \"$arg\" in\n"
	"\t\t\t-'?'|--help|--describe-config|-V|--version)\n"
	"\t\t\t\treturn 0\n"
	"\t\t\t\t;;\n"
	"\t\tesac\n"
	"\tdone\n"
	"\treturn 1\n"
	"}\n"
	"\n"
	"_main() {\n"
	"\t# if first arg looks like a flag, assume we want to run postgres server\n"
	"\tif [ \"${1:0:1}\" = '-' ]; then\n"
	"\t\tset -- postgres \"$@\"\n"
	"\tfi\n"
	"\n"
	"\tif [ \"$1\" = 'postgres' ] && ! _pg_want_help \"$@\"; then\n"
	"\t\tdocker_create_db_directories\n"
	"\t\tif [ \"$(id -u)\" = '0' ]; then\n"
	"\t\t\t# then restart script as postgres user\n"
	"\t\t\texec gosu postgres \"$BASH_SOURCE\" \"$@\"\n"
	"\t\tfi\n"
	"\n"
	"\t\tif [ -z \"$DATABASE_ALREADY_EXISTS\" ]; then\n"
	"\t\t\tdocker_init_database_dir\n"
	"\t\t\tdocker_temp_server_start \"$@\"\n"
	"\t\t\tdocker_process_init_files /docker-entrypoint-initdb.d/*\n"
	"\t\t\tcat <<-'EOM'\n"
	"\n"
	"\t\t\t\tPostgreSQL init process complete; ready for start up.\n"
	"\n"
	"\t\t\tEOM\n"
	"\t\telse\n"
	"\t\t\tcat <<-'EOM'\n"
	"\n"
	"\t\t\t\tPostgreSQL Database directory appears to contain a database; Skipping initialization\n"
	"\n"
	"\t\t\tEOM\n"
	"\t\tfi\n"
	"\tfi\n"
	"\n"
	"\texec \"$@\"\n"
	"}\n"
	"\n"
	"if ! _is_sourced; then\n"
	"\t_main \"$@\"\n"
	"fi\n";

static const char python_ep[] =
	"#!/bin/sh\n"
	"set -eu\n"
	"\n"
	"APP_HOME=/srv/app\n"
	"VENV=\"$APP_HOME/.venv\"\n"
	"export PATH=\"$VENV/bin:$PATH\"\n"
	"cd \"$APP_HOME\"\n"
	"\n"
	": \"${WORKERS:=4}\"\n"
	"\n"
	"if [ \"${RUN_MIGRATIONS:-0}\" = 1 ]; then\n"
	"    python manage.py migrate --noinput\n"
	"fi\n"
	"\n"
	"exec gunicorn --workers \"$WORKERS\" --bind 0.0.0.0:8000 app:app\n";

/* Programs run (not builtins, not function calls), their names only. */
static const char *programs(void)
{
	struct dg_buf b = {0};
	for (size_t i = 0; i < S.ncmds; i++) {
		if (!dg_sh_cmd_runs_program(&S.cmds[i]))
			continue;
		dg_buf_printf(&b, b.len ? " %s%s" : "%s%s", S.cmds[i].flags & DG_SH_EXEC ? "exec:" : "",
			      S.cmds[i].argv[0].text);
	}
	free(R);
	R = dg_buf_str(&b);
	return R;
}

static void test_real(void)
{
	sh(redis_ep);
	ok(S.nproblems == 0, "redis: no problems");
	is_str(programs(), "id find exec:gosu exec:\"$@\"", "redis: programs");
	is_str(sh(redis_ep),
	       "b:set -e\n"
	       "b:[ {\"${1#-}\"} != {\"$1\"} ]\n"
	       "b:[ {\"${1%.conf}\"} != {\"$1\"} ]\n"
	       "b:set -- redis-server {\"$@\"}\n"
	       "$:id -u\n"
	       "b:[ {\"$1\"} = redis-server -a {\"$(id -u)\"} = 0 ]\n"
	       "find . ! -user redis -exec chown redis {} +\n"
	       "x:gosu redis {\"$0\"} {\"$@\"}\n"
	       "b$:umask\n"
	       "b:[ {\"$um\"} = 0022 ]\n"
	       "b:umask 0077\n"
	       "x:{\"$@\"}",
	       "redis: every command");
	is_str(lines(), "2 6 6 7 11 11 12 13 19 20 21 24", "redis: lines");

	sh(nginx_ep);
	ok(S.nproblems == 0, "nginx: no problems");
	is_str(functions(), "entrypoint_log", "nginx: functions");
	is_str(programs(), "/usr/bin/find find sort \"$f\" exec:\"$@\"", "nginx: programs");
	int sourced = 0;
	for (size_t i = 0; i < S.ncmds; i++)
		if ((S.cmds[i].flags & DG_SH_SOURCE) && S.cmds[i].argc == 2 && S.cmds[i].argv[1].dynamic)
			sourced++;
	ok(sourced == 1, "nginx: . \"$f\" is a source of a dynamic file");

	parse_n(postgres_ep, sizeof postgres_ep - 1, DG_SH_BASH);
	is_str(problems(), "", "postgres: no problems");
	is_str(functions(),
	       "_is_sourced _main _pg_want_help docker_create_db_directories docker_init_database_dir "
	       "docker_process_init_files docker_process_sql docker_temp_server_start file_env",
	       "postgres: functions");
	is_str(programs(),
	       "id mkdir chmod mkdir chmod mkdir find chmod find find id getent mktemp mktemp id rm \"$f\" gunzip xzcat "
	       "\"${query_runner[@]}\" pg_ctl id exec:gosu cat cat exec:\"$@\"",
	       "postgres: programs");
	ok(S.uses_eval, "postgres: eval");
	int gosu = 0, main_call = 0;
	for (size_t i = 0; i < S.ncmds; i++) {
		const struct dg_sh_cmd *c = &S.cmds[i];
		if (!strcmp(c->argv[0].text, "gosu") && c->argc == 4 && c->argv[2].dynamic &&
		    !strcmp(c->argv[2].text, "\"$BASH_SOURCE\"") && (c->flags & DG_SH_IN_FUNCTION))
			gosu++;
		if (!strcmp(c->argv[0].text, "_main") && (c->flags & DG_SH_FUNCTION_CALL) && !(c->flags & DG_SH_IN_FUNCTION))
			main_call++;
	}
	ok(gosu == 1, "postgres: exec gosu postgres \"$BASH_SOURCE\" \"$@\"");
	ok(main_call == 1, "postgres: _main called at top level");

	sh(python_ep);
	ok(S.nproblems == 0, "python: no problems");
	is_str(R = (char *)sh(python_ep), "b:set -eu\nb:export PATH=/srv/app/.venv/bin:${PATH}\nb:cd /srv/app\nb:: {\"${WORKERS:=4}\"}\n"
					   "b:[ {\"${RUN_MIGRATIONS:-0}\"} = 1 ]\npython manage.py migrate --noinput\n"
					   "x:gunicorn --workers {\"$WORKERS\"} --bind 0.0.0.0:8000 app:app",
	       "python: commands");
	is_str(paths(), "-\n-\n/srv/app/.venv/bin:${PATH}\n/srv/app/.venv/bin:${PATH}\n/srv/app/.venv/bin:${PATH}\n"
			"/srv/app/.venv/bin:${PATH}\n/srv/app/.venv/bin:${PATH}",
	       "python: PATH where each command runs");
}

static void test_hostile(void)
{
	/* every prefix of the real scripts, in both dialects */
	const char *scripts[] = {redis_ep, nginx_ep, postgres_ep, python_ep};
	size_t total = 0, crashes = 0;
	for (size_t k = 0; k < 4; k++) {
		size_t n = strlen(scripts[k]);
		for (size_t i = 0; i <= n; i++) {
			parse_n(scripts[k], i, k == 2 ? DG_SH_BASH : DG_SH_POSIX);
			for (size_t j = 0; j < S.ncmds; j++)
				if (!S.cmds[j].argc || !S.cmds[j].argv[0].text)
					crashes++;
			total++;
		}
	}
	ok(crashes == 0, "every prefix of the real scripts parses (%zu prefixes)", total);
	/* every suffix of postgres's, too (starts inside words and quotes) */
	size_t n = strlen(postgres_ep);
	for (size_t i = 0; i < n; i += 7)
		parse_n(postgres_ep + i, n - i, DG_SH_BASH);
	ok(1, "suffixes of postgres's script parse");

	/* mutations of postgres's script: a byte replaced by shell syntax, or a span deleted or duplicated */
	{
		static const char syn[] = "()[]{}$`'\"\\|&;<>#\n =*!";
		size_t pn = strlen(postgres_ep), bad = 0;
		char *m = malloc(2 * pn);
		uint64_t y = 88172645463325252ull;
		for (int i = 0; i < 600; i++) {
			y ^= y << 13;
			y ^= y >> 7;
			y ^= y << 17;
			size_t at = (size_t)(y % pn), len = (size_t)((y >> 20) % 64), mn = pn;
			memcpy(m, postgres_ep, pn);
			switch ((y >> 40) % 3) {
			case 0:
				m[at] = syn[(y >> 50) % (sizeof syn - 1)];
				break;
			case 1:
				if (at + len > pn)
					len = pn - at;
				memmove(m + at, m + at + len, pn - at - len);
				mn = pn - len;
				break;
			default:
				if (at + len > pn)
					len = pn - at;
				memmove(m + at + len, m + at, pn - at);
				mn = pn + len;
				break;
			}
			parse_n(m, mn, (i & 1) ? DG_SH_BASH : DG_SH_POSIX);
			for (size_t j = 0; j < S.ncmds; j++)
				if (!S.cmds[j].argc)
					bad++;
		}
		free(m);
		ok(bad == 0, "600 mutations of postgres's script");
	}

	/* deep nesting beyond the cap */
	struct dg_buf b = {0};
	for (int i = 0; i < 500; i++)
		dg_buf_puts(&b, "$(");
	dg_buf_puts(&b, "x");
	for (int i = 0; i < 500; i++)
		dg_buf_puts(&b, ")");
	dg_buf_puts(&b, "\nafter\n");
	parse_n(b.data, b.len, DG_SH_POSIX);
	ok(strstr(problems(), "nesting deeper than 64") != NULL, "$( $( ... beyond the cap: a problem");
	ok(S.ncmds >= 1 && !strcmp(S.cmds[S.ncmds - 1].argv[0].text, "after"), "and the next line is parsed");
	dg_buf_free(&b);
	for (int i = 0; i < 10000; i++)
		dg_buf_putc(&b, '(');
	parse_n(b.data, b.len, DG_SH_POSIX);
	ok(S.nproblems >= 1, "10000 ( in dash");
	parse_n(b.data, b.len, DG_SH_BASH);
	ok(S.nproblems >= 1, "10000 ( in bash");
	dg_buf_free(&b);
	for (int i = 0; i < 3000; i++)
		dg_buf_puts(&b, "(\n");
	dg_buf_puts(&b, "last\n");
	parse_n(b.data, b.len, DG_SH_POSIX);
	ok(S.nproblems >= 1, "3000 lines of ( ");
	dg_buf_free(&b);
	for (int i = 0; i < 2000; i++)
		dg_buf_puts(&b, "${a:-");
	parse_n(b.data, b.len, DG_SH_POSIX);
	ok(S.nproblems >= 1, "${a:-${a:- ... unterminated and too deep");
	dg_buf_free(&b);
	for (int i = 0; i < 2000; i++)
		dg_buf_puts(&b, "\"`");
	parse_n(b.data, b.len, DG_SH_POSIX);
	ok(S.nproblems >= 1, "\"`\"` ... ");
	dg_buf_free(&b);
	for (int i = 0; i < 2000; i++)
		dg_buf_puts(&b, "if a; then ");
	parse_n(b.data, b.len, DG_SH_POSIX);
	ok(S.nproblems >= 1, "if if if ...");
	dg_buf_free(&b);
	for (int i = 0; i < 2000; i++)
		dg_buf_puts(&b, "f() ");
	parse_n(b.data, b.len, DG_SH_BASH);
	ok(S.nproblems >= 1, "f() f() f() ...");
	dg_buf_free(&b);
	for (int i = 0; i < 300; i++)
		dg_buf_puts(&b, "sh -c \"");
	parse_n(b.data, b.len, DG_SH_POSIX);
	ok(1, "sh -c \"sh -c \\\"...");
	dg_buf_free(&b);
	for (int i = 0; i < 100; i++)
		dg_buf_puts(&b, "eval ");
	dg_buf_puts(&b, "x");
	parse_n(b.data, b.len, DG_SH_POSIX);
	ok(S.ncmds >= 1, "eval eval eval ...");
	dg_buf_free(&b);

	/* inputs that would be quadratic with naive look-ahead or lookups */
	for (int i = 0; i < 20000; i++)
		dg_buf_puts(&b, "echo $((((\n");
	parse_n(b.data, b.len, DG_SH_BASH);
	ok(S.nproblems >= 1, "20000 lines of $(((( (arithmetic look-ahead bounded)");
	dg_buf_free(&b);
	for (int i = 0; i < 20000; i++)
		dg_buf_printf(&b, "f%d() { :; }\n", i);
	for (int i = 0; i < 20000; i++)
		dg_buf_printf(&b, "f%d\n", i);
	parse_n(b.data, b.len, DG_SH_POSIX);
	ok(S.nfunctions == 20000 && S.ncmds == 40000 && (S.cmds[39999].flags & DG_SH_FUNCTION_CALL),
	   "20000 functions and their calls");
	dg_buf_free(&b);
	for (int i = 0; i < 1000; i++)
		dg_buf_printf(&b, "V%d=x\n", i);
	dg_buf_puts(&b, "echo");
	for (int i = 0; i < 90000; i++)
		dg_buf_puts(&b, " $V1 $zz");
	parse_n(b.data, b.len, DG_SH_POSIX);
	ok(S.ncmds == 1 && S.cmds[0].argc == 180001 && !S.cmds[0].argv[1].dynamic && S.cmds[0].argv[2].dynamic,
	   "1000 variables, 180000 lookups");
	dg_buf_free(&b);

	/* unterminated constructs at the end */
	const char *ends[] = {"'", "\"", "`", "$(", "${", "$((", "<<EOF", "<<", "case", "case x", "case x in",
			      "for", "for x in", "if", "while", "{", "(", "f()", "[[", "a=(", "$'", "\\",
			      "cat <<EOF\n", "x=`a \\", "echo \"$(", "${x:-\"", "((", "function", "select x"};
	for (size_t i = 0; i < sizeof ends / sizeof *ends; i++) {
		parse_n(ends[i], strlen(ends[i]), DG_SH_BASH);
		parse_n(ends[i], strlen(ends[i]), DG_SH_POSIX);
	}
	ok(1, "unterminated constructs (%zu)", sizeof ends / sizeof *ends);

	/* NUL bytes */
	static const char nul[] = "ec\0ho a\nls \0 -l\n\0\0\nnext";
	parse_n(nul, sizeof nul - 1, DG_SH_POSIX);
	ok(S.ncmds >= 3 && strstr(problems(), "NUL byte") != NULL, "NUL bytes reported, parse goes on");
	ok(!strcmp(S.cmds[S.ncmds - 1].argv[0].text, "next"), "command after NUL bytes");

	/* 1 MiB of garbage from a fixed-seed generator, weighted toward shell syntax */
	size_t gn = 1 << 20;
	char *g = malloc(gn);
	uint64_t x = 0x9e3779b97f4a7c15ull;
	static const char alpha[] = "()[]{}$`'\"\\|&;<>#\n\t =-*?!~abcxyz019EOF";
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < gn; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			g[i] = round == 2 ? (char)(x >> 24) : alpha[(x >> 24) % (sizeof alpha - 1)];
		}
		parse_n(g, gn, round == 1 ? DG_SH_BASH : DG_SH_POSIX);
		ok(S.nproblems >= 1 && S.nproblems <= DG_SH_MAX_PROBLEMS, "1 MiB of garbage (%s): %zu commands, %zu problems",
		   round == 2 ? "random bytes" : "shell characters", S.ncmds, S.nproblems);
	}
	free(g);

	/* caps: words and commands */
	for (int i = 0; i < 120000; i++)
		dg_buf_puts(&b, "a\n");
	parse_n(b.data, b.len, DG_SH_POSIX);
	ok(S.truncated && S.ncmds == DG_SH_MAX_CMDS, "commands capped");
	dg_buf_free(&b);
	for (int i = 0; i < 2000; i++)
		dg_buf_printf(&b, "V%d=x\n", i);
	dg_buf_puts(&b, "PATH=/a\nb\n");
	parse_n(b.data, b.len, DG_SH_POSIX);
	ok(S.ncmds == 1 && S.cmds[0].path && !*S.cmds[0].path, "too many variables: values become unknown");
	dg_buf_free(&b);
}

int main(void)
{
	test_basics();
	test_words();
	test_compound();
	test_heredocs();
	test_path();
	test_nested_strings();
	test_lines_and_flags();
	test_problems();
	test_real();
	test_hostile();
	dg_sh_script_free(&S);
	ok(dg_sh_parse(NULL, 0, DG_SH_POSIX, &S, NULL) == 0 && S.ncmds == 0, "NULL text of length 0");
	dg_sh_script_free(&S);
	free(R);
	return tap_done();
}
