#!/usr/bin/env bash
# Grade one assignment on a single-GPU machine (a self-hosted CI runner, a lab workstation, or inside a SLURM job).
# Usage: autograder/deploy/gpu-runner.sh ASSIGNMENT [extra `autograder grade` options]
# Run it as root (or with CAP_SYS_ADMIN) from the repository root: the sandbox needs to unshare namespaces and
# drop privileges to `nobody`; otherwise it still grades but logs what it could not isolate.
set -euo pipefail
assignment="${1:?usage: gpu-runner.sh ASSIGNMENT [options]}"
shift
cd "$(dirname "$0")/../.."
export PATH="$PWD/.venv/bin:$PATH"   # nbgrader needs `alembic` on PATH
python -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA device visible')"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
# One worker per GPU: each GPU grades one submission at a time; every check runs on cpu (float64) and on
# cuda (float64 and float32), and the feedback says which device was used.
autograder grade "$assignment" --device auto --workers "${WORKERS:-1}" --no-progress "$@"
autograder feedback "$assignment"
autograder export "$assignment" --format csv --output "grades-$assignment.csv"
