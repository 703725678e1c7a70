#!/usr/bin/env bash
# Installs what Refrain's integration tests need to run a real VS Code offline:
#   - Debian packages: chromium (the browser that drives the workbench), libkrb5-dev (code-server's
#     kerberos addon), ripgrep (VS Code's search binary, fed to @vscode/ripgrep's postinstall);
#   - code-server (VS Code in a Node server) in a tools folder outside the extension's dependencies.
# Idempotent: each step is skipped when what it installs is already there at the right version.
# Needs only the Debian apt mirror and the npm registry. Run as root (CI) or with sudo at hand.
#
# Environment:
#   REFRAIN_TOOLS_DIR     where code-server goes (default: <repo>/.tools, git-ignored)
#   CODE_SERVER_VERSION   default 4.100.3 (VS Code 1.100.3, the newest release that runs on Node 20)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools_dir="${REFRAIN_TOOLS_DIR:-$repo_root/.tools}"
code_server_version="${CODE_SERVER_VERSION:-4.100.3}"
code_server_dir="$tools_dir/code-server"
# @vscode/ripgrep versions that code-server pulls in, and the ripgrep-prebuilt release each fetches.
ripgrep_pkg_versions=(1.15.11)
ripgrep_release='v13.0.0-10'

log() {
  printf '[setup-test-tools] %s\n' "$*"
}

# The "version" of a package.json (read as data: require() would also parse the repo's package.json).
package_version() {
  node -e 'process.stdout.write(String(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).version))' "$1"
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    log "need root to run: $*"
    exit 1
  fi
}

# ---- 1. Debian packages --------------------------------------------------------------------------
missing=()
for pkg in chromium libkrb5-dev ripgrep; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
# code-server's native addons may build from source when no prebuilt binary fits.
if ! command -v g++ >/dev/null 2>&1 || ! command -v make >/dev/null 2>&1; then
  missing+=(build-essential)
fi
if ! command -v python3 >/dev/null 2>&1; then
  missing+=(python3)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  log 'Debian packages present: chromium libkrb5-dev ripgrep'
fi

# ---- 2. code-server -------------------------------------------------------------------------------
stamp="$code_server_dir/.refrain-installed"
installed_version=''
if [ -f "$stamp" ] && [ -f "$code_server_dir/node_modules/code-server/package.json" ]; then
  installed_version="$(package_version "$code_server_dir/node_modules/code-server/package.json")"
fi
if [ "$installed_version" = "$code_server_version" ] && [ "$(cat "$stamp")" = "$code_server_version" ]; then
  log "code-server $code_server_version present in $code_server_dir"
  exit 0
fi

log "installing code-server $code_server_version into $code_server_dir"
rm -f "$stamp"
mkdir -p "$code_server_dir"
# Its own package.json, so npm installs here and never touches the extension's dependencies.
if [ ! -f "$code_server_dir/package.json" ]; then
  printf '{\n  "name": "refrain-test-tools",\n  "private": true\n}\n' >"$code_server_dir/package.json"
fi

# @vscode/ripgrep's postinstall downloads ripgrep from GitHub unless its cache (under the temp
# directory) already holds the release tarball: give it Debian's rg, in a private temp directory.
case "$(uname -m)" in
  x86_64) rg_target='x86_64-unknown-linux-musl' ;;
  aarch64) rg_target='aarch64-unknown-linux-musl' ;;
  *)
    log "unsupported architecture $(uname -m)"
    exit 1
    ;;
esac
install_tmp="$tools_dir/tmp"
mkdir -p "$install_tmp"
rg_bin="$(command -v rg)"
for v in "${ripgrep_pkg_versions[@]}"; do
  cache="$install_tmp/vscode-ripgrep-cache-$v"
  mkdir -p "$cache"
  tar -czf "$cache/ripgrep-$ripgrep_release-$rg_target.tar.gz" -C "$(dirname "$rg_bin")" "$(basename "$rg_bin")"
done

# node-gyp downloads Node's headers unless told where they are: use the running Node's own.
node_prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
if [ -z "${npm_config_nodedir:-}" ] && [ -f "$node_prefix/include/node/node.h" ]; then
  export npm_config_nodedir="$node_prefix"
fi

(
  cd "$code_server_dir"
  TMPDIR="$install_tmp" npm_config_yes=true npm_config_fund=false npm_config_audit=false \
    npm_config_update_notifier=false \
    npm install --no-save --unsafe-perm --no-package-lock "code-server@$code_server_version"
)

installed_version="$(package_version "$code_server_dir/node_modules/code-server/package.json")"
if [ "$installed_version" != "$code_server_version" ]; then
  log "expected code-server $code_server_version, found $installed_version"
  exit 1
fi
if [ ! -d "$code_server_dir/node_modules/code-server/lib/vscode/node_modules" ]; then
  log 'code-server postinstall did not install lib/vscode/node_modules'
  exit 1
fi
printf '%s' "$code_server_version" >"$stamp"
rm -rf "$install_tmp"
log "code-server $code_server_version installed: $code_server_dir/node_modules/.bin/code-server"
