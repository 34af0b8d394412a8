#!/usr/bin/env bash
# A one-node Slurm on this machine for tests/sweep.sh, from Debian's slurm-wlm and munge (see docs/sweeps.md):
#   tests/slurm.sh up DIR    installs the packages when missing, writes the configuration, starts munged, slurmctld
#                            and slurmd, waits for the node to be idle; their process ids go to DIR/pids
#   tests/slurm.sh down DIR  stops exactly the daemons that `up` started
# Needs root (or password-less sudo) for the packages, /etc/munge and /etc/slurm.
set -euo pipefail
action="${1:?up or down}"
state="${2:?a folder for the process ids of the daemons}"
sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo -n"

case "$action" in
up)
  mkdir -p "$state"
  if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    echo "slurm: installing Debian's slurm-wlm and munge"
    { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq slurm-wlm munge >/dev/null; } \
      || { echo "slurm: could not install slurm-wlm and munge" >&2; exit 1; }
  fi
  host="$(hostname)"
  # munge: a key only munge may read, its directories owned by munge.
  $sudo mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
  if [ ! -s /etc/munge/munge.key ]; then
    $sudo dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  fi
  $sudo chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
  $sudo chmod 400 /etc/munge/munge.key
  $sudo chmod 700 /etc/munge
  if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    $sudo munged --force 2>/dev/null
    sleep 1
    pgrep -x munged >"$state/munged.pid" || true
  fi
  munge -n | unmunge >/dev/null || { echo "slurm: munge does not work" >&2; exit 1; }

  $sudo mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
  $sudo tee /etc/slurm/slurm.conf >/dev/null <<CONF
# Written by tests/slurm.sh of LatentLab: a one-node cluster for the sweep test.
ClusterName=latentlab
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
MpiDefault=none
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  # No cgroup.conf: slurmd 22.05 starts without one (and refuses CgroupPlugin=disabled).
  if ! pgrep -x slurmctld >/dev/null; then
    $sudo slurmctld -i
    sleep 1
    pgrep -x slurmctld >"$state/slurmctld.pid"
  fi
  if ! pgrep -x slurmd >/dev/null; then
    $sudo slurmd
    sleep 1
    pgrep -x slurmd >"$state/slurmd.pid"
  fi
  for _ in $(seq 1 60); do
    if sinfo -h -o '%T' 2>/dev/null | grep -qx idle; then echo "slurm: node $host idle"; exit 0; fi
    $sudo scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true
    sleep 1
  done
  echo "slurm: the node did not become idle: $(sinfo 2>&1 | tail -n 1)" >&2
  exit 1
  ;;
down)
  for daemon in slurmd slurmctld munged; do
    [ -s "$state/$daemon.pid" ] || continue
    for pid in $(cat "$state/$daemon.pid"); do
      $sudo kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done   # gone before we return
    done
    rm -f "$state/$daemon.pid"
  done
  ;;
*) echo "usage: tests/slurm.sh up|down DIR" >&2; exit 2 ;;
esac
