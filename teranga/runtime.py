"""Training the model and running the Rasa server, the action server and Redis."""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from teranga.channels.credentials import enabled_channels
from teranga.dialogue.domain import write_domain
from teranga.fingerprint import files_fingerprint
from teranga.http_api import TOKEN_VARIABLE, api_token, auth_header
from teranga.languages import default_language
from teranga.settings import PROJECT_ROOT, Settings, environment, rasa_environment

logger = logging.getLogger(__name__)

MODEL_NAME = "teranga"
# What a model depends on. Rasa fingerprints data and config itself, but not the code
# of the project's own components, so the code is part of this stamp.
TRAINING_INPUTS = ("config.yml", "domain", "data", "addons/components.py",
                   "teranga/nlu", "teranga/text.py", "teranga/corpora.py",
                   "teranga/embedders.py")


class TrainingError(RuntimeError):
    pass


def training_fingerprint(root: Path = PROJECT_ROOT) -> str:
    return files_fingerprint((root / name for name in TRAINING_INPUTS), root)


def model_path(models_dir: Path) -> Path:
    return models_dir / f"{MODEL_NAME}.tar.gz"


def train(models_dir: Path, force: bool = False, root: Path = PROJECT_ROOT) -> Path:
    """Train the Rasa model unless one trained on the same inputs exists."""
    target = model_path(models_dir)
    stamp = models_dir / f"{MODEL_NAME}.fingerprint"
    fingerprint = training_fingerprint(root)
    if not force and target.exists() and stamp.exists() and stamp.read_text() == fingerprint:
        print(f"Model is up to date: {target}")
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    log = root / ".teranga" / "logs" / "train.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    print(f"Training the model (training data, config or NLU code changed); log: {log}",
          flush=True)
    domain = write_domain(root / "domain", default_language(root),
                          root / ".teranga" / "domain.yml")
    command = [sys.executable, "-m", "rasa", "train", "--config", "config.yml",
               "--domain", str(domain), "--data", "data", "--out", str(models_dir),
               "--fixed-model-name", MODEL_NAME]
    with log.open("w") as output:
        result = subprocess.run(command, cwd=root, env=_base_env(), stdout=output,
                                stderr=subprocess.STDOUT)
    if result.returncode:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
        raise TrainingError(f"Training failed (exit {result.returncode}). End of {log}:\n{tail}")
    stamp.write_text(fingerprint)
    print(f"Model trained: {target}", flush=True)
    return target


def _base_env() -> dict[str, str]:
    env = environment()
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("PYTHONPATH", str(PROJECT_ROOT))
    return env


def _server_env(redis_url: str, actions_url: str) -> dict[str, str]:
    """A server's environment. One OpenMP thread per process: the embedder, faiss and
    TensorFlow would each start one spinning thread per core, and the Rasa, action and desk
    processes would fight over the same two cores (two Rasa processes served a fifth of one
    process's load that way). Parallelism comes from processes, not threads."""
    env = {**_base_env(), **rasa_environment(redis_url, actions_url)}
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def embedded_redis() -> Iterator[str]:
    """A Redis-compatible server in this process (fakeredis), for a machine without Redis."""
    from fakeredis import TcpFakeServer

    port = free_port()
    server = TcpFakeServer(("127.0.0.1", port), server_type="redis")
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="embedded-redis")
    thread.start()
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Restarts:
    """When a crashed server may start again: after 1 s, then twice as long after each
    crash (at most a minute), back to 1 s once it has run for a minute."""

    delay: float = 1.0
    due: float | None = None
    started: float = field(default_factory=time.monotonic)
    max_delay: float = 60.0
    stable_after: float = 60.0

    def crashed(self, now: float) -> float:
        if now - self.started >= self.stable_after:
            self.delay = 1.0
        self.due = now + self.delay
        waited, self.delay = self.delay, min(self.delay * 2, self.max_delay)
        return waited

    def restarted(self, now: float) -> None:
        self.due, self.started = None, now


