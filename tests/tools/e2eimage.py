#!/usr/bin/env python3
"""Real multi-layer test images for the end-to-end suite and bench/images.sh.

  e2eimage.py list                                  the image names, one per line
  e2eimage.py servers                               the server image names (tests/e2e/test_servers.py),
                                                    one per line; built like the others, docker-archive
                                                    form only
  e2eimage.py build NAME [--format docker-archive|oci]
                                                    builds NAME if needed (cached) and prints the
                                                    absolute path of the image: a .tar
                                                    (docker-archive, gzip layers) or an OCI layout
                                                    directory (zstd layers)
  e2eimage.py rootfs NAME                           prints the merged root filesystem directory
  e2eimage.py smoke [NAME...]                       podman load (private store) + podman run of a
                                                    simple command in each image (root; runc)

Progress goes to stderr; only the answer goes to stdout; a failure exits non-zero with one line.

Images (Debian bookworm, amd64): nginx (nginx-light + curl), redis (redis-server + redis-tools),
python (python3), node (nodejs), tools (gawk, sqlite3, xz-utils, bzip2 over minbase's coreutils, grep, sed, tar,
gzip, findutils), all from `mmdebstrap --mode=root --variant=minbase` with the mirror of
/etc/apt/sources.list.d/debian.sources (apt sources removed again, /usr/share/{doc,man,locale,info}
excluded); and busybox: busybox-static unpacked from its .deb with a symlink per applet, like the
official busybox image.

Server images (tests/e2e/test_servers.py; not in `list`): haproxy, lighttpd, apache2 (through
apache2ctl), mosquitto, memcached, git (git daemon) and postgres (behind an entrypoint script like
the official image's: initdb as the postgres user through gosu, then exec postgres), each
configured as an official image would be: an Entrypoint and/or Cmd, a setup script run in a
chroot of the rootfs at the end of mmdebstrap ("setup"; /dev and /proc are there) and then
configuration files written into it ("files"), both before the layers are made, each server listening on 127.0.0.1 on a port of its own (18401-18407).

The .debs mmdebstrap downloads are kept in ${cache}/apt-archives and given to the next build
(mmdebstrap sync-in / sync-out), so the images share their downloads.

Every image has three layers:
  1. the base: the minbase rootfs (built once, shared by the Debian images) or busybox;
  2. the difference from the base to the rootfs with the application installed: new and changed
     entries (type, mode, owner, mtime, size, content hash, link target) with their parent
     directories, and `.wh.NAME` whiteouts for removed entries (each recipe removes at least one
     thing the base has, e.g. /etc/cron.daily and /var/log/apt);
  3. only whiteouts and opaque directories (`.wh..wh..opq`), e.g. /var/cache/debconf emptied.
Layers are tars with sorted entries, numeric owners kept, mtimes clamped to a fixed epoch
(SOURCE_DATE_EPOCH-like), hardlinks kept; device nodes under /dev are left out. Every build
applies the three layer tars (whiteouts, opaque directories, hardlinks; the OCI rules) to an
empty tree in memory and compares the result with the intended final rootfs (which stays on disk
for `rootfs`), and fails if they differ. Both image forms are written from the same layer tars by
mkimg.py.

Cache: ${DG_E2E_IMAGES:-/var/tmp/dockergate-e2e-images}/NAME-HASH where HASH covers the image's
recipe, the base's recipe, this script and mkimg.py; the shared minbase rootfs is in
base-minbase-HASH (its recipe and BASE_VERSION only) (a recipe change rebuilds that image only;
other entries are kept; old entries are not removed). A `.done` marker is written last: a build
interrupted halfway is redone. A lock file (fcntl.flock) per entry serialises concurrent builds.
Force a rebuild: remove the entry's directory (or the whole cache directory).
"""
import fcntl, hashlib, io, json, os, shutil, stat, subprocess, sys, tarfile, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
MKIMG = os.path.join(HERE, "mkimg.py")
EPOCH = 1747699200  # 2025-05-20, the mirror snapshot of the project's machine
BASE_VERSION = 1
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
FORMS = ["docker-archive", "oci"]

BASE = {"suite": "bookworm", "variant": "minbase", "include": [],
        "exclude": ["/usr/share/doc/*", "/usr/share/man/*", "/usr/share/locale/*", "/usr/share/info/*"]}

