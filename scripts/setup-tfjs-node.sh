#!/usr/bin/env bash
# The TensorFlow backend of TensorFlow.js (@tensorflow/tfjs-node) without changing package-lock.json.
#
#   scripts/setup-tfjs-node.sh build   fill the cache (once per machine; idempotent, fast when done)
#   scripts/setup-tfjs-node.sh link    copy the cached package into node_modules (after every npm ci)
#   scripts/setup-tfjs-node.sh link --if-built   the same, or one line saying why not (make test)
#
# The cache (outside git): ${DISTILL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/distill}/tfjs-node-4.22.0/
#   package/    the built package: JS, its runtime dependencies nested in package/node_modules (except
#               @tensorflow/*, which resolve to the project's own tfjs), lib/napi-v8/tfjs_binding.node,
#               deps/lib (libtensorflow), deps/include (the C API headers it was compiled against)
#   build.json  how it was built and how long each step took; written last (its presence = complete)
#
# `build` first tries the normal way: tfjs-node's own install script, which downloads libtensorflow
# 2.9.1 and a prebuilt addon from storage.googleapis.com. Where that host cannot be reached (no
# internet), it builds the same addon from source against the TensorFlow shared libraries of the
# `tensorflow-cpu` pip wheel (TF_WHEEL_VERSION, default 2.21.0; any pip index that serves it, e.g. a
# local wheel index). TFJS_NODE_SOURCE=download|wheel forces one way. Details: docs/training.md.
#
# `link` places a copy of package/ at node_modules/@tensorflow/tfjs-node with `deps` a symlink into
# the cache (the libraries stay there: ~600 MB). npm does not know this package (it is not in the
# lockfile), so `npm ci` removes it; the Makefile runs `link` again after each install (< 1 s).
set -euo pipefail

TFJS_NODE_VERSION=4.22.0
TF_WHEEL_VERSION=${TF_WHEEL_VERSION:-2.21.0}
CACHE_ROOT=${DISTILL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/distill}
CACHE=$CACHE_ROOT/tfjs-node-$TFJS_NODE_VERSION
PROJECT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=$PROJECT/node_modules/@tensorflow/tfjs-node
LIBTF_URL=https://storage.googleapis.com/tensorflow/libtensorflow/libtensorflow-cpu-linux-x86_64-2.9.1.tar.gz

