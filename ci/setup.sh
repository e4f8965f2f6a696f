#!/usr/bin/env bash
# Installs the Debian packages named in $PACKAGES that are missing. As root it runs apt-get;
# otherwise it prints the exact command to run and fails.
set -euo pipefail
missing=()
for package in ${PACKAGES:?PACKAGES is empty}; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
if [[ $(id -u) -eq 0 ]]; then
  echo "ptbench setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "ptbench setup: missing Debian packages. Run:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
