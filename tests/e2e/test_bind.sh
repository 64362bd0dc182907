#!/usr/bin/env bash
# The real glibc loader as the oracle for symbol binding. In trace mode with
# relocation (what `ldd -r` does):
#   chroot ROOT env LD_TRACE_LOADED_OBJECTS=1 LD_WARN=yes LD_BIND_NOW=yes LD_DEBUG=bindings ld.so BIN
# ld.so relocates every loaded object but itself and logs each lookup a relocation
# makes ("binding file REF [0] to DEF [0]: normal symbol `NAME' [VERSION]") and each
# failed one ("undefined symbol: NAME (REF)"). For every dynamically linked
# executable of a root filesystem made of real Debian packages, plus compiled cases
# (two versions of one symbol, unversioned references to versioned libraries,
# interposition by the executable and by an earlier library, DT_SYMBOLIC, protected
# symbols, copy relocations and canonical PLT entries, STB_GNU_UNIQUE, weak undefined,
# unresolved, a DT_HASH-only library), the set of (referencing file, symbol, version)
# -> defining file that `dockergate bind` computes must equal what ld.so logs
# (tests/tools/bind_compare.py says exactly what is compared and why).
# Where the log cannot tell which definition of an object was chosen (two versions
# of one symbol in one file), the programs are run and report it themselves.
# Then seeded damage to the tables the binder reads (bind_mutate.py) must never
# crash it, and with DG_BIND_ROOTFS=DIR (e.g. bench/bench.sh's mmdebstrap rootfs)
# every executable of that root filesystem is compared with ld.so too.
# Usage: test_bind.sh DOCKERGATE   (prints TAP)
set -uo pipefail
DG=${1:?dockergate}
here=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/dg-bind.XXXXXX")
trap 'rm -rf "$T"' EXIT
TAP_NAME="bind" TAP_DIAG=40
. "$(dirname "$0")/../tools/tap.sh"
R="$T/root"
real_rootfs "$R" || { echo "not ok 1 - the real-package root filesystem could not be built"; exit 1; }

