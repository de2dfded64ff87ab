"""Object-store emulators on loopback for the lake tests, each on port 0.

- S3: moto's server (with IAM enforcement, so wrong keys and foreign buckets are
  refused as on AWS), in a child process, behind `CountingProxy`, an HTTP proxy
  that records every request Tavana makes (method, path, bytes): projection and
  filter pushdown show up as fewer requests and bytes.
- Azure Blob: Azurite (npm, installed by scripts/setup-emulators.sh).
- GCS: gcp-storage-emulator, in a child process.
- `HangingServer`: accepts connections and never answers (an unreachable
  endpoint that does not refuse).

Run as a script, this module is the child process of the Python emulators:
``python lake_emulators.py moto|gcs ADDR_FILE`` binds 127.0.0.1:0, writes the
port to ADDR_FILE and serves until killed.
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Optional

START_TIMEOUT_S = 60.0
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
}


def node_dir() -> Path:
    return Path(
        os.environ.get("TAVANA_NODE_DIR", str(Path.home() / ".cache" / "tavana" / "node"))
    )


# --------------------------------------------------------------------------
# Child processes


class Emulator:
    """A child process serving on 127.0.0.1:<port>, its log kept for failures."""

    def __init__(self, name: str, cmd: list[str], workdir: Path, env: Optional[dict] = None):
        self.name = name
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = workdir / f"{name}.log"
        self.addr_file = workdir / f"{name}.port"
        self.addr_file.unlink(missing_ok=True)
        log = open(self.log_path, "ab")
        self.popen = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=workdir,
            env={**os.environ, **(env or {})},
        )
        log.close()
        self.port: Optional[int] = None

    def wait_port(self, pattern: Optional[str] = None) -> int:
        """The port from the addr file, or from the log line matching `pattern`."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log_tail()}")
            if pattern is None and self.addr_file.exists():
                text = self.addr_file.read_text().strip()
                if text:
                    self.port = int(text)
                    return self.port
            if pattern is not None and self.log_path.exists():
                match = re.search(pattern, self.log_path.read_text(errors="replace"))
                if match:
                    self.port = int(match.group(1))
                    return self.port
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not start:\n{self.log_tail()}")

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            text = ["<no log>"]
        return f"----- {self.name} log ({self.log_path}) -----\n" + "\n".join(text[-lines:])

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def start_moto(workdir: Path, unauthenticated_actions: int) -> Emulator:
    """moto with IAM enforcement after the first `unauthenticated_actions` calls."""
    emulator = Emulator(
        "moto",
        [sys.executable, __file__, "moto", str(workdir / "moto.port")],
        workdir,
        env={"INITIAL_NO_AUTH_ACTION_COUNT": str(unauthenticated_actions)},
    )
    emulator.wait_port()
    return emulator


def start_gcs(workdir: Path) -> Emulator:
    emulator = Emulator(
        "gcs", [sys.executable, __file__, "gcs", str(workdir / "gcs.port")], workdir
    )
    emulator.wait_port()
    return emulator


def start_azurite(workdir: Path) -> Emulator:
    binary = node_dir() / "node_modules" / ".bin" / "azurite-blob"
    if not binary.exists():
        raise RuntimeError(
            f"Azurite missing at {binary}: run scripts/setup-emulators.sh"
        )
    emulator = Emulator(
        "azurite",
        [
            str(binary),
            "--blobHost", "127.0.0.1",
            "--blobPort", "0",
            "--inMemoryPersistence",
            "--disableTelemetry",
            "--skipApiVersionCheck",
            "--loose",
        ],
        workdir,
    )
    emulator.wait_port(r"successfully listens on http://127\.0\.0\.1:(\d+)")
    return emulator


# --------------------------------------------------------------------------
# In-process servers


@dataclass
class Request:
    method: str
    path: str
    query: str
    status: int
    response_bytes: int
    range: Optional[str]


class CountingProxy:
    """A reverse proxy to `upstream` that records every request.

    The Host header is passed through unchanged, so S3 signatures made for the
    proxy's address still verify at the upstream server."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self._lock = threading.Lock()
        self._requests: list[Request] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                upstream = http.client.HTTPConnection(
                    "127.0.0.1", proxy.upstream_port, timeout=60
                )
                upstream.putrequest(
                    self.command, self.path, skip_host=True, skip_accept_encoding=True
                )
                for key, value in self.headers.items():
                    if key.lower() not in HOP_BY_HOP:
                        upstream.putheader(key, value)
                upstream.endheaders(body)
                response = upstream.getresponse()
                data = response.read()
                upstream.close()
                self.send_response(response.status, response.reason)
                for key, value in response.getheaders():
                    lower = key.lower()
                    if lower in HOP_BY_HOP or lower == "content-length":
                        continue
                    self.send_header(key, value)
                if self.command == "HEAD":
                    self.send_header(
                        "Content-Length", response.getheader("Content-Length", "0")
                    )
                else:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                path, _, query = self.path.partition("?")
                path = urllib.parse.unquote(path)
                with proxy._lock:
                    proxy._requests.append(
                        Request(
                            method=self.command,
                            path=path,
                            query=query,
                            status=response.status,
                            response_bytes=len(data),
                            range=self.headers.get("Range"),
                        )
                    )

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _forward

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()

    def requests(self, path_prefix: str = "") -> list[Request]:
        with self._lock:
            return [r for r in self._requests if r.path.startswith(path_prefix)]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class HangingServer:
    """Accepts TCP connections and never answers."""

    def __init__(self):
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(128)
        self.port = self._socket.getsockname()[1]
        self._connections: list[socket.socket] = []
        self._stopped = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while not self._stopped:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            self._connections.append(connection)

    def stop(self):
        self._stopped = True
        self._socket.close()
        for connection in self._connections:
            connection.close()


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------
# Child-process entry point


def _write_port(addr_file: str, port: int) -> None:
    tmp = addr_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(port))
    os.replace(tmp, addr_file)


def _main(kind: str, addr_file: str) -> None:
    if kind == "moto":
        from moto.server import ThreadedMotoServer

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        _write_port(addr_file, server.get_host_and_port()[1])
    elif kind == "gcs":
        from gcp_storage_emulator.server import create_server

        server = create_server("127.0.0.1", 0, in_memory=True)
        server.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while server._api._httpd is None and time.monotonic() < deadline:
            time.sleep(0.02)
        _write_port(addr_file, server._api._httpd.server_address[1])
    else:
        raise SystemExit(f"unknown emulator {kind}")
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    _main(sys.argv[1], sys.argv[2])