say() { echo "tfjs-node: $*" >&2; }
die() { say "$*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
# step NAME CMD...: runs CMD (errexit stays on inside it: never call it from a condition), records
# its wall time in STEPS (seconds) and prints it.
STEPS=()
record() { STEPS+=("\"$1\": $2"); say "$1: $2 s"; }
step() {
  local name=$1 t0
  shift
  t0=$(now)
  "$@"
  record "$name" "$(since "$t0")"
}

# ---- build ------------------------------------------------------------------------------------

npm_install_package() { # $1: work dir. tfjs-node and its dependencies nested under it, scripts off.
  echo '{"name":"distill-tfjs-node-build","private":true}' >"$1/package.json"
  (cd "$1" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error --install-strategy=shallow \
    "@tensorflow/tfjs-node@$TFJS_NODE_VERSION" >/dev/null)
}

try_download() { # $1: work dir. tfjs-node's own install script (downloads libtensorflow 2.9.1).
  if ! curl -sSfI --max-time 10 "$LIBTF_URL" >/dev/null 2>&1; then
    say "cannot reach $LIBTF_URL (no internet?): building from the tensorflow-cpu wheel instead"
    return 1
  fi
  (cd "$1" && timeout 900 npm rebuild @tensorflow/tfjs-node --foreground-scripts >"$1/download.log" 2>&1) || {
    say "tfjs-node's install script failed (log: $1/download.log): building from the tensorflow-cpu wheel instead"
    return 1
  }
}

fetch_wheel() { # $1: work dir. Unpacks the libraries and the C API headers of tensorflow-cpu.
  local pip
  pip=$(command -v pip3 || command -v pip || true)
  [ -n "$pip" ] || die "neither the download of libtensorflow nor pip (for the tensorflow-cpu wheel) is available; the tensorflow backend cannot be set up here (wasm still works)"
  "$pip" download --no-deps --quiet --retries 1 --dest "$1/wheel" "tensorflow-cpu==$TF_WHEEL_VERSION" ||
    die "pip cannot fetch tensorflow-cpu==$TF_WHEEL_VERSION and libtensorflow cannot be downloaded: the tensorflow backend cannot be set up here (wasm still works)"
  unzip -q -o "$1"/wheel/tensorflow_cpu-*.whl -d "$1/unpacked" \
    'tensorflow/libtensorflow_cc.so.2' 'tensorflow/libtensorflow_framework.so.2' \
    'tensorflow/include/tensorflow/c/*' 'tensorflow/include/tensorflow/core/platform/ctstring*' \
    'tensorflow/include/tsl/platform/ctstring*' 'tensorflow/include/xla/tsl/c/*'
  rm -rf "$1/wheel"
}

layout_deps() { # $1: work dir. deps/ as tfjs-node's install script expects it (it then skips its download).
  local pkg=$1/node_modules/@tensorflow/tfjs-node src=$1/unpacked/tensorflow
  rm -rf "$pkg/deps" "$pkg/lib"
  mkdir -p "$pkg/deps/lib"
  mv "$src/include" "$pkg/deps/include"
  mv "$src/libtensorflow_cc.so.2" "$src/libtensorflow_framework.so.2" "$pkg/deps/lib/"
  strip --strip-unneeded "$pkg/deps/lib/libtensorflow_cc.so.2" "$pkg/deps/lib/libtensorflow_framework.so.2"
  ln -s libtensorflow_cc.so.2 "$pkg/deps/lib/libtensorflow.so.2.9.1"
  ln -s libtensorflow_cc.so.2 "$pkg/deps/lib/libtensorflow.so"
  ln -s libtensorflow_framework.so.2 "$pkg/deps/lib/libtensorflow_framework.so"
}

build_addon() { # $1: work dir. Through npm, so that node-gyp finds this Node's headers offline.
  (cd "$1" && npm rebuild @tensorflow/tfjs-node --build-from-source --foreground-scripts >"$1/build.log" 2>&1) ||
    die "building the addon failed (a C++ compiler, make and python3 are needed); log: $1/build.log"
}

build() {
  if [ -f "$CACHE/build.json" ]; then
    say "already built: $CACHE ($(tr -d '\n' <"$CACHE/build.json" | sed 's/  */ /g'))"
    return 0
  fi
  mkdir -p "$CACHE_ROOT"
  exec 9>"$CACHE_ROOT/tfjs-node.lock"
  flock 9 # one build per machine at a time (several worktrees may run make at once)
  if [ -f "$CACHE/build.json" ]; then say "built meanwhile by another process: $CACHE"; return 0; fi
  local source t0
  t0=$(now)
  work=$(mktemp -d "$CACHE_ROOT/tfjs-node-build.XXXXXX") # global: the EXIT trap reads it
  trap 'rm -rf "$work"' EXIT
  step npm-install npm_install_package "$work"
  source=${TFJS_NODE_SOURCE:-auto}
  local t1
  t1=$(now)
  if [ "$source" != wheel ] && try_download "$work"; then # written for a condition: explicit returns
    record download "$(since "$t1")"
    source=download
  elif [ "$source" = download ]; then
    die "TFJS_NODE_SOURCE=download and the download failed"
  else
    source=wheel
    step fetch-wheel fetch_wheel "$work"
    step layout-strip layout_deps "$work"
    step build-addon build_addon "$work"
  fi
  local pkg=$work/node_modules/@tensorflow/tfjs-node
  [ -f "$pkg/lib/napi-v8/tfjs_binding.node" ] || die "no addon at $pkg/lib/napi-v8/tfjs_binding.node after the build"
  rm -rf "$pkg/node_modules/@tensorflow" "$pkg/deps/include/"*.tar.gz
  rm -rf "$CACHE"
  mkdir -p "$CACHE"
  mv "$pkg" "$CACHE/package"
  local libs
  libs=$(du -sm "$CACHE/package/deps/lib" | cut -f1)
  cat >"$CACHE/build.json.tmp" <<EOF
{
  "tfjsNode": "$TFJS_NODE_VERSION",
  "source": "$source",
  "tensorflowWheel": $([ "$source" = wheel ] && echo "\"tensorflow-cpu==$TF_WHEEL_VERSION\"" || echo null),
  "libraryMiB": $libs,
  "builtAt": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "seconds": { $(IFS=,; echo "${STEPS[*]}"), "total": $(since "$t0") }
}
EOF
  mv "$CACHE/build.json.tmp" "$CACHE/build.json"
  say "built into $CACHE from $source ($libs MiB of libraries)"
}

# ---- link -------------------------------------------------------------------------------------

link() {
  local if_built=${1:-}
  if [ ! -f "$CACHE/build.json" ]; then
    if [ "$if_built" = --if-built ]; then
      say "the tensorflow backend is not built on this machine ($CACHE): \`make tfjs-node\` builds it; wasm runs meanwhile"
      return 0
    fi
    die "not built: run \`make tfjs-node\` (or scripts/setup-tfjs-node.sh build) first"
  fi
  [ -d "$PROJECT/node_modules/@tensorflow/tfjs" ] || die "node_modules has no @tensorflow/tfjs: run make install first"
  local stamp="$CACHE $(cksum <"$CACHE/build.json")"
  if [ -f "$TARGET/.distill-link" ] && [ "$(cat "$TARGET/.distill-link")" = "$stamp" ] && [ -e "$TARGET/deps/lib/libtensorflow.so" ]; then
    [ "$if_built" = --if-built ] || say "already linked: $TARGET -> $CACHE"
    return 0
  fi
  local t0 tmp
  t0=$(now)
  tmp=$(mktemp -d "$PROJECT/node_modules/@tensorflow/.tfjs-node-link.XXXXXX")
  chmod 755 "$tmp"
  # A copy (not hard links: an install script writing package.json in place would change the cache),
  # except deps/, the ~600 MB of libraries, which stays in the cache.
  for entry in "$CACHE"/package/* "$CACHE"/package/.[!.]*; do
    [ -e "$entry" ] || continue
    [ "$(basename "$entry")" = deps ] || cp -a "$entry" "$tmp/"
  done
  ln -s "$CACHE/package/deps" "$tmp/deps"
  echo "$stamp" >"$tmp/.distill-link"
  rm -rf "$TARGET"
  mv "$tmp" "$TARGET"
  local out
  # libtensorflow prints its own start-up lines to stderr: shown only when the check fails.
  out=$(cd "$PROJECT" && node --input-type=module -e "
    const tf = await import('@tensorflow/tfjs-node');
    if (tf.getBackend() !== 'tensorflow') throw new Error('backend is ' + tf.getBackend());
    console.log('TF_Version=' + tf.backend().binding.TF_Version);" 2>&1) || {
    echo "$out" >&2
    rm -rf "$TARGET"
    die "the linked package does not load (removed it); rebuild with: rm -rf $CACHE && make tfjs-node"
  }
  local check=${out##*TF_Version=}
  say "linked $TARGET -> $CACHE (TensorFlow $check, $(since "$t0") s)"
}

case "${1:-}" in
  build) build ;;
  link) link "${2:-}" ;;
  *) die "usage: $0 build | link [--if-built]" ;;
esac
