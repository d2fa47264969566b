#!/usr/bin/env bash
# Build the wheel, install it (not editable) into a fresh virtual environment, and run Cahier from it, outside
# the checkout: the prompts, the plan, the knowledge documents, lexicons, templates and locales must all come
# from the installed package.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

.venv/bin/python -m pip wheel --quiet --no-deps --wheel-dir "$work/dist" "$repo"
wheel="$(ls "$work"/dist/cahier-*.whl)"
echo "wheel: $(basename "$wheel"), $(.venv/bin/python -c 'import sys, zipfile; print(len(zipfile.ZipFile(sys.argv[1]).namelist()))' "$wheel") files"
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet -c "$repo/constraints.txt" "$wheel[local]"

cd "$work"
export CAHIER_DATA_DIR="$work/data"
started=$(date +%s)
venv/bin/python - <<'PY'
import assistant, assistant.resources as resources
assert "site-packages" in assistant.__file__, assistant.__file__
for name in ("prompts", "knowledge", "app.py"):
    path = resources.shared_data_path(name)
    assert "site-packages" in str(path) and path.exists(), path
print("data from", resources.shared_data_path("prompts").parent)
PY
venv/bin/cahier ingest
venv/bin/cahier search "budget et calendrier" --lang fr | head -5
venv/bin/cahier model check
port=8765
venv/bin/cahier app --port "$port" > "$work/app.log" 2>&1 &
app=$!
venv/bin/python - "$port" <<'PY'
import sys, time, urllib.request
url = f"http://localhost:{sys.argv[1]}/_stcore/health"
for _ in range(60):
    try:
        print("app:", urllib.request.urlopen(url, timeout=2).read().decode())
        break
    except OSError:
        time.sleep(1)
else:
    sys.exit(f"the app did not answer at {url}")
PY
kill "$app"; wait "$app" 2>/dev/null || true
echo "install to first answer from the wheel: $(( $(date +%s) - started )) s after install"
