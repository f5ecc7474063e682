#!/usr/bin/env bash
# Install uv into the given folder when it is not on PATH: a private virtualenv first, then pip --user.
set -euo pipefail
target=${1:-.tools}
if python3 -m venv "$target" 2>/dev/null; then
  "$target/bin/python" -m pip install --quiet --disable-pip-version-check uv
else
  python3 -m pip install --quiet --user uv || python3 -m pip install --quiet --user --break-system-packages uv
  mkdir -p "$target/bin"
  ln -sf "$(python3 -m site --user-base)/bin/uv" "$target/bin/uv"
fi
"$target/bin/uv" --version
