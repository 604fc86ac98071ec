#!/usr/bin/env bash
# Makes the node image's base without a container registry: Debian bookworm (debootstrap
# --variant=minbase) + openjdk-17-jre-headless + ca-certificates + user/group 65532 "nonroot",
# packed in docker-save format (manifest.json, config JSON, one gzipped layer), which Jib reads
# as tar://<file> (cluster/pom.xml, property sq.image.base).
#
# Output: ${XDG_CACHE_HOME:-$HOME/.cache}/shrivenquant/base-image/bookworm-jre17-<hash>.tar, <hash>
# being that of this script, plus bookworm-jre17.tar, a hard link to it, that the build reads
# (maven-enforcer's file check refuses a symbolic link whose target has another name). Built only when
# the file for this script's hash is missing. Needs root (debootstrap, chroot, mount of /proc)
# and the Debian package debootstrap. Options (environment):
#   SQ_DEBIAN_MIRROR   default: the Debian mirror this machine's apt uses, else
#                      http://deb.debian.org/debian (security updates from <mirror>-security)
#   SQ_BASE_IMAGE_DIR  default ${XDG_CACHE_HOME:-$HOME/.cache}/shrivenquant/base-image
#   SQ_BASE_FORCE=1    rebuild even when present
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

SCRIPT="$(readlink -f "${BASH_SOURCE[0]}")"
HASH="$(sha256sum "$SCRIPT" | cut -c1-12)"
OUT_DIR="${SQ_BASE_IMAGE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/shrivenquant/base-image}"
OUT="$OUT_DIR/bookworm-jre17-$HASH.tar"
LINK="$OUT_DIR/bookworm-jre17.tar"
apt_mirror() {
  { grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}'
    grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
      | sed -E 's/\[[^]]*\] *//' | awk '{print $2}'
  } | grep -E '/debian/?$' | head -1 || true
}
MIRROR="${SQ_DEBIAN_MIRROR:-$(apt_mirror)}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
MIRROR="${MIRROR%/}"
SUITE=bookworm
# Layer timestamps and the config's "created": fixed (bookworm's release date, 2023-06-10), so two
# builds of the same packages differ only in Java's cacerts keystore (PKCS12 has a random salt).
EPOCH=1686355200

if [ -s "$OUT" ] && [ "${SQ_BASE_FORCE:-0}" != 1 ]; then
  ln -f "$OUT" "$LINK"
  echo "base image present: $OUT"
  exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "build-base-image.sh: needs root (debootstrap, chroot)" >&2; exit 1; }
command -v debootstrap >/dev/null \
  || { echo "build-base-image.sh: needs debootstrap (apt-get install debootstrap)" >&2; exit 1; }

mkdir -p "$OUT_DIR"
WORK="$(mktemp -d "$OUT_DIR/.work.XXXXXX")"
ROOTFS="$WORK/rootfs"
cleanup() {
  mountpoint -q "$ROOTFS/proc" && umount "$ROOTFS/proc"
  rm -rf "$WORK"
}
trap cleanup EXIT
start=$(date +%s)

debootstrap --variant=minbase "$SUITE" "$ROOTFS" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
  || { tail -30 "$WORK/debootstrap.log" >&2; exit 1; }