# ---- compiled cases, in /opt/bind/{bin,lib} (RPATH /opt/bind/lib) ----
B="$R/opt/bind"
S="$T/src"
mkdir -p "$B/bin" "$B/lib" "$S/stub"
cc_lib() { # cc_lib OUT SRC [flags...]
	local out=$1 src=$2
	shift 2
	gcc -shared -fPIC -o "$out" "$src" "$@"
}
cc_app() { # cc_app NAME SRC LIBDIR [flags...]: linked against LIBDIR, runs with /opt/bind/lib
	local name=$1 src=$2 libdir=$3
	shift 3
	gcc -o "$B/bin/$name" "$src" -L"$libdir" -Wl,-rpath,/opt/bind/lib -Wl,-rpath-link,"$libdir" "$@"
}
build_cases() {
	# 1. Two versions of one symbol: vfunc@VER_1 (old, hidden) and vfunc@@VER_2.
	cat >"$S/ver1.map" <<-'EOF'
		VER_1 { global: vfunc; vdata; local: *; };
	EOF
	cat >"$S/ver2.map" <<-'EOF'
		VER_1 { global: vfunc; vdata; local: *; };
		VER_2 { global: vfunc; } VER_1;
	EOF
	printf 'int vfunc(void){return 1;}\nint vdata = 1;\n' >"$S/ver1.c"
	cat >"$S/ver2.c" <<-'EOF'
		__asm__(".symver vfunc_1,vfunc@VER_1");
		__asm__(".symver vfunc_2,vfunc@@VER_2");
		int vfunc_1(void){return 1;}
		int vfunc_2(void){return 2;}
		int vdata = 5;
	EOF
	printf 'int vfunc(void){return 0;}\n' >"$S/ver0.c"
	printf 'int vfunc(void);\nint main(void){return vfunc();}\n' >"$S/vapp.c"
	cc_lib "$S/stub/libver.so" "$S/ver1.c" -Wl,--version-script="$S/ver1.map" -Wl,-soname,libver.so &&
		cc_app ver-old "$S/vapp.c" "$S/stub" -lver &&
		cc_lib "$S/stub/libver.so" "$S/ver0.c" -Wl,-soname,libver.so &&
		cc_app ver-none "$S/vapp.c" "$S/stub" -lver &&
		cc_lib "$B/lib/libver.so" "$S/ver2.c" -Wl,--version-script="$S/ver2.map" -Wl,-soname,libver.so &&
		cc_app ver-new "$S/vapp.c" "$B/lib" -lver || return 1

	# 2. An unversioned reference to a library that defines one version (ONE_1,
	# index 3 after the empty ONE_0: accepted as the only versioned definition), and
	# to one whose only definition is hidden (hfunc@HID_1: never accepted).
	cat >"$S/one.map" <<-'EOF'
		ONE_0 { local: *; };
		ONE_1 { global: onefunc; } ONE_0;
	EOF
	cat >"$S/hid.map" <<-'EOF'
		HID_0 { local: *; };
		HID_1 { global: hfunc; } HID_0;
	EOF
	printf 'int onefunc(void){return 3;}\n' >"$S/one.c"
	printf 'int hfunc(void){return 4;}\n' >"$S/hid0.c"
	printf '__asm__(".symver hfunc_impl,hfunc@HID_1");\nint hfunc_impl(void){return 4;}\n' >"$S/hid.c"
	printf 'int onefunc(void);\nint main(void){return onefunc();}\n' >"$S/oneapp.c"
	printf 'int hfunc(void);\nint main(void){return hfunc();}\n' >"$S/hidapp.c"
	cc_lib "$S/stub/libone.so" "$S/one.c" -Wl,-soname,libone.so &&
		cc_app one-unversioned "$S/oneapp.c" "$S/stub" -lone &&
		cc_lib "$B/lib/libone.so" "$S/one.c" -Wl,--version-script="$S/one.map" -Wl,-soname,libone.so &&
		cc_lib "$S/stub/libhid.so" "$S/hid0.c" -Wl,-soname,libhid.so &&
		cc_app hid-unversioned "$S/hidapp.c" "$S/stub" -lhid &&
		cc_lib "$B/lib/libhid.so" "$S/hid.c" -Wl,--version-script="$S/hid.map" -Wl,-soname,libhid.so || return 1

	# 3. Interposition: the executable defines malloc/free (libc's own references
	# bind to it), an earlier library (DT_HASH only) defines getenv.
	printf '#include <stddef.h>\nchar *getenv(const char *n){(void)n; return NULL;}\n' >"$S/early.c"
	cat >"$S/interpose.c" <<-'EOF'
		#include <stddef.h>
		#include <stdlib.h>
		static char heap[1 << 20]; static size_t used;
		void *malloc(size_t n){ void *p = heap + used; used += (n + 15) & ~(size_t)15; return p; }
		void free(void *p){ (void)p; }
		int main(void){ return getenv("HOME") != NULL; }
	EOF
	cc_lib "$B/lib/libearly.so" "$S/early.c" -Wl,--hash-style=sysv &&
		cc_app interpose "$S/interpose.c" "$B/lib" -learly || return 1

	# 4. DT_SYMBOLIC: the same library linked normally (its references to its own
	# symbols bind to the executable's definitions), with DF_SYMBOLIC set afterwards
	# (they bind to itself), and linked with -Bsymbolic (the linker binds them).
	cat >"$S/sym.c" <<-'EOF'
		int symdata = 10;
		int symfunc(void){ return 1; }
		int callsym(void){ return symfunc() + symdata; }
	EOF
	printf 'int callsym(void);\nint symdata = 20;\nint symfunc(void){return 2;}\nint main(void){return callsym();}\n' >"$S/symapp.c"
	printf 'int callsym(void);\nint main(void){return callsym();}\n' >"$S/symapp2.c"
	cc_lib "$B/lib/libnsym.so" "$S/sym.c" -Wl,-soname,libnsym.so &&
		cc_lib "$S/stub/libpsym.so" "$S/sym.c" -Wl,-z,now -Wl,-soname,libpsym.so &&
		cp "$S/stub/libpsym.so" "$B/lib/libpsym.so" &&
		python3 "$here/../tools/elfpatch.py" "$B/lib/libpsym.so" dtflags-or 0x2 &&
		cc_lib "$B/lib/libbsym.so" "$S/sym.c" -Wl,-Bsymbolic -Wl,-soname,libbsym.so &&
		cc_app sym-normal "$S/symapp.c" "$B/lib" -rdynamic -lnsym &&
		cc_app sym-patched "$S/symapp.c" "$S/stub" -rdynamic -lpsym &&
		cc_app sym-bsymbolic "$S/symapp.c" "$B/lib" -rdynamic -lbsym || return 1

	# 5. Protected symbols: the library's own references to them stay in it even
	# though the executable defines the same names (STV_PROTECTED set afterwards,
	# as ld binds protected symbols itself); and a protected function an
	# executable calls (a normal binding to the library).
	cat >"$S/prot.c" <<-'EOF'
		int prot_data = 5;
		int prot_func(void){ return 1; }
		int prot_use(void){ return prot_func() + prot_data; }
		__attribute__((visibility("protected"))) int prot_real(void){ return 7; }
	EOF
	printf 'int prot_use(void); int prot_real(void);\nint prot_data = 9;\nint prot_func(void){return 2;}\nint main(void){return prot_use() + prot_real();}\n' >"$S/protapp.c"
	cc_lib "$B/lib/libprot.so" "$S/prot.c" -Wl,-soname,libprot.so &&
		python3 "$here/../tools/elfpatch.py" "$B/lib/libprot.so" protect prot_data prot_func &&
		cc_app protected "$S/protapp.c" "$B/lib" -rdynamic -lprot || return 1

	# 6. Copy relocation and canonical PLT entry: a non-PIE executable reads a
	# library's variable (R_X86_64_COPY: looked up past the executable; the
	# library's own GOT entry then binds to the executable's copy) and takes the
	# address of a library function (the library's GLOB_DAT binds to the
	# executable's PLT entry, its calls do not).
	cat >"$S/data.c" <<-'EOF'
		int lib_counter = 42;
		int lib_func(void){ return 1; }
		int *lib_cnt(void){ return &lib_counter; }
		void *lib_addr(void){ return (void *)lib_func; }
	EOF
	cat >"$S/copyapp.c" <<-'EOF'
		extern int lib_counter; int lib_func(void); int *lib_cnt(void); void *lib_addr(void);
		int main(void){ return (lib_addr() == (void *)lib_func) + (lib_cnt() == &lib_counter) + lib_counter - 42; }
	EOF
	cc_lib "$B/lib/libdata.so" "$S/data.c" -Wl,-soname,libdata.so &&
		cc_app copyreloc "$S/copyapp.c" "$B/lib" -no-pie -fno-pic -ldata || return 1

	# 7. STB_GNU_UNIQUE: two libraries define the same unique object; the second
	# is DT_SYMBOLIC, is relocated first, finds itself and so enters the unique
	# table: every later lookup of the name gets its definition.
	cat >"$S/uniq.s" <<-'EOF'
		.globl uniq_obj
		.type uniq_obj, @gnu_unique_object
		.size uniq_obj, 4
		.data
		uniq_obj: .long 1
		.text
		.globl uniq_get
		.type uniq_get, @function
		uniq_get: movq uniq_obj@GOTPCREL(%rip), %rax
		ret
		.section .note.GNU-stack,"",@progbits
	EOF
	printf 'void *uniq_get(void);\nint main(void){return uniq_get() != 0;}\n' >"$S/uniqapp.c"
	gcc -shared -o "$B/lib/libuniqa.so" "$S/uniq.s" -Wa,-mrelax-relocations=no -Wl,-soname,libuniqa.so &&
		gcc -shared -o "$B/lib/libuniqb.so" "$S/uniq.s" -Wa,-mrelax-relocations=no -Wl,-z,now -Wl,-soname,libuniqb.so &&
		python3 "$here/../tools/elfpatch.py" "$B/lib/libuniqb.so" dtflags-or 0x2 &&
		cc_app unique "$S/uniqapp.c" "$B/lib" -Wl,--no-as-needed -luniqa -luniqb || return 1

	# 8. Weak undefined and unresolved: gone_func disappeared from the library.
	printf 'int gone_func(void){return 1;}\nint stay_func(void){return 2;}\n' >"$S/gone1.c"
	printf 'int stay_func(void){return 2;}\n' >"$S/gone2.c"
	cat >"$S/goneapp.c" <<-'EOF'
		int gone_func(void); int stay_func(void);
		extern int maybe(void) __attribute__((weak));
		int main(void){ return gone_func() + stay_func() + (maybe ? maybe() : 0); }
	EOF
	printf 'int stay_func(void);\nextern int maybe(void) __attribute__((weak));\nint main(void){return stay_func() + (maybe ? maybe() : 0);}\n' >"$S/weakapp.c"
	cc_lib "$S/stub/libgone.so" "$S/gone1.c" -Wl,-soname,libgone.so &&
		cc_app unresolved "$S/goneapp.c" "$S/stub" -lgone &&
		cc_app weak-undefined "$S/weakapp.c" "$S/stub" -lgone &&
		cc_lib "$B/lib/libgone.so" "$S/gone2.c" -Wl,-soname,libgone.so
}
build_cases 2>"$T/err"
ok $? "compiling the test programs and libraries" "$T/err"
ldconfig -r "$R" 2>"$T/err"
ok $? "ldconfig -r builds an ld.so.cache" "$T/err"

