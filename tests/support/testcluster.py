"""A throwaway one-node SLURM cluster on localhost, with accounting and a fake GPU, for tests and demos.

Root only. It installs Debian's packages when they are missing (munge, slurmctld, slurmd, slurm-client,
slurmdbd, mariadb-server; services are kept from starting during the install), then starts, without
systemd and in the background: ``munged`` on a private socket, MariaDB on a private data folder and
port on 127.0.0.1, ``slurmdbd``, ``slurmctld`` and ``slurmd``. The node declares one GPU of type
``fake`` backed by ``/dev/null`` (``AutoDetect=off``), so GPU requests are scheduled and accounted
(``AllocTRES`` shows ``gres/gpu=1``) without any GPU. Daemons are stopped by the PIDs recorded at
start.

The configuration must sit at SLURM's compiled-in default ``/etc/slurm/slurm.conf``: the executor
plugin's job-step helper clears every ``SLURM_*`` variable (``SLURM_CONF`` included) before its inner
``srun``. A configuration there that this module did not write is never touched: :class:`Unavailable`.

    python -m tests.support.testcluster up /tmp/cluster     # prints the account and partitions
    python -m tests.support.testcluster down /tmp/cluster
    python -m tests.support.testcluster install /tmp/apt.log # only the packages (``make test`` does this)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

PACKAGES = ("munge", "slurmctld", "slurmd", "slurm-client", "slurmdbd", "mariadb-server")
BINARIES = (
    "munged",
    "slurmctld",
    "slurmd",
    "slurmdbd",
    "sbatch",
    "sacct",
    "sacctmgr",
    "scontrol",
    "mariadbd",
    "mariadb-install-db",
    "mariadb",
)
CONF_DIR = Path("/etc/slurm")
MARKER = "# written by tests.support.testcluster"
CLUSTER = "cislens"
ACCOUNT = "cislens"
CPU_PARTITION = "cpu"
GPU_PARTITION = "gpu"
GPU_TYPE = "fake"
# Stop order: the reverse of the start order.
DAEMONS = ("munged", "mariadbd", "slurmdbd", "slurmctld", "slurmd")


class Unavailable(RuntimeError):
    """This machine cannot host the test cluster (not root, no apt, a foreign SLURM config)."""


def missing_binaries() -> list[str]:
    return [name for name in BINARIES if shutil.which(name) is None]


def install_packages(log: Path | None = None) -> None:
    """apt-get install the SLURM, munge and MariaDB packages, keeping their services from starting."""
    if os.geteuid() != 0:
        raise Unavailable("installing the SLURM packages needs root")
    if shutil.which("apt-get") is None:
        raise Unavailable("apt-get is not available")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    policy = Path("/usr/sbin/policy-rc.d")
    added_policy = not policy.exists()
    if added_policy:  # "do not start services" for the packages' maintainer scripts
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    out = open(log, "a") if log else subprocess.DEVNULL
    try:
        install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *PACKAGES]
        if subprocess.run(install, env=env, stdout=out, stderr=out).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env, stdout=out, stderr=out, check=True)
            subprocess.run(install, env=env, stdout=out, stderr=out, check=True)
    finally:
        if added_policy:
            policy.unlink(missing_ok=True)
        if log:
            out.close()
    if missing_binaries():
        raise Unavailable(f"still missing after apt-get: {', '.join(missing_binaries())}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait(what: str, check, timeout: float, log: Path | None = None, pid: int | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if pid is not None and not _alive(pid):
            timeout = 0  # the daemon exited: report at once
            break
        time.sleep(0.3)
    tail = ""
    if log is not None and log.exists():
        tail = "\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:])
    state = f"within {timeout:.0f} s" if timeout else "(the daemon exited)"
    raise RuntimeError(f"test cluster: {what} did not come up {state}{tail}")


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class LocalSlurm:
    """One node (``localhost``), partitions ``cpu`` (default) and ``gpu``, account ``cislens``."""

    def __init__(self, root: str | os.PathLike, cpus: int = 2, memory_mb: int = 64000, gpus: int = 1):
        self.root = Path(root)
        self.cpus, self.memory_mb, self.gpus = cpus, memory_mb, gpus
        self.state_file = self.root / "cluster.json"
        self.pids: dict[str, int] = {}
        self.ports: dict[str, int] = {}
        self.node_state = ""

    # ---- configuration -------------------------------------------------------------------------
    def _check_conf_dir(self) -> None:
        conf = CONF_DIR / "slurm.conf"
        if not conf.exists():
            return
        first = conf.read_text(errors="replace").split("\n", 1)[0]
        if not first.startswith(MARKER):
            raise Unavailable(f"{conf} exists and was not written by the test cluster; not touching it")
        other = Path(first.removeprefix(MARKER).strip(" ()"))
        state = other / "cluster.json"
        if other != self.root and state.exists():
            pids = json.loads(state.read_text())["pids"]
            if any(_alive(pid) and name in _cmdline(pid) for name, pid in pids.items()):
                raise Unavailable(f"another test cluster ({other}) is running; stop it first")

    def _write_configs(self) -> None:
        r = self.root
        munge_socket = r / "munge" / "munge.socket"
        CONF_DIR.mkdir(parents=True, exist_ok=True)
        node = (
            f"NodeName=localhost NodeAddr=127.0.0.1 CPUs={self.cpus} RealMemory={self.memory_mb} "
            f"Gres=gpu:{GPU_TYPE}:{self.gpus} State=UNKNOWN"
        )
        (CONF_DIR / "slurm.conf").write_text(
            f"""{MARKER} ({r})
