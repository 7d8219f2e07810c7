#!/usr/bin/env bash
# Builds the documentation site into ./site with warnings as errors
# (`mkdocs build --strict`); then open site/index.html in a browser.
# Every Python block of the site runs during the build (docs/hooks.py refuses one
# that does not). Installs the `docs` extra into .venv when it is missing.
# Extra arguments go to `mkdocs build` (for example `-d /tmp/site`).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    bash scripts/setup.sh
fi
if ! .venv/bin/python -c "import mkdocs, material, mkdocstrings, mkdocstrings_handlers.python, markdown_exec, latex2mathml" 2>/dev/null; then
    .venv/bin/python -m pip install --quiet -e '.[docs]'
fi
export NO_MKDOCS_2_WARNING=1 MPLBACKEND=Agg
start=$(date +%s)
.venv/bin/python -m mkdocs build --strict "$@"
echo "docs: built in $(( $(date +%s) - start )) s; open site/index.html"