cat >"$ROOTFS/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb ${MIRROR%/debian}/debian-security $SUITE-security main
EOF
# Keep docs, man pages and translations out of every later install too.
cat >"$ROOTFS/etc/dpkg/dpkg.cfg.d/01-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
EOF
# ca-certificates-java's postinst runs java, which needs /proc.
mount -t proc proc "$ROOTFS/proc"
in_root() { chroot "$ROOTFS" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
{
  in_root apt-get update -qq
  in_root apt-get upgrade -y -qq
  in_root apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless ca-certificates
  in_root groupadd --gid 65532 nonroot
  in_root useradd --uid 65532 --gid 65532 --home-dir /home/nonroot --create-home --shell /usr/sbin/nologin nonroot
  in_root apt-get clean
} >"$WORK/install.log" 2>&1 || { tail -30 "$WORK/install.log" >&2; exit 1; }
JRE_VERSION="$(in_root dpkg-query -W -f '${Version}' openjdk-17-jre-headless)"
umount "$ROOTFS/proc"

rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/* "$ROOTFS"/var/cache/debconf/*-old \
  "$ROOTFS"/var/log/* "$ROOTFS"/tmp/* "$ROOTFS"/var/tmp/* "$ROOTFS"/root/.cache \
  "$ROOTFS"/var/cache/ldconfig/aux-cache "$ROOTFS"/var/lib/dpkg/*-old
find "$ROOTFS"/usr/share/doc -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
find "$ROOTFS"/usr/share/doc -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* "$ROOTFS"/usr/share/locale/*
# What the container runtime provides: device nodes (/dev is mounted), per-machine identity.
rm -rf "${ROOTFS:?}"/dev/*
: >"$ROOTFS/etc/machine-id"
: >"$ROOTFS/etc/hostname"
rm -f "$ROOTFS/etc/resolv.conf"

IMG="$WORK/image"
mkdir -p "$IMG"
# Deterministic layer: sorted names, fixed times, numeric owners kept (files of root:shadow etc.),
# paths without a leading "./" like other images' layers.
mapfile -t top < <(ls -A "$ROOTFS")
tar --sort=name --mtime="@$EPOCH" --clamp-mtime --numeric-owner \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
  -C "$ROOTFS" -cf "$WORK/layer.tar" -- "${top[@]}"
DIFF_ID="sha256:$(sha256sum "$WORK/layer.tar" | cut -d' ' -f1)"
gzip -n -6 <"$WORK/layer.tar" >"$IMG/layer.tar.gz"
rm "$WORK/layer.tar"

CREATED="$(date -u -d "@$EPOCH" +%Y-%m-%dT%H:%M:%SZ)"
JAVA_HOME_DIR=/usr/lib/jvm/java-17-openjdk-amd64
[ -x "$ROOTFS$JAVA_HOME_DIR/bin/java" ] || { echo "no java at $JAVA_HOME_DIR" >&2; exit 1; }
# LANG: without a locale Java 17 would default file.encoding to ASCII.
cat >"$IMG/config.json" <<EOF
{"architecture":"amd64","os":"linux","created":"$CREATED",
 "config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                  "JAVA_HOME=$JAVA_HOME_DIR","LANG=C.UTF-8"],
           "User":"65532:65532","WorkingDir":"/home/nonroot",
           "Labels":{"org.opencontainers.image.base.name":"debian:$SUITE-minbase+openjdk-17-jre-headless",
                     "org.opencontainers.image.description":"Debian $SUITE minbase, openjdk-17-jre-headless $JRE_VERSION, user nonroot 65532"}},
 "rootfs":{"type":"layers","diff_ids":["$DIFF_ID"]},
 "history":[{"created":"$CREATED","created_by":"cluster/src/image/build-base-image.sh $HASH"}]}
EOF
cat >"$IMG/manifest.json" <<EOF
[{"Config":"config.json","RepoTags":["shrivenquant-base:bookworm-jre17-$HASH"],"Layers":["layer.tar.gz"]}]
EOF
tar --sort=name --mtime="@$EPOCH" --owner=0 --group=0 --numeric-owner -C "$IMG" \
  -cf "$OUT.partial" manifest.json config.json layer.tar.gz
mv "$OUT.partial" "$OUT"
ln -f "$OUT" "$LINK"
# Older hashes' tarballs are stale once this one exists.
find "$OUT_DIR" -maxdepth 1 -name 'bookworm-jre17-*.tar' ! -name "$(basename "$OUT")" -delete

echo "base image built in $(( $(date +%s) - start )) s from $MIRROR: $OUT" \
  "($(du -m "$OUT" | cut -f1) MiB, layer $DIFF_ID, openjdk-17-jre-headless $JRE_VERSION)"
