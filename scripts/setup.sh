#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine with Node 20 for Theorbo, as root, without a TTY, and
# is safe to run again: it installs Mesa's EGL and llvmpipe (the 'cpu-webgpu' device:
# Dawn's OpenGL ES backend on the CPU) when missing, pnpm at the version package.json
# pins, and the workspace's packages. It says what it did and what was already there.
# Left out: GPU drivers and the Vulkan loader (the 'gpu' device needs the vendor's driver
# and libvulkan1, which a CPU-only machine has no use for), and installing Node itself.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive COREPACK_ENABLE_DOWNLOAD_PROMPT=0
cd "$(dirname "${BASH_SOURCE[0]}")/.."

did=()

# Node 20 or later.
command -v node >/dev/null || { echo "setup: node is not installed; install Node.js 20 or later first" >&2; exit 1; }
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "setup: Node $(node --version) is too old; Theorbo needs Node 20 or later" >&2
  exit 1
fi

# Mesa's EGL and software rasterizer, for WebGPU on the CPU; FluidSynth and the General
# MIDI soundfont (FluidR3_GM.sf2), which render the music package's synthesized chord clips;
# Debian's headless Chromium (/usr/bin/chromium-headless-shell), which the web app's tests
# drive through puppeteer-core (no browser download at install) with SwiftShader's WebGPU;
# Python 3 and numpy, with which the tests check that other tools read the files Theorbo writes;
# DejaVu fonts, for the text of the figures rasterized to PNG (resvg).
apt_packages=(libegl1 libegl-mesa0 libgl1-mesa-dri fluidsynth fluid-soundfont-gm chromium-headless-shell python3 python3-numpy fonts-dejavu-core)
missing=()
if command -v dpkg-query >/dev/null; then
  for package in "${apt_packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "setup: missing ${missing[*]}, and installing them needs root (apt-get install ${missing[*]})" >&2
      exit 1
    fi
    echo "setup: installing ${missing[*]}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    did+=("installed ${missing[*]}")
  else
    did+=("apt packages already present: ${apt_packages[*]}")
  fi
else
  echo "setup: not a Debian system: install Mesa's EGL and llvmpipe yourself for the cpu-webgpu device" >&2
  did+=("skipped apt packages (no dpkg)")
fi

# pnpm at the pinned version (package.json "packageManager": "pnpm@X[+sha...]").
# npm -g rather than corepack: corepack refuses recent pnpm releases' signatures unless
# COREPACK_INTEGRITY_KEYS=0 is set.
pinned=$(node -p 'const m = require("./package.json").packageManager ?? ""; m.startsWith("pnpm@") ? m.slice(5).split("+")[0] : ""')
[ -n "$pinned" ] || { echo "setup: package.json has no packageManager pnpm@X pin" >&2; exit 1; }
current=$(pnpm --version 2>/dev/null | tail -n 1 || true)
if [ "$current" != "$pinned" ]; then
  echo "setup: installing pnpm $pinned (found: ${current:-none})"
  npm install -g --no-fund --no-audit --loglevel=error "pnpm@$pinned"
  hash -r
  current=$(pnpm --version 2>/dev/null | tail -n 1 || true)
  [ "$current" = "$pinned" ] || { echo "setup: pnpm --version says '${current}' after installing $pinned; is another pnpm earlier on PATH ($(command -v pnpm))?" >&2; exit 1; }
  did+=("installed pnpm $pinned")
else
  did+=("pnpm $pinned already present")
fi

# The workspace's packages, exactly as locked where there is a lockfile. pm-on-fail=ignore:
# the pinned pnpm is already the one running (above), and pnpm 12.21.0 cannot record its
# own pin in the lockfile ("The registry publishes no pnpm 12.21.0"), after which a
# frozen install refuses with ERR_PNPM_FROZEN_LOCKFILE_WITH_OUTDATED_LOCKFILE.
if [ -f pnpm-lock.yaml ]; then
  pnpm install --frozen-lockfile --config.pm-on-fail=ignore
  did+=("pnpm install --frozen-lockfile")
else
  pnpm install --config.pm-on-fail=ignore
  did+=("pnpm install (no lockfile: one was written)")
fi

echo "setup: done (Node $(node --version)):"
printf '  - %s\n' "${did[@]}"
