"""Workloads of real Go programs from Debian's packages (tests/tools/realimage.sh goapps), for
stracecheck.py --cases go and tests/e2e/test_go.sh: each serves, stores, encrypts or copies
something real and checks the answer; every one is a `/bin/sh -c` script, so the same text is
the argument of a container in the real-engine runs.

  caddy            file server: GET a file, a directory listing, a gzip'd answer, a 404; adapt a
                   Caddyfile; list modules
  age              age-keygen, encrypt to the recipient (binary and armored), decrypt, compare
  prometheus       serve, scrape itself, answer a PromQL query and /metrics; promtool checks
  etcd             etcd serving on loopback; etcdctl put / get / watch / del / endpoint status
  docker-registry  serve /v2/, upload a blob (POST, PUT), read it back, list the catalog
  runc             runc spec, features, list, state of nothing (its CLI; the container runs of
                   runc are tests/e2e/test_trace.sh's and the engines')
  skopeo           copy a docker-archive to an OCI layout and to a dir:, inspect it
"""

CADDY = r"""
export HOME=/tmp XDG_DATA_HOME=/tmp/xd XDG_CONFIG_HOME=/tmp/xc
mkdir -p /tmp/www/sub && echo hello-caddy >/tmp/www/index.txt && seq 1 3000 >/tmp/www/sub/big.txt
caddy file-server --listen 127.0.0.1:8081 --root /tmp/www --browse >/tmp/caddy.log 2>&1 &
i=0; until curl -sf -o /dev/null http://127.0.0.1:8081/index.txt; do i=$((i+1)); [ $i -gt 150 ] && exit 1; sleep 0.1; done
curl -sf http://127.0.0.1:8081/index.txt | grep -q hello-caddy &&
curl -sf http://127.0.0.1:8081/sub/ | grep -q big.txt &&
curl -sf --compressed -H 'Accept-Encoding: gzip' http://127.0.0.1:8081/sub/big.txt | tail -1 | grep -qx 3000 &&
test "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8081/nothere)" = 404 || { kill $!; exit 2; }
kill -INT $!; wait
printf ':8082 {\n\troot * /tmp/www\n\tfile_server\n\tencode gzip\n}\n' >/tmp/Caddyfile
caddy adapt --config /tmp/Caddyfile --adapter caddyfile | grep -q file_server && caddy list-modules | grep -q http.handlers.file_server &&
caddy version && echo caddy-ok
"""

AGE = r"""
age-keygen -o /tmp/key.txt 2>/dev/null && r=$(age-keygen -y /tmp/key.txt) &&
age -r "$r" -o /tmp/p.age /etc/passwd && test "$(age -d -i /tmp/key.txt /tmp/p.age | sha256sum)" = "$(sha256sum </etc/passwd)" &&
age -a -r "$r" </etc/os-release >/tmp/o.age && grep -q 'BEGIN AGE' /tmp/o.age &&
test "$(age --decrypt --identity /tmp/key.txt /tmp/o.age | sha256sum)" = "$(sha256sum </etc/os-release)" && echo age-ok
"""

PROMETHEUS = r"""
mkdir -p /tmp/prom && printf 'global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: self\n    static_configs:\n      - targets: ["127.0.0.1:9091"]\n' >/tmp/prom.yml
promtool check config /tmp/prom.yml >/dev/null &&
{ prometheus --config.file=/tmp/prom.yml --storage.tsdb.path=/tmp/prom --web.listen-address=127.0.0.1:9091 >/tmp/prom.log 2>&1 & } &&
i=0; until curl -sf -o /dev/null http://127.0.0.1:9091/-/ready; do i=$((i+1)); [ $i -gt 200 ] && exit 1; sleep 0.1; done
i=0; until curl -sf 'http://127.0.0.1:9091/api/v1/query?query=up' | grep -q '"value"'; do i=$((i+1)); [ $i -gt 100 ] && { kill $!; exit 2; }; sleep 0.2; done
curl -sf http://127.0.0.1:9091/metrics | grep -q '^prometheus_build_info' &&
curl -sf 'http://127.0.0.1:9091/api/v1/query?query=sum(rate(prometheus_http_requests_total[5s]))' | grep -q success &&
curl -sf -X POST http://127.0.0.1:9091/-/reload -o /dev/null -w '%{http_code}\n'
kill -TERM $!; wait; echo prometheus-ok
"""