# ---- every dynamically linked executable against the real loader ----
bins=()
while IFS= read -r f; do
	readelf -lW "$f" 2>/dev/null | grep -q "Requesting program interpreter" && bins+=("/${f#"$R"/}")
done < <(find "$R/bin" "$R/usr/bin" "$R/sbin" "$R/usr/sbin" "$B/bin" -maxdepth 1 -type f 2>/dev/null | sort)
mkdir -p "$T/cmp"
read -r nexe nbad ntup < <(python3 "$here/../tools/bind_compare.py" "$R" "$DG" "$T/cmp" "${bins[@]}")
ok "${nbad:-1}" "${nexe:-0} executables: (file, symbol, version) -> file agrees with ld.so for all ${ntup:-0} lookups" "$T/cmp/diff"
((${nexe:-0} > 80 && ${ntup:-0} > 10000))
ok $? "enough executables and lookups were compared (${nexe:-0}, ${ntup:-0})"

# ---- real runs: ld.so's own references too (it re-relocates itself once libc,
# which needs it, is loaded) and its malloc-family lookups for the executable ----
runnable=(/bin/true /usr/bin/env /opt/bind/bin/ver-old /opt/bind/bin/ver-new /opt/bind/bin/ver-none
	/opt/bind/bin/one-unversioned /opt/bind/bin/interpose /opt/bind/bin/sym-normal /opt/bind/bin/sym-patched
	/opt/bind/bin/sym-bsymbolic /opt/bind/bin/protected /opt/bind/bin/copyreloc /opt/bind/bin/unique
	/opt/bind/bin/weak-undefined)