# layer2_remove: paths of the base that the application stage deletes (whiteouts in layer 2);
# layer3_whiteout / layer3_opaque: what layer 3 removes / empties.
DEBIAN_L2 = ["etc/cron.daily", "var/log/apt"]
DEBIAN_L3W = ["etc/motd"]
DEBIAN_L3O = ["var/cache/debconf", "tmp"]
IMAGES = {
    "nginx": {"include": ["nginx-light", "curl"], "cmd": ["nginx", "-g", "daemon off;"],
              "layer2_remove": DEBIAN_L2, "layer3_whiteout": DEBIAN_L3W, "layer3_opaque": DEBIAN_L3O,
              "smoke": ["sh", "-c", "nginx && curl -fsS -o /dev/null http://127.0.0.1/ && nginx -s quit && echo ok"]},
    "redis": {"include": ["redis-server", "redis-tools"], "cmd": ["redis-server"],
              "layer2_remove": DEBIAN_L2, "layer3_whiteout": DEBIAN_L3W, "layer3_opaque": DEBIAN_L3O,
              "smoke": ["sh", "-c", "redis-server --daemonize yes >/dev/null && sleep 0.5 && redis-cli set k v >/dev/null"
                        " && test \"$(redis-cli get k)\" = v && redis-cli shutdown nosave; echo ok"]},
    "python": {"include": ["python3"], "cmd": ["python3"],
               "layer2_remove": DEBIAN_L2, "layer3_whiteout": DEBIAN_L3W, "layer3_opaque": DEBIAN_L3O,
               "smoke": ["python3", "-c", "import json, hashlib, sqlite3; print('ok')"]},
    "tools": {"include": ["gawk", "sqlite3", "xz-utils", "bzip2"], "cmd": ["/bin/sh"],
              "layer2_remove": DEBIAN_L2, "layer3_whiteout": DEBIAN_L3W, "layer3_opaque": DEBIAN_L3O,
              "smoke": ["sh", "-c", "seq 1 100 | gawk '{s+=$1} END{print s}' | grep -q 5050 && "
                        "echo hi | xz | xz -d | bzip2 | bzip2 -d | gzip | gzip -d | sed s/hi/ok/ && "
                        "sqlite3 :memory: 'select 1' >/dev/null && find /etc -name passwd | tar -cf - -T - | tar -tf - >/dev/null"]},
    # Debian's Node.js (libnode108): V8 looks up pkey_alloc/pkey_free/pkey_mprotect with dlsym
    "node": {"include": ["nodejs"], "cmd": ["node"],
             "layer2_remove": DEBIAN_L2, "layer3_whiteout": DEBIAN_L3W, "layer3_opaque": DEBIAN_L3O,
             "smoke": ["node", "-e", "console.log('ok')"]},
    "busybox": {"busybox": True, "cmd": ["sh"],
                "layer2_remove": ["usr/share/doc"], "layer3_whiteout": ["etc/motd"],
                "layer3_opaque": ["var/cache/app"],
                "smoke": ["sh", "-c", "mkdir /tmp/x && rmdir /tmp/x && ls / >/dev/null && echo ok"]},
}