ClusterName={CLUSTER}
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort={self.ports["slurmctld"]}
SlurmdPort={self.ports["slurmd"]}
AuthType=auth/munge
AuthInfo=socket={munge_socket}
CredType=cred/munge
StateSaveLocation={r}/state
SlurmdSpoolDir={r}/spool
SlurmctldPidFile={r}/slurmctld.pid
SlurmdPidFile={r}/slurmd.pid
SlurmctldLogFile={r}/slurmctld.log
SlurmdLogFile={r}/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SlurmdParameters=config_overrides
ReturnToService=2
KillWait=5
MinJobAge=300
InactiveLimit=0
GresTypes=gpu
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort={self.ports["slurmdbd"]}
AccountingStoragePass={munge_socket}
AccountingStorageTRES=gres/gpu
AccountingStorageEnforce=associations
AccountingStoreFlags=job_comment,job_script
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
JobCompType=jobcomp/none
{node}
PartitionName={CPU_PARTITION} Nodes=localhost Default=YES MaxTime=INFINITE State=UP
PartitionName={GPU_PARTITION} Nodes=localhost MaxTime=INFINITE State=UP
"""
        )
        # One fake GPU per character device; /dev/null serves for one.
        devices = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"][: self.gpus]
        (CONF_DIR / "gres.conf").write_text(
            f"{MARKER}\nAutoDetect=off\n"
            + "".join(f"NodeName=localhost Name=gpu Type={GPU_TYPE} File={dev}\n" for dev in devices)
        )
        dbd = CONF_DIR / "slurmdbd.conf"
        dbd.write_text(
            f"""{MARKER}