mkdir -p "$T/run"
read -r nexe nbad ntup < <(python3 "$here/../tools/bind_compare.py" --run "$R" "$DG" "$T/run" "${runnable[@]}")
ok "${nbad:-1}" "real runs of ${nexe:-0} programs: all ${ntup:-0} lookups agree, ld.so's own included" "$T/run/diff"

# ---- the compiled cases, one by one ----
J="$T/cmp/dg.json"
q() { # q EXE OBJ-PATH-SUFFIX SYMBOL CLASS FIELD: a field of one binding from the JSON
	python3 - "$J" "$@" <<-'EOF'
		import json, sys
		j, exe, obj, sym, cls, field = sys.argv[1:]
		for o in json.load(open(j))[exe]["objects"]:
		    if o["path"] and o["path"].endswith(obj):
		        for r in o["references"]:
		            if r["symbol"] == sym:
		                t = r["definition"] if cls == "main" else r["by_class"].get(cls)
		                print("null" if t is None else t.get(field) if field in t else r.get(field))
	EOF
}
expect() { # expect LABEL WANT GOT
	[[ "$2" == "$3" ]]
	ok $? "$1 (want '$2', got '$3')"
}
run_rc() { chroot "$R" "$@" >/dev/null 2>&1; echo $?; }
# which version ld.so picked shows at run time: vfunc@VER_1 returns 1, vfunc@@VER_2 returns 2
expect "ver-old: vfunc@VER_1 binds to the hidden old version (ld.so: exit $(run_rc /opt/bind/bin/ver-old))" \
	"VER_1 $(run_rc /opt/bind/bin/ver-old)" "$(q /opt/bind/bin/ver-old /bin/ver-old vfunc call version) 1"