# Server images (tests/e2e/test_servers.py): a setup script run in a chroot of the rootfs at the
# end of mmdebstrap, then files written into it (both part of layer 2); "entrypoint", "env", "user" and
# "forms" (docker-archive only) as an image config would have them. Ports 18401-18407.
HAPROXY_ENTRY = """#!/bin/sh
set -e
# as the official haproxy image's docker-entrypoint.sh: a first argument that is an option runs
# haproxy with it; haproxy runs in master-worker mode, in the foreground
if [ "${1#-}" != "$1" ]; then
	set -- haproxy "$@"
fi
if [ "$1" = 'haproxy' ]; then
	shift
	set -- haproxy -W -db "$@"
fi
exec "$@"
"""
HAPROXY_CFG = """global
	maxconn 256
defaults
	mode http
	timeout connect 2s
	timeout client 30s
	timeout server 30s
frontend web
	bind 127.0.0.1:18401
	http-request return status 200 content-type text/plain string "hello from haproxy" if { path /hello }
	default_backend nothing
backend nothing
	server none 127.0.0.1:18499
"""
LIGHTTPD_CFG = """server.document-root = "/var/www/html"
server.bind = "127.0.0.1"
server.port = 18402
server.errorlog = "/var/log/lighttpd/error.log"
server.modules = ("mod_access", "mod_accesslog")
index-file.names = ("index.html")
url.access-deny = ("~", ".inc")
accesslog.filename = "/var/log/lighttpd/access.log"
mimetype.assign = (".html" => "text/html", ".txt" => "text/plain")
"""
APACHE_SITE = """<VirtualHost 127.0.0.1:18403>
	DocumentRoot /var/www/html
	ErrorLog ${APACHE_LOG_DIR}/error.log
	CustomLog ${APACHE_LOG_DIR}/access.log combined
</VirtualHost>
"""
MOSQUITTO_ENTRY = """#!/bin/sh
set -e
# the official eclipse-mosquitto image's docker-entrypoint.sh
user="$(id -u)"
if [ "$user" = '0' ]; then
	[ -d "/mosquitto" ] && chown -R mosquitto:mosquitto /mosquitto || true
fi
exec "$@"
"""
MOSQUITTO_CFG = """listener 18404 127.0.0.1
allow_anonymous true
persistence true
persistence_location /mosquitto/data/
log_dest stdout
"""
MEMCACHED_ENTRY = """#!/bin/sh
set -e
# the official memcached image's docker-entrypoint.sh
if [ "${1#-}" != "$1" ]; then
	set -- memcached "$@"
fi
exec "$@"
"""
# the official postgres image's docker-entrypoint.sh, shortened: as root, make the directories
# the postgres user's and run this script again as that user through gosu; as postgres, initdb
# when the data directory is empty, then exec the server
POSTGRES_ENTRY = """#!/usr/bin/env bash
set -Eeo pipefail

docker_create_db_directories() {
	mkdir -p "$PGDATA"
	chmod 00700 "$PGDATA" || :
	mkdir -p /var/run/postgresql || :
	chmod 03775 /var/run/postgresql || :
	if [ "$(id -u)" = '0' ]; then
		find "$PGDATA" \\! -user postgres -exec chown postgres '{}' +
		find /var/run/postgresql \\! -user postgres -exec chown postgres '{}' +
	fi
}

docker_init_database_dir() {
	initdb --username=postgres --pwfile=<(printf '%s\\n' "$POSTGRES_PASSWORD") \\
		--auth-host=trust --auth-local=trust -E UTF8 -D "$PGDATA" >/dev/null
}

_main() {
	if [ "${1:0:1}" = '-' ]; then
		set -- postgres "$@"
	fi
	if [ "$1" = 'postgres' ]; then
		docker_create_db_directories
		if [ "$(id -u)" = '0' ]; then
			exec gosu postgres "$BASH_SOURCE" "$@"
		fi
		if [ ! -s "$PGDATA/PG_VERSION" ]; then
			docker_init_database_dir
			echo 'PostgreSQL init process complete; ready for start up.'
		fi
	fi
	exec "$@"
}

_main "$@"
"""
GIT_SETUP = """set -e
export HOME=/root GIT_AUTHOR_DATE=2025-05-20T00:00:00Z GIT_COMMITTER_DATE=2025-05-20T00:00:00Z
mkdir -p /srv/git /tmp/work
cd /tmp/work
git init -q -b main
git config user.name e2e
git config user.email e2e@localhost
printf 'served by git daemon\\n' > README
mkdir -p src && printf 'int main(void) { return 0; }\\n' > src/main.c
git add README src/main.c
git commit -q -m 'the e2e repository'
git clone -q --bare /tmp/work /srv/git/repo.git
cd / && rm -rf /tmp/work /root/.gitconfig
"""
SRV = {"layer2_remove": DEBIAN_L2, "layer3_whiteout": DEBIAN_L3W, "layer3_opaque": DEBIAN_L3O,
       "forms": ["docker-archive"]}