ETCD = r"""
etcd --name t --data-dir /tmp/etcd --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
     --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
     --initial-cluster t=http://127.0.0.1:2380 >/tmp/etcd.log 2>&1 &
export ETCDCTL_API=3
i=0; until etcdctl --endpoints=127.0.0.1:2379 endpoint health >/dev/null 2>&1; do i=$((i+1)); [ $i -gt 150 ] && exit 1; sleep 0.1; done
etcdctl --endpoints=127.0.0.1:2379 put k1 v1 && test "$(etcdctl --endpoints=127.0.0.1:2379 get k1 --print-value-only)" = v1 &&
etcdctl --endpoints=127.0.0.1:2379 put k2 v2 && etcdctl --endpoints=127.0.0.1:2379 get k --prefix --keys-only | grep -q k2 &&
etcdctl --endpoints=127.0.0.1:2379 del k1 && etcdctl --endpoints=127.0.0.1:2379 endpoint status >/dev/null &&
etcdctl --endpoints=127.0.0.1:2379 snapshot save /tmp/snap.db >/dev/null || { kill $!; exit 2; }
kill -TERM $!; wait; echo etcd-ok
"""

REGISTRY = r"""
printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /tmp/reg\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:5000\n' >/tmp/reg.yml
docker-registry serve /tmp/reg.yml >/tmp/reg.log 2>&1 &
i=0; until curl -sf -o /dev/null http://127.0.0.1:5000/v2/; do i=$((i+1)); [ $i -gt 150 ] && exit 1; sleep 0.1; done
echo blob-data >/tmp/blob && d=sha256:$(sha256sum /tmp/blob | cut -d' ' -f1) &&
loc=$(curl -sf -D - -o /dev/null -X POST http://127.0.0.1:5000/v2/t/blobs/uploads/ | tr -d '\r' | sed -n 's/^[Ll]ocation: //p') &&
case $loc in *\?*) sep='&';; *) sep='?';; esac &&
curl -sf -X PUT -H 'Content-Type: application/octet-stream' --data-binary @/tmp/blob "$loc${sep}digest=$d" -o /dev/null &&
test "$(curl -sf http://127.0.0.1:5000/v2/t/blobs/$d)" = blob-data &&
curl -sf -I http://127.0.0.1:5000/v2/t/blobs/$d | grep -qi '^docker-content-digest' &&
curl -sf http://127.0.0.1:5000/v2/_catalog >/dev/null || { kill $!; exit 2; }
kill -TERM $!; wait; echo registry-ok
"""

RUNC = r"""
mkdir -p /tmp/b/rootfs && cd /tmp/b && runc spec && grep -q '"ociVersion"' config.json &&
runc features | grep -q seccomp && runc --root /tmp/rr list && ! runc --root /tmp/rr state nothere 2>/dev/null &&
runc --version && echo runc-ok
"""

SKOPEO = r"""
export HOME=/tmp TMPDIR=/tmp
skopeo --insecure-policy copy -q docker-archive:/srv/tiny.tar oci:/tmp/oci:t &&
skopeo inspect oci:/tmp/oci:t | grep -q '"Layers"' &&
skopeo --insecure-policy copy -q oci:/tmp/oci:t dir:/tmp/dir && test -s /tmp/dir/manifest.json &&
skopeo inspect --raw oci:/tmp/oci:t | grep -q schemaVersion && skopeo --version && echo skopeo-ok
"""

# (id, argv inside the root, stdin, setup, expected exit status), as stracecheck.CASES
WORKLOADS = {"caddy": CADDY, "age": AGE, "prometheus": PROMETHEUS, "etcd": ETCD, "docker-registry": REGISTRY,
             "runc": RUNC, "skopeo": SKOPEO}
# the Go programs each workload runs (what test_go.sh reports on)
PROGRAMS = {"caddy": ["/usr/bin/caddy"], "age": ["/usr/bin/age", "/usr/bin/age-keygen"],
            "prometheus": ["/usr/bin/prometheus", "/usr/bin/promtool"], "etcd": ["/usr/bin/etcd", "/usr/bin/etcdctl"],
            "docker-registry": ["/usr/bin/docker-registry"], "runc": ["/usr/sbin/runc"], "skopeo": ["/usr/bin/skopeo"]}
CASES = [(f"go-{k}", ["/bin/sh", "-c", v], None, None, 0) for k, v in WORKLOADS.items()]