@dataclass
class Services:
    """The Rasa server, the action server and the desk as child processes, restarted when
    they crash. `launcher`: the command that runs them on another host, such as `ip netns
    exec NAME` (bench/cluster.py); `host` is then that host's address, and `overrides` the
    variables its servers see differently from this process."""

    settings: Settings
    redis_url: str
    log_dir: Path
    host: str = "127.0.0.1"
    launcher: tuple[str, ...] = ()
    overrides: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    commands: dict[str, tuple[list[str], dict[str, str]]] = field(default_factory=dict)
    restarts: dict[str, Restarts] = field(default_factory=dict)

    @property
    def rasa_url(self) -> str:
        """Where the Rasa server answers: its interface, or loopback if it listens on all."""
        return f"http://{self._served_host}:{self.settings.rasa_port}"

    @property
    def desk_url(self) -> str:
        return f"http://{self._served_host}:{self.settings.desk_port}"

    @property
    def _served_host(self) -> str:
        """Where a server answers: its interface, or loopback if it listens on all."""
        return "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host

    def start(self, model: Path) -> None:
        for port, variable in ((self.settings.actions_port, "TERANGA_ACTIONS_PORT"),
                               (self.settings.rasa_port, "TERANGA_RASA_PORT"),
                               (self.settings.desk_port, "TERANGA_DESK_PORT")):
            if port_in_use(port):
                raise RuntimeError(f"port {port} is already in use (another Teranga still "
                                   f"running?); stop it or set {variable}")
        env = self._env()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        # rasa_sdk binds every interface unless told otherwise; the action server has no
        # authentication, so it stays on loopback, where the Rasa server calls it.
        self._spawn("actions", [sys.executable, "-m", "actions.server", "--actions", "actions",
                                "--port", str(self.settings.actions_port)],
                    {**env, "SANIC_HOST": "127.0.0.1"})
        self.start_rasa("rasa", model, self.settings.rasa_port)
        self.start_desk("desk", self.settings.desk_port)

    def start_desk(self, name: str, port: int, rasa_url: str | None = None,
                   environment_changes: dict[str, str] | None = None) -> None:
        """A desk; more than one may share Redis (each with its own TERANGA_DESK_CONSUMER)."""
        self._spawn(name, [sys.executable, "-m", "teranga", "desk", "--host", self.host,
                           "--port", str(port), "--rasa-url", rasa_url or self.rasa_url],
                    {**self._env(), **(environment_changes or {})})

    def _env(self) -> dict[str, str]:
        """The servers' environment, with the HTTP API's secret (never on a command line)."""
        return {**_server_env(self.redis_url, self.settings.actions_url),
                TOKEN_VARIABLE: api_token(create=True), **self.overrides}

    def start_rasa(self, name: str, model: Path, port: int,
                   environment_changes: dict[str, str] | None = None) -> None:
        """A Rasa server; more than one may share the Redis tracker and lock stores.
        `environment_changes`: variables this server sees differently from the others."""
        # Rasa's command line with the fixes of addons/rasa_server.py
        rasa = [sys.executable, "-m", "addons.rasa_server", "run", "--model",
                str(model), "--enable-api",
                "--endpoints", "endpoints.yml", "--credentials", str(self._credentials()),
                "--interface", self.host, "--port", str(port)]
        self._spawn(name, rasa, {**self._env(), **(environment_changes or {})})

    def _credentials(self) -> Path:
        """credentials.yml less the channels whose environment variables are not set."""
        target = self.log_dir / "credentials.yml"
        for channel, missing in enabled_channels(PROJECT_ROOT / "credentials.yml",
                                                 target).items():
            print(f"Channel {channel.rsplit('.', 1)[-1]} is off: set {', '.join(missing)}",
                  flush=True)
        return target

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.commands[name] = (command, env)
        log = (self.log_dir / f"{name}.log").open("ab")
        # A session of its own: Ctrl-C reaches the supervisor, which stops children in order;
        # and a child that outlives a killed supervisor is told to stop too.
        self.processes[name] = subprocess.Popen(
            [*self.launcher, *command], cwd=PROJECT_ROOT, env=env, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_stop_with_parent)
        self.restarts.setdefault(name, Restarts()).restarted(time.monotonic())

    def wait_until_ready(self, timeout: float = 300.0) -> None:
        checks = {"actions": f"{self.settings.actions_url}/health",
                  "rasa": f"{self.rasa_url}/status", "desk": f"{self.desk_url}/health"}
        deadline = time.monotonic() + timeout
        for name, url in checks.items():
            while not self._answers(url):
                if self.processes[name].poll() is not None:
                    raise RuntimeError(f"The {name} server stopped; see {self.log_dir}/{name}.log")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"The {name} server did not answer {url} in {timeout:.0f} s")
                time.sleep(0.5)

    def _answers(self, url: str) -> bool:
        """`answers(url)`; a loopback address (the action server's) asked from the servers'
        own host."""
        if not self.launcher or not url.startswith("http://127.0.0.1:"):
            return answers(url)
        asked = subprocess.run([*self.launcher, sys.executable, "-c",
                                "import sys, urllib.request; "
                                "urllib.request.urlopen(sys.argv[1], timeout=2)", url],
                               capture_output=True)
        return asked.returncode == 0

    def supervise(self) -> list[str]:
        """Restart the servers that stopped, each after its back-off; the names restarted."""
        now, restarted = time.monotonic(), []
        for name, process in list(self.processes.items()):
            if process.poll() is None:
                continue
            restarts = self.restarts[name]
            if restarts.due is None:
                waited = restarts.crashed(now)
                logger.error("The %s server stopped (exit code %s); restarting it in %.0f s; "
                             "see %s/%s.log", name, process.returncode, waited, self.log_dir,
                             name)
            elif now >= restarts.due:
                logger.warning("Restarting the %s server", name)
                self._spawn(name, *self.commands[name])
                restarted.append(name)
        return restarted

    def stop(self, timeout: float = 20.0) -> None:
        """Rasa first, so that a message in progress still reaches the action server and its
        reply leaves (Rasa finishes what it accepted before it exits); then the others."""
        rasa = [n for n in self.processes if n.startswith("rasa")]
        for group in (rasa, [n for n in self.processes if n not in rasa]):
            for name in group:
                if self.processes[name].poll() is None:
                    self.processes[name].send_signal(signal.SIGTERM)
            for name in group:
                try:
                    self.processes[name].wait(timeout)
                except subprocess.TimeoutExpired:
                    logger.error("The %s server did not stop in %.0f s: killed", name, timeout)
                    self.processes[name].kill()
                    self.processes[name].wait()


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _stop_with_parent() -> None:
    """Runs in the child before exec: on Linux, SIGTERM it when the supervisor dies."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def answers(url: str) -> bool:
    """The server at `url` answers 2xx (the HTTP API with a JWT)."""
    try:
        return requests.get(url, timeout=2, headers=auth_header(api_token(create=True))).ok
    except requests.RequestException:
        return False