SERVERS = {
    "haproxy": dict(SRV, include=["haproxy"], entrypoint=["docker-entrypoint.sh"],
                    cmd=["haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg"],
                    files={"usr/local/bin/docker-entrypoint.sh": (0o755, HAPROXY_ENTRY),
                           "usr/local/etc/haproxy/haproxy.cfg": (0o644, HAPROXY_CFG)}),
    "lighttpd": dict(SRV, include=["lighttpd"], cmd=["lighttpd", "-D", "-f", "/etc/lighttpd/e2e.conf"],
                     files={"etc/lighttpd/e2e.conf": (0o644, LIGHTTPD_CFG),
                            "var/www/html/index.html": (0o644, "hello from lighttpd\n"),
                            "var/www/html/secret.inc": (0o644, "not for you\n")},
                     setup="mkdir -p /var/log/lighttpd && chown www-data:www-data /var/log/lighttpd"),
    "apache2": dict(SRV, include=["apache2"], cmd=["apache2ctl", "-D", "FOREGROUND"],
                    files={"etc/apache2/ports.conf": (0o644, "Listen 127.0.0.1:18403\n"),
                           "etc/apache2/sites-available/000-default.conf": (0o644, APACHE_SITE),
                           "var/www/html/e2e.txt": (0o644, "hello from apache2\n")}),
    "mosquitto": dict(SRV, include=["mosquitto"], entrypoint=["/docker-entrypoint.sh"],
                      cmd=["/usr/sbin/mosquitto", "-c", "/mosquitto/config/mosquitto.conf"],
                      files={"docker-entrypoint.sh": (0o755, MOSQUITTO_ENTRY),
                             "mosquitto/config/mosquitto.conf": (0o644, MOSQUITTO_CFG)},
                      setup="mkdir -p /mosquitto/data /mosquitto/log"),
    "memcached": dict(SRV, include=["memcached"], entrypoint=["docker-entrypoint.sh"],
                      cmd=["memcached", "-l", "127.0.0.1", "-p", "18405", "-U", "0", "-m", "16"], user="memcache",
                      files={"usr/local/bin/docker-entrypoint.sh": (0o755, MEMCACHED_ENTRY)}),
    "git": dict(SRV, include=["git"],
                cmd=["git", "daemon", "--export-all", "--base-path=/srv/git", "--reuseaddr", "--listen=127.0.0.1",
                     "--port=18406", "--verbose", "/srv/git"],
                setup=GIT_SETUP),
    "postgres": dict(SRV, include=["postgresql", "gosu"], entrypoint=["docker-entrypoint.sh"],
                     cmd=["postgres", "-p", "18407", "-c", "listen_addresses=127.0.0.1"],
                     env=["PATH=/usr/local/sbin:/usr/local/bin:/usr/lib/postgresql/15/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                          "PGDATA=/var/lib/postgresql/data", "POSTGRES_PASSWORD=e2e"],
                     files={"usr/local/bin/docker-entrypoint.sh": (0o755, POSTGRES_ENTRY)}),
}
RECIPES = dict(IMAGES, **SERVERS)


def log(msg):
    print("e2eimage: " + msg, file=sys.stderr, flush=True)


def die(msg):
    print("e2eimage: " + msg, file=sys.stderr)
    sys.exit(1)


def cache_root():
    return os.environ.get("DG_E2E_IMAGES") or "/var/tmp/dockergate-e2e-images"


def script_hash():
    h = hashlib.sha256()
    for p in (os.path.abspath(__file__), MKIMG):
        h.update(open(p, "rb").read())
    return h.hexdigest()


def key(obj, scripts=True):
    return hashlib.sha256((json.dumps(obj, sort_keys=True) + (script_hash() if scripts else "")).encode()).hexdigest()[:16]


def run(cmd, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if r.returncode:
        tail = (r.stderr.strip().splitlines() or ["?"])[-1]
        die("%s failed (exit %d): %s" % (os.path.basename(cmd[0]), r.returncode, tail))
    return r.stdout


class Locked:
    """An entry of the cache: build it under an exclusive lock, once."""

    def __init__(self, d):
        self.d = d

    def __enter__(self):
        os.makedirs(os.path.dirname(self.d), exist_ok=True)
        self.f = open(self.d + ".lock", "w")
        fcntl.flock(self.f, fcntl.LOCK_EX)
        return self

    def __exit__(self, *a):
        fcntl.flock(self.f, fcntl.LOCK_UN)
        self.f.close()

    def done(self):
        return os.path.exists(os.path.join(self.d, ".done"))

    def fresh(self):
        if os.path.lexists(self.d):
            safe_rmtree(self.d)
        os.makedirs(self.d)

    def finish(self):
        with open(os.path.join(self.d, ".done"), "w") as f:
            f.write(time.strftime("%Y-%m-%dT%H:%M:%SZ\n", time.gmtime()))


def safe_rmtree(d):
    """rm -rf D, but first unmount what an interrupted mmdebstrap may have left mounted inside it
    (/proc, /sys, a bind mount of /dev): deleting through those would reach the host."""
    real = os.path.realpath(d)

    def mounts():
        out = []
        for line in open("/proc/self/mountinfo"):
            mp = line.split()[4].encode().decode("unicode_escape")
            if mp == real or mp.startswith(real + "/"):
                out.append(mp)
        return sorted(out, key=len, reverse=True)

    for mp in mounts():
        log("unmounting %s left by an interrupted build" % mp)
        subprocess.run(["umount", "-l", mp], capture_output=True)
    left = mounts()
    if left:
        die("cannot remove %s: %s is still mounted" % (d, left[0]))
    shutil.rmtree(d)



# ---------------------------------------------------------------- root filesystems

def mirror():
    try:
        for line in open("/etc/apt/sources.list.d/debian.sources"):
            if line.startswith("URIs:"):
                return line.split()[1]
    except OSError:
        pass
    return "http://deb.debian.org/debian"


def mmdebstrap(dest, include, setup=None):
    if not shutil.which("mmdebstrap"):
        die("mmdebstrap is not installed (scripts/deps.sh --test)")
    cmd = ["mmdebstrap", "--quiet", "--mode=root", "--variant=" + BASE["variant"], "--format=directory"]
    for e in BASE["exclude"]:
        cmd.append("--dpkgopt=path-exclude=" + e)
    cmd.append("--dpkgopt=force-unsafe-io")  # no fsync per file: the tree is copied into layers anyway
    if include:
        cmd.append("--include=" + ",".join(include))
    cmd.append('--customize-hook=rm -f "$1"/etc/apt/sources.list "$1"/etc/apt/sources.list.d/*')
    if setup:  # a server recipe's setup script, run by the image's /bin/sh in the finished chroot
        script = dest.rstrip("/") + ".setup.sh"
        with open(script, "w") as f:
            f.write(setup)
        cmd.append('--customize-hook=chroot "$1" /usr/bin/env -i PATH=%s LC_ALL=C /bin/sh -e < %s' % (PATH_ENV[5:], script))
    # the downloads of earlier builds: given to apt in the chroot, and what it downloaded kept
    debs = os.path.join(cache_root(), "apt-archives")
    out = dest.rstrip("/") + ".debs"
    os.makedirs(debs, exist_ok=True)
    os.makedirs(out, exist_ok=True)
    cmd += ['--setup-hook=mkdir -p "$1"/var/cache/apt/archives',
            "--setup-hook=sync-in %s /var/cache/apt/archives/" % debs,
            "--customize-hook=sync-out /var/cache/apt/archives %s" % out]
    cmd += [BASE["suite"], dest, "deb %s %s main" % (mirror(), BASE["suite"])]
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(EPOCH))
    t = time.time()
    run(cmd, env=env)
    kept = 0
    for n in os.listdir(out):  # each new .deb renamed into the shared directory (atomic)
        if n.endswith(".deb") and not os.path.exists(os.path.join(debs, n)):
            os.rename(os.path.join(out, n), os.path.join(debs, n))
            kept += 1
    shutil.rmtree(out)
    if setup:
        os.unlink(script)
    # no device nodes in an image layer (engines create /dev); keep the directory
    devdir = os.path.join(dest, "dev")
    if os.path.isdir(devdir):
        shutil.rmtree(devdir)
        os.mkdir(devdir, 0o755)
    log("mmdebstrap %s: %.0f s (%d new .debs kept)" % (",".join(include) or "minbase", time.time() - t, kept))


def base_rootfs():
    # its key is its recipe only (BASE_VERSION: bump it when mmdebstrap() changes), so editing this
    # script rebuilds the images (their keys cover it) but not the shared base
    d = os.path.join(cache_root(), "base-minbase-" + key([BASE, EPOCH, BASE_VERSION], scripts=False))
    with Locked(d) as L:
        if not L.done():
            log("building the shared minbase rootfs in " + d)
            L.fresh()
            mmdebstrap(os.path.join(d, "rootfs"), [])
            L.finish()
    return os.path.join(d, "rootfs")


def fetch_deb(pkg, where):
    os.makedirs(where, exist_ok=True)
    for d in (where, os.path.join(os.environ.get("DG_FIXTURES", ""), "debs")):
        if d and os.path.isdir(d):
            for n in sorted(os.listdir(d)):
                if n.startswith(pkg + "_") and n.endswith(".deb"):
                    return os.path.join(d, n)
    r = subprocess.run(["apt-get", "download", "-qq", pkg], cwd=where, capture_output=True, text=True)
    if r.returncode:
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True)
        run(["apt-get", "download", "-qq", pkg], cwd=where)
    for n in sorted(os.listdir(where)):
        if n.startswith(pkg + "_") and n.endswith(".deb"):
            return os.path.join(where, n)
    die("cannot download " + pkg)


