"""Child processes on loopback: start, wait for readiness, sample memory, stop.

Every process the harness starts is a `Proc`: its output goes to a log file in the
run's work directory, it is stopped by its own pid (SIGTERM, then SIGKILL after a
grace period), and `ProcessGroup` stops everything it holds in reverse order even
when a measure raised.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Optional, Sequence


class HarnessError(RuntimeError):
    """The harness itself cannot go on (a process would not start, a tool is missing)."""


def free_port() -> int:
    """A port that was free a moment ago, for servers that cannot bind port 0 themselves."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what: str, check: Callable[[], bool], timeout: float, proc: "Proc | None" = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.exited():
            raise HarnessError(f"{what}: {proc.name} exited with {proc.popen.returncode}\n{proc.tail()}")
        try:
            if check():
                return
        except HarnessError:
            raise
        except Exception:  # noqa: BLE001 - not ready yet, whatever the reason
            pass
        time.sleep(0.1)
    tail = f"\n{proc.tail()}" if proc is not None else ""
    raise HarnessError(f"{what}: not ready after {timeout:.0f}s{tail}")


def port_open(addr: str) -> bool:
    host, port = addr.rsplit(":", 1)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, int(port))) == 0


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


class Proc:
    """One child process with a log file."""

    def __init__(
        self,
        name: str,
        cmd: Sequence[str],
        workdir: Path,
        env: Optional[dict[str, str]] = None,
        stop_timeout: float = 20.0,
    ) -> None:
        self.name = name
        self.cmd = [str(c) for c in cmd]
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self.stop_timeout = stop_timeout
        full_env = dict(os.environ)
        full_env.update(env or {})
        with open(self.log_path, "ab") as log:
            log.write(("$ " + " ".join(self.cmd) + "\n").encode())
            log.flush()
            self.popen = subprocess.Popen(
                self.cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=full_env,
                cwd=workdir,
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def exited(self) -> bool:
        return self.popen.poll() is not None

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(f"  {self.name}| {line}" for line in text[-lines:])

    def stop(self) -> None:
        if self.exited():
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(self.stop_timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(10)


class ProcessGroup:
    """Processes started for one run, stopped in reverse order of start."""

    def __init__(self) -> None:
        self._stops: list[tuple[str, Callable[[], None]]] = []

    def add(self, proc: Proc) -> Proc:
        self._stops.append((proc.name, proc.stop))
        return proc

    def on_stop(self, name: str, stop: Callable[[], None]) -> None:
        self._stops.append((name, stop))

    def stop_all(self) -> None:
        while self._stops:
            name, stop = self._stops.pop()
            try:
                stop()
            except Exception as err:  # noqa: BLE001 - keep stopping the rest
                print(f"bench: stopping {name} failed: {err}")


def read_addr_file(path: Path) -> dict[str, str]:
    """`{"listen": ..., "admin": ...}` as written by a tavana role once it listens."""
    text = path.read_text()
    data = json.loads(text)
    if "listen" not in data:
        raise ValueError("incomplete")
    return data


def rss_bytes(pid: int) -> int:
    """Resident set size of `pid` now, from /proc (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


_CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat from field 3 (state) on; empty once the process is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            # The command name (field 2) may hold spaces: split after its closing paren.
            return f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def cpu_seconds(pid: int) -> float:
    """User + system CPU time `pid` has used so far, all its threads (0 once it is gone)."""
    fields = _stat_fields(pid)
    try:
        return (int(fields[11]) + int(fields[12])) / _CLK_TCK
    except (IndexError, ValueError):
        return 0.0


def tree_cpu_seconds(root: int) -> float:
    """CPU time used so far by `root` and every process below it, children that already
    ended included (a parent's reaped-children times hold theirs). For servers that fork a
    process per connection, such as PostgreSQL behind `runuser`."""
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat_fields(int(entry))
        try:
            ppid = int(fields[1])
            # utime + stime of the process, cutime + cstime of its reaped children.
            times[int(entry)] = sum(int(f) for f in fields[11:15]) / _CLK_TCK
        except (IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0.0)
        todo.extend(children.get(pid, ()))
    return total


def page_faults(pid: int) -> int:
    """Minor page faults `pid` has taken so far (memory handed to it fresh by the kernel)."""
    fields = _stat_fields(pid)
    try:
        return int(fields[7])
    except (IndexError, ValueError):
        return 0


class RssSampler:
    """While in a `with` block: samples the RSS of named pids every `interval` seconds,
    and counts the CPU time each used (plus this client process, as `client`). `trees` are
    counted for CPU only, with every process below them (see `tree_cpu_seconds`)."""

    def __init__(self, pids: dict[str, int], interval: float = 0.02,
                 trees: Optional[dict[str, int]] = None) -> None:
        self.pids = pids
        self.trees = trees or {}
        self.interval = interval
        self.before: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self.cpu: dict[str, float] = {}
        self._cpu0: dict[str, float] = {}
        self.faults: dict[str, int] = {}
        self._faults0: dict[str, int] = {}
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, pid in self.pids.items():
                rss = rss_bytes(pid)
                if rss > self.peak.get(name, 0):
                    self.peak[name] = rss
            self.samples += 1
            self._stop.wait(self.interval)

    def _cpu_now(self) -> dict[str, float]:
        now = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        now.update({name: tree_cpu_seconds(pid) for name, pid in self.trees.items()})
        # The client: this process (all its threads, the ADBC driver's included) plus any
        # child it ran to completion in the meantime (psql).
        t = os.times()
        now["client"] = t.user + t.system + t.children_user + t.children_system
        return now

    def __enter__(self) -> "RssSampler":
        self.before = {name: rss_bytes(pid) for name, pid in self.pids.items()}
        self.peak = dict(self.before)
        self._cpu0 = self._cpu_now()
        self._faults0 = {name: page_faults(pid) for name, pid in self.pids.items()}
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        end = self._cpu_now()
        self.cpu = {name: end[name] - self._cpu0.get(name, 0.0) for name in end}
        self.faults = {
            name: page_faults(pid) - self._faults0.get(name, 0) for name, pid in self.pids.items()
        }
