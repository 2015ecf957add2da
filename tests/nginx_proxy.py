"""The shipped nginx configuration (deploy/nginx/teranga.conf) run by Debian's nginx in front
of real processes, for the tests and bench/cluster.py: only the upstreams' ports and the
listening address are changed. nginx runs on this machine or on a host of
tests/network_hosts.py."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import requests

from teranga import runtime
from teranga.settings import PROJECT_ROOT
from tests.network_hosts import LOOPBACK, Host

SHIPPED = PROJECT_ROOT / "deploy" / "nginx" / "teranga.conf"
SHIPPED_RASA_PORTS = (5005, 5006)
SHIPPED_DESK_PORTS = (5010, 5011)


class NginxProxy:
    def __init__(self, rasa: list[int | str], desks: list[int | str],
                 folder: Path | None = None, host: Host | None = None) -> None:
        """Each shipped upstream server in turn becomes one of the given servers, a port on
        loopback or an "address:port" (a server given once serves both shipped lines)."""
        self.folder = folder or Path(tempfile.mkdtemp(prefix="teranga-nginx-"))
        self.host = host or Host("lb", LOOPBACK)
        self.port = runtime.free_port()
        self.url = f"http://{self.host.address}:{self.port}"
        site = SHIPPED.read_text().replace("listen 80;",
                                           f"listen {self.host.address}:{self.port};")
        for shipped, servers in ((SHIPPED_RASA_PORTS, rasa), (SHIPPED_DESK_PORTS, desks)):
            for index, port in enumerate(shipped):
                server = servers[min(index, len(servers) - 1)]
                site = site.replace(f"127.0.0.1:{port} ", f"{_address(server)} ")
        (self.folder / "teranga.conf").write_text(site)
        (self.folder / "nginx.conf").write_text(f"""
daemon off;
pid {self.folder}/nginx.pid;
error_log {self.folder}/error.log;
events {{}}
http {{
    access_log off;
    client_body_temp_path {self.folder}/body;
    proxy_temp_path {self.folder}/proxy;
    include {self.folder}/teranga.conf;
}}
""")
        self.process: subprocess.Popen | None = None

    def start(self) -> NginxProxy:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(nginx).exists():
            raise RuntimeError("nginx is missing: `make test` installs Debian's nginx-light")
        self.process = subprocess.Popen(
            self.host.run([nginx, "-c", str(self.folder / "nginx.conf"), "-p",
                           str(self.folder)]),
            stderr=subprocess.PIPE)
        for _ in range(50):
            try:
                requests.get(self.url, timeout=1)
                return self
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError(f"nginx did not start: {self.folder}/error.log")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


def _address(server: int | str) -> str:
    return server if isinstance(server, str) else f"{LOOPBACK}:{server}"
