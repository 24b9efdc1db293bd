# Sourced by the bench/*.sh scripts: strict mode, the repository root as the
# working directory, $TFSR_DATA (the data root the configs read; on this
# project's machines ../shared/data), TensorFlow's C++ notes off, and $PY.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export TFSR_DATA="${TFSR_DATA:-$(cd .. && pwd)/shared/data}" TF_CPP_MIN_LOG_LEVEL=2
PY=${PYTHON:-.venv/bin/python}