expect "ver-new: vfunc@VER_2 binds to the default version" \
	"VER_2 $(run_rc /opt/bind/bin/ver-new)" "$(q /opt/bind/bin/ver-new /bin/ver-new vfunc call version) 2"
# glibc's check_match accepts versym index <= 2 for an unversioned reference even when
# hidden (the "oldest version" of an old binary): vfunc@VER_1, not the default @@VER_2
expect "ver-none: an unversioned reference takes the oldest version (index 2, even hidden)" \
	"VER_1 $(run_rc /opt/bind/bin/ver-none)" "$(q /opt/bind/bin/ver-none /bin/ver-none vfunc call version) 1"
expect "one-unversioned: the only versioned definition (ONE_1, index 3) is accepted" \
	"ONE_1 /opt/bind/lib/libone.so" "$(q /opt/bind/bin/one-unversioned /bin/one-unversioned onefunc call version) $(q /opt/bind/bin/one-unversioned /bin/one-unversioned onefunc call path)"
expect "hid-unversioned: a hidden definition (hfunc@HID_1) never matches an unversioned reference" \
	"null" "$(q /opt/bind/bin/hid-unversioned /bin/hid-unversioned hfunc call path)"
expect "interpose: libc's malloc binds to the executable" \
	"/opt/bind/bin/interpose" "$(q /opt/bind/bin/interpose libc.so.6 malloc main path)"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["/opt/bind/bin/interpose"]["loader_lookups"]; print(" ".join(x["symbol"]+"="+x["definition"]["path"] for x in d))' "$J" >"$T/out" 2>&1
expect "interpose: ld.so's own malloc/free come from the executable, calloc/realloc from libc" \
	"calloc=/lib/x86_64-linux-gnu/libc.so.6 free=/opt/bind/bin/interpose malloc=/opt/bind/bin/interpose realloc=/lib/x86_64-linux-gnu/libc.so.6" "$(cat "$T/out")"
expect "interpose: getenv binds to the earlier library (DT_HASH only)" \
	"/opt/bind/lib/libearly.so" "$(q /opt/bind/bin/interpose /bin/interpose getenv call path)"
expect "sym-normal: a library's own symfunc binds to the executable's" \
	"/opt/bind/bin/sym-normal" "$(q /opt/bind/bin/sym-normal libnsym.so symfunc call path)"
expect "sym-patched: a DT_SYMBOLIC library binds symfunc and symdata to itself" \
	"/opt/bind/lib/libpsym.so /opt/bind/lib/libpsym.so" \
	"$(q /opt/bind/bin/sym-patched libpsym.so symfunc call path) $(q /opt/bind/bin/sym-patched libpsym.so symdata addr path)"
expect "protected: the library's protected prot_data/prot_func stay in it" \
	"/opt/bind/lib/libprot.so /opt/bind/lib/libprot.so True" \
	"$(q /opt/bind/bin/protected libprot.so prot_data addr path) $(q /opt/bind/bin/protected libprot.so prot_func call path) $(q /opt/bind/bin/protected libprot.so prot_func call protected)"
expect "copyreloc: the copy relocation takes lib_counter from the library" \
	"/opt/bind/lib/libdata.so" "$(q /opt/bind/bin/copyreloc /bin/copyreloc lib_counter copy path)"
expect "copyreloc: the library's GOT entries bind to the executable (copy, canonical PLT)" \
	"/opt/bind/bin/copyreloc /opt/bind/bin/copyreloc /opt/bind/lib/libdata.so" \
	"$(q /opt/bind/bin/copyreloc libdata.so lib_counter addr path) $(q /opt/bind/bin/copyreloc libdata.so lib_func addr path) $(q /opt/bind/bin/copyreloc /bin/copyreloc lib_func call path)"