def busybox_base(dest, debdir):
    """Like the official busybox image: the static binary, a link per applet, a few files."""
    run(["dpkg-deb", "-x", fetch_deb("busybox-static", debdir), dest])
    bb = os.path.join(dest, "bin", "busybox")
    applets = run([bb, "--list-full"]).split()
    for a in applets:
        p = os.path.join(dest, a)
        if os.path.lexists(p):
            continue
        os.makedirs(os.path.dirname(p), exist_ok=True)
        os.symlink("/bin/busybox", p)
    for d, m in (("tmp", 0o1777), ("root", 0o700), ("home", 0o755), ("var/spool/mail", 0o755),
                 ("var/www", 0o755), ("etc", 0o755), ("proc", 0o755), ("sys", 0o755), ("dev", 0o755)):
        os.makedirs(os.path.join(dest, d), exist_ok=True)
        os.chmod(os.path.join(dest, d), m)
    files = {"etc/passwd": "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
                           "nobody:x:65534:65534:nobody:/home:/bin/false\n",
             "etc/group": "root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\n",
             "etc/motd": "busybox e2e image\n"}
    for p, s in files.items():
        with open(os.path.join(dest, p), "w") as f:
            f.write(s)
    return len(applets)


def busybox_app(dest):
    """The 'application' stage on top of busybox: a script, a config file, a cache dir."""
    os.makedirs(os.path.join(dest, "usr/local/bin"), exist_ok=True)
    p = os.path.join(dest, "usr/local/bin/hello")
    with open(p, "w") as f:
        f.write("#!/bin/sh\necho hello from busybox\n")
    os.chmod(p, 0o755)
    with open(os.path.join(dest, "etc/hostname"), "w") as f:
        f.write("e2e-busybox\n")
    os.makedirs(os.path.join(dest, "var/cache/app"), exist_ok=True)
    for n in ("a", "b"):
        with open(os.path.join(dest, "var/cache/app", n), "w") as f:
            f.write(n + "\n")


# ---------------------------------------------------------------- trees and layers

def rm(root, rel):
    p = os.path.join(root, rel)
    if not os.path.lexists(p):
        die("recipe removes %s, which the tree does not have" % rel)
    if os.path.isdir(p) and not os.path.islink(p):
        shutil.rmtree(p)
    else:
        os.unlink(p)