AuthType=auth/munge
AuthInfo=socket={munge_socket}
DbdHost=localhost
DbdPort={self.ports["slurmdbd"]}
SlurmUser=root
PidFile={r}/slurmdbd.pid
LogFile={r}/slurmdbd.log
DebugLevel=info
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort={self.ports["mariadb"]}
StorageUser=slurm
StoragePass=cislens
StorageLoc=slurm_acct_db
"""
        )
        dbd.chmod(0o600)

    def _remove_configs(self) -> None:
        for name in ("slurm.conf", "gres.conf", "slurmdbd.conf"):
            path = CONF_DIR / name
            with contextlib.suppress(OSError):
                if MARKER in path.read_text(errors="replace"):
                    path.unlink()

    # ---- daemons -------------------------------------------------------------------------------
    def _spawn(self, name: str, argv: list[str], **kwargs) -> None:
        log = open(self.root / f"{name}.out", "ab")
        proc = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            **kwargs,
        )
        log.close()
        self.pids[name] = proc.pid
        self._save()

    def _save(self) -> None:
        self.state_file.write_text(json.dumps({"pids": self.pids, "ports": self.ports}))

    def _run(self, argv: list[str], timeout: float = 60) -> str:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"test cluster: {' '.join(argv)} failed: {result.stderr.strip()[-800:]}")
        return result.stdout

    def _start_munge(self) -> None:
        mdir = self.root / "munge"
        mdir.mkdir(exist_ok=True)
        mdir.chmod(0o755)  # munged wants its socket folder reachable by every client
        shutil.chown(mdir, "munge", "munge")
        key = Path("/etc/munge/munge.key")
        if not key.exists():
            self._run(["mungekey", "--create", "--keyfile", str(key)])
            shutil.chown(key, "munge", "munge")
            key.chmod(0o600)
        self._spawn(
            "munged",
            [
                "munged",
                "--foreground",
                f"--socket={mdir / 'munge.socket'}",
                f"--pid-file={mdir / 'munged.pid'}",
                f"--log-file={mdir / 'munged.log'}",
                f"--seed-file={mdir / 'munged.seed'}",
                f"--key-file={key}",
                "--num-threads=2",
            ],
            user="munge",
            group="munge",
        )
        _wait(
            "munged", lambda: (mdir / "munge.socket").exists(), 20, mdir / "munged.log", self.pids["munged"]
        )

    def _start_mariadb(self) -> None:
        datadir, sock = self.root / "mysql", self.root / "mysql.sock"
        self._run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={datadir}",
                "--user=root",
                "--auth-root-authentication-method=socket",
                "--skip-test-db",
            ],
            timeout=180,
        )
        self._spawn(
            "mariadbd",
            [
                "mariadbd",
                "--no-defaults",
                f"--datadir={datadir}",
                f"--socket={sock}",
                f"--port={self.ports['mariadb']}",
                "--bind-address=127.0.0.1",
                "--user=root",
                f"--pid-file={self.root / 'mariadb.pid'}",
                f"--log-error={self.root / 'mariadb.log'}",
                "--skip-name-resolve",
                "--performance-schema=OFF",
                "--innodb-buffer-pool-size=32M",
                "--max-connections=40",
            ],
        )
        client = ["mariadb", "--no-defaults", f"--socket={sock}", "-uroot"]

        def ready() -> bool:
            return subprocess.run([*client, "-e", "SELECT 1"], capture_output=True).returncode == 0

        _wait("MariaDB", ready, 60, self.root / "mariadb.log", self.pids["mariadbd"])
        sql = "".join(
            f"CREATE USER IF NOT EXISTS 'slurm'@'{host}' IDENTIFIED BY 'cislens';"
            f"GRANT ALL ON slurm_acct_db.* TO 'slurm'@'{host}';"
            for host in ("127.0.0.1", "localhost")
        )
        self._run([*client, "-e", sql])

    def start(self, timeout: float = 90) -> None:
        if os.geteuid() != 0:
            raise Unavailable("the test cluster needs root")
        if missing_binaries():
            raise Unavailable(f"missing: {', '.join(missing_binaries())} (install_packages() installs them)")
        self._check_conf_dir()
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)  # munged (user munge) must reach its folder
        for sub in ("state", "spool"):
            (self.root / sub).mkdir(exist_ok=True)
        self.ports = {name: _free_port() for name in ("slurmctld", "slurmd", "slurmdbd", "mariadb")}
        self._write_configs()
        try:
            self._start_munge()
            self._start_mariadb()
            self._spawn("slurmdbd", ["slurmdbd", "-D"])
            _wait(
                "slurmdbd",
                lambda: _port_open(self.ports["slurmdbd"]),
                60,
                self.root / "slurmdbd.log",
                self.pids["slurmdbd"],
            )
            for command in (
                ["add", "cluster", CLUSTER],
                ["add", "account", ACCOUNT, "Description=tests", "Organization=cislens"],
                ["add", "user", "root", f"Account={ACCOUNT}"],
            ):
                self._run(["sacctmgr", "-i", *command])
            self._spawn("slurmctld", ["slurmctld", "-D", "-i"])
            _wait(
                "slurmctld",
                lambda: _port_open(self.ports["slurmctld"]),
                60,
                self.root / "slurmctld.log",
                self.pids["slurmctld"],
            )
            self._spawn("slurmd", ["slurmd", "-D", "-N", "localhost"])

            def idle() -> bool:
                out = subprocess.run(["sinfo", "-h", "-N", "-o", "%T"], capture_output=True, text=True)
                self.node_state = out.stdout.strip() or out.stderr.strip()
                return out.returncode == 0 and set(out.stdout.split()) == {"idle"}  # one line a partition

            try:
                _wait("the node", idle, timeout, self.root / "slurmd.log", self.pids["slurmd"])
            except RuntimeError as err:
                raise RuntimeError(f"{err}\nnode state: {self.node_state}") from None
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Cancel this cluster's jobs, then stop every daemon it started, by PID, newest first."""
        if not self.pids and self.state_file.exists():
            state = json.loads(self.state_file.read_text())
            self.pids, self.ports = state["pids"], state["ports"]
        if self.pids.get("slurmctld"):
            with contextlib.suppress(Exception):
                jobs = subprocess.run(
                    ["squeue", "-h", "-o", "%i"], capture_output=True, text=True, timeout=20
                )
                ids = jobs.stdout.split()
                if ids:
                    subprocess.run(["scancel", *ids], capture_output=True, timeout=20)
                    _wait("job cancellation", lambda: not _squeue_ids(), 30)
        for name in reversed(DAEMONS):
            pid = self.pids.get(name)
            if not pid or name not in _cmdline(pid):
                continue
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and _alive(pid):
                time.sleep(0.2)
            if _alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
        self.pids = {}
        self._remove_configs()
        if self.state_file.exists():
            self.state_file.unlink()


