"""CPU profiles of the Tavana processes during one extra large-result run (`--profile`).

`perf record -e cpu-clock` samples (a software clock: it works in VMs without
hardware counters), attached by pid to each Tavana process while one more large
result streams; the run is extra, so perf's overhead never touches the measured
figures. The flat top symbols of each process go into `<results>-profile.txt`,
which is what the results file's bottleneck analysis cites.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Callable

FREQ_HZ = 499


def perf_works() -> str | None:
    """None when `perf record -e cpu-clock` works here, else why not."""
    if shutil.which("perf") is None:
        return "perf not installed (Debian: linux-perf)"
    out = subprocess.run(["perf", "record", "-e", "cpu-clock", "-o", "/dev/null", "--", "true"],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return f"perf record fails: {out.stderr.strip()[:200]}"
    return None


def profile_during(pids: dict[str, int], run: Callable[[], object], workdir: Path, label: str,
                   top: int = 25) -> dict[str, str]:
    """Runs `run()` with perf attached to each pid; returns the flat profile text per role."""
    recorders: dict[str, tuple[subprocess.Popen, Path]] = {}
    for role, pid in pids.items():
        data = workdir / f"{label}-{role}.perf.data"
        recorders[role] = (subprocess.Popen(
            ["perf", "record", "-e", "cpu-clock", "-F", str(FREQ_HZ), "-g", "-p", str(pid), "-o", str(data)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), data)
    time.sleep(1.0)  # let perf attach to every thread
    started = time.perf_counter()
    try:
        run()
    finally:
        took = time.perf_counter() - started
        for proc, _ in recorders.values():
            proc.send_signal(signal.SIGINT)
        for proc, _ in recorders.values():
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
    reports = {}
    for role, (_, data) in recorders.items():
        out = subprocess.run(
            ["perf", "report", "-i", str(data), "--stdio", "--no-children", "-g", "none",
             "--percent-limit", "0.7", "--sort", "symbol"],
            capture_output=True, text=True, check=False, timeout=600,
        )
        samples = next((line for line in out.stdout.splitlines() if line.startswith("# Samples")), "")
        lines = [re.sub(r"(\s+-)+\s*$", "", line.rstrip())
                 for line in out.stdout.splitlines() if line.strip() and not line.startswith("#")]
        reports[role] = (f"{label}: {role} ({samples.lstrip('# ').strip()}, run took {took:.2f} s; "
                         f"{FREQ_HZ} Hz, so 1 s of CPU is ~{FREQ_HZ} samples)\n" + "\n".join(lines[:top]))
    return reports