def file_hash(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def scan(root):
    """rel path -> (kind, mode, uid, gid, mtime, data, (dev, ino)); data = hash / link target."""
    out = {}
    for dp, dns, fns in os.walk(root):
        dns.sort()
        for n in dns + sorted(fns):
            p = os.path.join(dp, n)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            m = st.st_mode
            if stat.S_ISDIR(m):
                kind, data = "d", ""
            elif stat.S_ISLNK(m):
                kind, data = "l", os.readlink(p)
            elif stat.S_ISREG(m):
                kind, data = "f", "%d:%s" % (st.st_size, file_hash(p))
            else:
                continue  # fifos, sockets, devices: not in image layers
            out[rel] = (kind, stat.S_IMODE(m), st.st_uid, st.st_gid, min(int(st.st_mtime), EPOCH), data,
                        (st.st_dev, st.st_ino) if kind == "f" and st.st_nlink > 1 else None)
    return out


def meta(e):
    return e[:6]


def write_tar(path, tree, names, extra=()):
    """A layer tar: NAMES (rel paths of TREE, with their scanned metadata) in sorted order, hardlinks
    to the first name of the same inode in this layer, plus EXTRA empty files (whiteouts)."""
    entries = sorted([(n, tree[n]) for n in names] + [(n, None) for n in extra])
    first = {}
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
        for n, e in entries:
            ti = tarfile.TarInfo(n)
            ti.uname = ti.gname = ""
            ti.mtime = EPOCH
            if e is None:
                ti.mode = 0o644
                t.addfile(ti, io.BytesIO(b""))
                continue
            kind, mode, uid, gid, mtime, data, ino = e
            ti.mode, ti.uid, ti.gid, ti.mtime = mode, uid, gid, mtime
            if kind == "d":
                ti.type = tarfile.DIRTYPE
                t.addfile(ti)
            elif kind == "l":
                ti.type = tarfile.SYMTYPE
                ti.linkname = data
                t.addfile(ti)
            elif ino is not None and ino in first:
                ti.type = tarfile.LNKTYPE
                ti.linkname = first[ino]
                t.addfile(ti)
            else:
                if ino is not None:
                    first[ino] = n
                ti.size = int(data.split(":")[0])
                with open(os.path.join(tree["//root"], n), "rb") as f:
                    t.addfile(ti, f)


def parents(n):
    out = []
    while "/" in n:
        n = n.rsplit("/", 1)[0]
        out.append(n)
    return out


def diff_layer(lower, upper):
    """Names of UPPER to put in a layer over LOWER, and the whiteout names."""
    names = set()
    for n, e in upper.items():
        if n == "//root":
            continue
        lo = lower.get(n)
        if lo is None or meta(lo) != meta(e):
            names.add(n)
    # a hardlink group goes whole into the layer if any of its names does
    groups = {}
    for n, e in upper.items():
        if n != "//root" and e[6] is not None:
            groups.setdefault(e[6], []).append(n)
    for g in groups.values():
        if any(n in names for n in g):
            names.update(g)
    wh = set()
    for n in lower:
        if n == "//root" or n in upper:
            continue
        par = n.rsplit("/", 1)[0] if "/" in n else ""
        if par and par not in upper:
            continue  # its parent is gone (or whited out) already
        if par and upper[par][0] != "d":
            continue  # the parent became a non-directory: replacing it hides n
        wh.add((par + "/" if par else "") + ".wh." + n.rsplit("/", 1)[-1])
    for n in list(names) + [w for w in wh]:
        for p in parents(n):
            if p in upper:
                names.add(p)
    return names, wh


def apply_layers(tars):
    """The merged tree of layer tars (OCI image-spec rules), as rel path -> metadata."""
    state = {}

    def drop(prefix, keep_self):
        for k in [k for k in state if k == prefix or k.startswith(prefix + "/")]:
            if not (keep_self and k == prefix):
                del state[k]

    for tp in tars:
        with tarfile.open(tp) as t:
            members = t.getmembers()
            for m in members:  # whiteouts and opaque dirs act on the layers below
                n = m.name.rstrip("/")
                base = n.rsplit("/", 1)[-1]
                par = n.rsplit("/", 1)[0] if "/" in n else ""
                if base == ".wh..wh..opq":
                    if par:
                        drop(par, True)
                    else:
                        state.clear()
                elif base.startswith(".wh."):
                    drop((par + "/" if par else "") + base[4:], False)
            for m in members:
                n = m.name.rstrip("/")
                base = n.rsplit("/", 1)[-1]
                if base.startswith(".wh."):
                    continue
                old = state.get(n)
                if old is not None and (old[0] == "d") != m.isdir():
                    drop(n, False)
                if m.isdir():
                    e = ("d", m.mode, m.uid, m.gid, m.mtime, "")
                elif m.issym():
                    e = ("l", m.mode, m.uid, m.gid, m.mtime, m.linkname)
                elif m.islnk():
                    tgt = state.get(m.linkname)
                    if tgt is None or tgt[0] != "f":
                        die("layer %s: hardlink %s to a missing file %s" % (tp, n, m.linkname))
                    e = tgt
                elif m.isfile():
                    h = hashlib.sha256()
                    f = t.extractfile(m)
                    for b in iter(lambda: f.read(1 << 20), b""):
                        h.update(b)
                    e = ("f", m.mode, m.uid, m.gid, m.mtime, "%d:%s" % (m.size, h.hexdigest()))
                else:
                    continue
                state[n] = e
    return state


def check_merge(tars, final):
    got = apply_layers(tars)
    want = {n: meta(e) for n, e in final.items() if n != "//root"}
    bad = [n for n in sorted(set(got) | set(want)) if got.get(n) != want.get(n)]
    if bad:
        for n in bad[:10]:
            log("merge differs at %s: layers %s, rootfs %s" % (n, got.get(n), want.get(n)))
        die("the merged layers differ from the final rootfs in %d entries (first: %s)" % (len(bad), bad[0]))
    return len(want)


def tree(root):
    t = scan(root)
    t["//root"] = root
    return t


# ---------------------------------------------------------------- images

def entry_dir(name):
    r = RECIPES[name]
    recipe = {"name": name, "recipe": r, "base": None if r.get("busybox") else BASE, "epoch": EPOCH}
    return os.path.join(cache_root(), "%s-%s" % (name, key(recipe)))


def add_files(root, r):
    """A server recipe's configuration files (mode, text; owned by root; after its setup script)."""
    for rel, (mode, text) in sorted(r.get("files", {}).items()):
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)