def _squeue_ids() -> list[str]:
    out = subprocess.run(["squeue", "-h", "-o", "%i"], capture_output=True, text=True, timeout=20)
    return out.stdout.split()


def _alive(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie whose parent is gone is not running.
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z"):
            return False
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.testcluster", description=__doc__.split("\n")[0]
    )
    parser.add_argument("action", choices=["up", "down", "install"])
    parser.add_argument("root", help="folder for the cluster's state, logs and database (install: the log)")
    args = parser.parse_args(argv)
    if args.action == "install":  # set-up before the tests, so the first SLURM test does not pay for it
        if missing_binaries():
            print(f"installing Debian {', '.join(PACKAGES)} for the real-SLURM tests")
            try:
                install_packages(Path(args.root))
            except (Unavailable, subprocess.CalledProcessError) as err:
                # not fatal here: the tests' fixture tries again, then skips (or fails under CI=true)
                print(f"could not install them ({err}; log: {args.root}); the SLURM tests will say why")
        return
    cluster = LocalSlurm(args.root)
    if args.action == "up":
        if missing_binaries():
            install_packages(Path(args.root) / "apt.log")
        cluster.start()
        print(
            f"account={ACCOUNT} partition={CPU_PARTITION} gpu_partition={GPU_PARTITION} gpu_type={GPU_TYPE}"
        )
    else:
        cluster.stop()


if __name__ == "__main__":
    main()