expect "copyreloc: at run time both sides see one variable and one function address" \
	"2" "$(run_rc /opt/bind/bin/copyreloc)"
expect "unique: the first library's reference gets the DT_SYMBOLIC one's unique object" \
	"/opt/bind/lib/libuniqb.so" "$(q /opt/bind/bin/unique libuniqa.so uniq_obj addr path)"

"$DG" bind "dir:$R" /opt/bind/bin/weak-undefined >"$T/out" 2>&1
rc=$?
[[ $rc -eq 0 ]] && grep -q '^/opt/bind/bin/weak-undefined: maybe -> not found (weak)$' "$T/out"
ok $? "weak undefined: reported as weak, not an error (exit $rc)" "$T/out"
"$DG" bind --unresolved "dir:$R" /opt/bind/bin/unresolved >"$T/out" 2>&1
rc=$?
[[ $rc -eq 3 ]] && grep -q '^/opt/bind/bin/unresolved: gone_func -> not found$' "$T/out" && ! grep -q stay_func "$T/out"
ok $? "unresolved: --unresolved lists it, exit status 3 (got $rc)" "$T/out"
"$DG" bind "dir:$R" /bin/ls >"$T/out" 2>&1
rc=$?
[[ $rc -eq 0 ]] && grep -q '^/bin/ls: fgetfilecon@LIBSELINUX_1.0 -> /lib/x86_64-linux-gnu/libselinux.so.1$' "$T/out"
ok $? "text output: REF: SYMBOL@VERSION -> DEF" "$T/out"

# ---- damaged tables: the binder must refuse or cope, never crash ----
for spec in "/bin/ls /lib/x86_64-linux-gnu/libc.so.6,/lib/x86_64-linux-gnu/libselinux.so.1,/bin/ls 80 1" \
	"/opt/bind/bin/interpose /opt/bind/lib/libearly.so,/opt/bind/bin/interpose 60 2" \
	"/opt/bind/bin/ver-new /opt/bind/lib/libver.so,/opt/bind/bin/ver-new 40 3" \
	"/opt/bind/bin/unique /opt/bind/lib/libuniqa.so,/opt/bind/lib/libuniqb.so 40 4"; do
	read -r exe libs iters seed <<<"$spec"
	read -r runs bound fails < <(DG_MUTATE_KEEP="$T" python3 "$here/../tools/bind_mutate.py" "$R" "$DG" "$exe" "$libs" "$iters" "$seed" 2>"$T/err")
	[[ "${fails:-1}" -eq 0 && "${bound:-0}" -gt $((iters / 4)) ]]
	ok $? "mutated hash/version/symbol/relocation tables of $libs: ${runs:-0} runs, ${bound:-0} reached binding, no crash" "$T/err"
done

# ---- optional: a bigger root filesystem (e.g. bench/bench.sh's) against the real loader ----
if [[ -n "${DG_BIND_ROOTFS:-}" && -d "${DG_BIND_ROOTFS:-}" ]]; then
	X=$DG_BIND_ROOTFS
	bins=()
	while IFS= read -r f; do
		readelf -lW "$f" 2>/dev/null | grep -q "Requesting program interpreter" && bins+=("/${f#"$X"/}")
	done < <(find "$X/bin/" "$X/usr/bin/" "$X/sbin/" "$X/usr/sbin/" -maxdepth 1 -type f 2>/dev/null | sort)
	mkdir -p "$T/cmpx"
	read -r nexe nbad ntup < <(python3 "$here/../tools/bind_compare.py" "$X" "$DG" "$T/cmpx" "${bins[@]}")
	ok "${nbad:-1}" "$X: ${nexe:-0} executables agree with ld.so for all ${ntup:-0} lookups" "$T/cmpx/diff"
else
	n=$((n + 1))
	echo "ok $n - bind: a bigger root filesystem # SKIP set DG_BIND_ROOTFS to a root filesystem directory"
fi
tap_end