def build(name):
    r = RECIPES[name]
    d = entry_dir(name)
    with Locked(d) as L:
        if L.done():
            return d
        t0 = time.time()
        log("building %s in %s" % (name, d))
        L.fresh()
        base = os.path.join(d, "base")
        final = os.path.join(d, "rootfs")
        if r.get("busybox"):
            n = busybox_base(base, os.path.join(cache_root(), "debs"))
            log("busybox: %d applets" % n)
            shutil.copytree(base, final, symlinks=True)
            busybox_app(final)
        else:
            shared = base_rootfs()
            run(["cp", "-a", shared, base])
            mmdebstrap(final, r["include"], r.get("setup"))
            add_files(final, r)
        lower = tree(base)
        for p in r["layer2_remove"]:
            rm(final, p)
        upper = tree(final)
        names, wh = diff_layer(lower, upper)
        if not wh:
            die("%s: layer 2 has no whiteout" % name)
        l1, l2, l3 = (os.path.join(d, "layer%d.tar" % i) for i in (1, 2, 3))
        write_tar(l1, lower, [n for n in lower if n != "//root"])
        write_tar(l2, upper, names, wh)
        log("%s: layer 1 %d entries, layer 2 %d entries + %d whiteouts (%s)"
            % (name, len(lower) - 1, len(names), len(wh), ", ".join(sorted(wh)[:4])))
        # layer 3: whiteouts and opaque directories only
        l3names, l3wh = set(), set()
        for p in r["layer3_whiteout"]:
            rm(final, p)
            par, _, b = p.rpartition("/")
            l3wh.add((par + "/" if par else "") + ".wh." + b)
        for p in r["layer3_opaque"]:
            full = os.path.join(final, p)
            if not os.path.isdir(full) or os.path.islink(full):
                die("recipe makes %s opaque, which is not a directory" % p)
            for c in os.listdir(full):
                rm(final, os.path.join(p, c))
            l3wh.add(p + "/.wh..wh..opq")
        fin = tree(final)
        for n in list(l3wh):
            for q in parents(n):
                l3names.add(q)
        write_tar(l3, fin, l3names, l3wh)
        n = check_merge([l1, l2, l3], fin)
        log("%s: the merged layers equal the final rootfs (%d entries)" % (name, n))
        shutil.rmtree(base)
        common = ["--tag", "localhost/dg-e2e-%s:1" % name, "--cmd", json.dumps(r["cmd"])]
        if r.get("entrypoint"):
            common += ["--entrypoint", json.dumps(r["entrypoint"])]
        for e in r.get("env") or [PATH_ENV]:
            common += ["--env", e]
        if r.get("user"):
            common += ["--user", r["user"]]
        forms = r.get("forms", FORMS)
        if "docker-archive" in forms:
            run([sys.executable, MKIMG, "--format", "docker-archive", "--compress", "gzip",
                 "--out", os.path.join(d, "image-docker-archive.tar")] + common + [l1, l2, l3])
        if "oci" in forms:
            run([sys.executable, MKIMG, "--format", "oci", "--compress", "zstd",
                 "--out", os.path.join(d, "image-oci")] + common + [l1, l2, l3])
        sizes = {os.path.basename(l): os.path.getsize(l) for l in (l1, l2, l3)}
        for l in (l1, l2, l3):  # both images hold them; no need to keep a third copy
            os.unlink(l)
        with open(os.path.join(d, "build.json"), "w") as f:
            json.dump({"name": name, "seconds": round(time.time() - t0, 1), "entries": n, "layer_tar_bytes": sizes,
                       "layer2_whiteouts": sorted(wh), "layer3": sorted(l3wh)}, f, indent=1)
        L.finish()
        log("%s built in %.0f s" % (name, time.time() - t0))
    return d


