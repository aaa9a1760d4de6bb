#!/usr/bin/env bash
# Install what the SLURM test harness (tests/slurm_cluster.py) needs:
#   Debian's slurmctld, slurmd, slurm-client, munge (22.05.x on bookworm)
#   and Snakemake's SLURM executor plugin (PyPI).
# Idempotent and non-interactive (root, no stdin, CI=true is fine).
# Starts no daemon: the harness runs its own munged/slurmctld/slurmd with a
# config under a temporary directory, and nothing is written to
# /etc/slurm/slurm.conf (see docs/slurm.md: a slurm.conf naming a dead
# controller makes every later `snakemake` call wait ~10 s).
set -euo pipefail

SLURM_PLUGIN_VERSION="${SLURM_PLUGIN_VERSION:-2.8.0}"
APT_PACKAGES=(slurmctld slurmd slurm-client munge)
PYTHON="${PYTHON:-python3}"
export DEBIAN_FRONTEND=noninteractive
export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1

say() { printf '[install-slurm] %s\n' "$*"; }
t0=$SECONDS

if [[ $(id -u) -ne 0 ]]; then
    SUDO=sudo
    say "not root: using sudo for apt-get"
else
    SUDO=
fi

# ---- apt packages -----------------------------------------------------------
missing=()
for p in "${APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if ((${#missing[@]})); then
    say "apt-get update"
    $SUDO apt-get update -qq
    # Keep package scripts from starting munge/slurmctld/slurmd services:
    # a policy-rc.d that says "no" (101), unless the image already has one.
    policy=/usr/sbin/policy-rc.d
    added_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
        $SUDO chmod 755 "$policy"
        added_policy=1
        trap '[[ $added_policy == 1 ]] && $SUDO rm -f '"$policy" EXIT
    fi
    say "apt-get install ${missing[*]}"
    $SUDO apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${APT_PACKAGES[@]}" >/tmp/install-slurm-apt.log 2>&1 || {
        tail -n 40 /tmp/install-slurm-apt.log >&2
        exit 1
    }
    if [[ $added_policy == 1 ]]; then $SUDO rm -f "$policy"; added_policy=0; fi
else
    say "apt packages already installed: ${APT_PACKAGES[*]}"
fi
say "slurm: $(slurmctld -V 2>&1 | head -n1); munge: $(munged -V 2>&1 | head -n1)"

# ---- Snakemake SLURM executor plugin ------------------------------------------
have=$("$PYTHON" -m pip show snakemake-executor-plugin-slurm 2>/dev/null \
       | sed -n 's/^Version: //p' || true)
if [[ $have == "$SLURM_PLUGIN_VERSION" ]]; then
    say "snakemake-executor-plugin-slurm $have already installed"
else
    smk=$("$PYTHON" -m pip show snakemake 2>/dev/null | sed -n 's/^Version: //p' || true)
    pins=("snakemake-executor-plugin-slurm==$SLURM_PLUGIN_VERSION")
    # never let the plugin move the installed snakemake
    [[ -n $smk ]] && pins+=("snakemake==$smk")
    say "pip install ${pins[*]}"
    "$PYTHON" -m pip install -q "${pins[@]}" 2>&1 \
        | grep -v -e "is ignored: it is neither a file nor a directory" >&2 || true
    have=$("$PYTHON" -m pip show snakemake-executor-plugin-slurm 2>/dev/null \
           | sed -n 's/^Version: //p' || true)
    if [[ $have != "$SLURM_PLUGIN_VERSION" ]]; then
        say "ERROR: snakemake-executor-plugin-slurm not installed (have '${have}')" >&2
        exit 1
    fi
fi
say "python packages: $("$PYTHON" -m pip list 2>/dev/null \
    | grep -E '^(snakemake|snakemake-executor-plugin-slurm|snakemake-executor-plugin-slurm-jobstep) ' \
    | tr -s ' ' | paste -sd ',' -)"

# ---- sanity -------------------------------------------------------------------
for b in slurmctld slurmd munged mungekey sbatch srun squeue sinfo scontrol scancel; do
    command -v "$b" >/dev/null || { say "ERROR: $b not on PATH" >&2; exit 1; }
done
if [[ -e /etc/slurm/slurm.conf ]]; then
    say "WARNING: /etc/slurm/slurm.conf exists; if its controller is not running," \
        "every snakemake start waits ~10 s (docs/slurm.md)"
fi
say "done in $((SECONDS - t0)) s"