def smoke(names):
    """podman load + podman run of each image's smoke command, in a private store."""
    if os.geteuid() != 0:
        die("smoke needs root")
    sd = os.path.join(cache_root(), "podman-smoke")
    os.makedirs(sd, exist_ok=True)
    with open(os.path.join(sd, "storage.conf"), "w") as f:
        f.write('[storage]\ndriver = "vfs"\ngraphroot = "%s/graph"\nrunroot = "%s/run"\n' % (sd, sd))
    with open(os.path.join(sd, "containers.conf"), "w") as f:
        f.write('[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nruntime = "runc"\n')
    env = dict(os.environ, CONTAINERS_STORAGE_CONF=os.path.join(sd, "storage.conf"),
               CONTAINERS_CONF=os.path.join(sd, "containers.conf"))
    bad = 0
    for name in names:
        img = os.path.join(build(name), "image-docker-archive.tar")
        ref = "localhost/dg-e2e-%s:1" % name
        r = subprocess.run(["podman", "load", "-q", "-i", img], env=env, capture_output=True, text=True)
        if r.returncode:
            log("%s: podman load: %s" % (name, r.stderr.strip()))
            bad += 1
            continue
        r = subprocess.run(["podman", "run", "--rm", "--runtime", "runc", "--network", "none",
                            "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768",
                            ref] + IMAGES[name]["smoke"], env=env, capture_output=True, text=True, timeout=120)
        ok = r.returncode == 0
        print("%s %s: exit %d %s" % ("ok" if ok else "FAIL", name, r.returncode,
                                     (r.stdout + r.stderr).strip().replace("\n", " | ")[:200]))
        # the engine's own layer application: what layers 2 and 3 remove must be gone
        rec = IMAGES[name]
        test = " && ".join(["test ! -e /%s" % p for p in rec["layer2_remove"] + rec["layer3_whiteout"]] +
                           ['test -d /%s -a -z "$(ls -A /%s)"' % (p, p) for p in rec["layer3_opaque"]])
        r = subprocess.run(["podman", "run", "--rm", "--runtime", "runc", "--network", "none",
                            "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768",
                            ref, "sh", "-c", test], env=env, capture_output=True, text=True, timeout=120)
        print("%s %s whiteouts: exit %d %s" % ("ok" if r.returncode == 0 else "FAIL", name, r.returncode,
                                               (r.stdout + r.stderr).strip()[:200]))
        ok = ok and r.returncode == 0
        bad += not ok
        subprocess.run(["podman", "rmi", "-f", ref], env=env, capture_output=True)
    return 1 if bad else 0


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    cmd = argv[0]
    if cmd == "list":
        print("\n".join(IMAGES))
        return 0
    if cmd == "servers":
        print("\n".join(SERVERS))
        return 0
    if cmd == "smoke":
        return smoke(argv[1:] or list(IMAGES))
    if cmd in ("build", "rootfs"):
        args = argv[1:]
        fmt = "docker-archive"
        if "--format" in args:
            i = args.index("--format")
            if i + 1 >= len(args):
                die("--format needs docker-archive or oci")
            fmt = args[i + 1]
            del args[i:i + 2]
        if len(args) != 1:
            die("usage: e2eimage.py %s NAME%s" % (cmd, " [--format docker-archive|oci]" if cmd == "build" else ""))
        if args[0] not in RECIPES:
            die("unknown image %s (known: %s)" % (args[0], " ".join(RECIPES)))
        if fmt not in ("docker-archive", "oci"):
            die("unknown format %s (docker-archive or oci)" % fmt)
        if fmt not in RECIPES[args[0]].get("forms", FORMS):
            die("%s is built as %s only" % (args[0], " ".join(RECIPES[args[0]]["forms"])))
        d = os.path.abspath(build(args[0]))
        if cmd == "rootfs":
            print(os.path.join(d, "rootfs"))
        else:
            print(os.path.join(d, "image-docker-archive.tar" if fmt == "docker-archive" else "image-oci"))
        return 0
    die("unknown command %s (list, servers, build, rootfs, smoke)" % cmd)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        die("interrupted")
    except (OSError, subprocess.SubprocessError, tarfile.TarError, ValueError) as e:
        die("%s: %s" % (type(e).__name__, e))
