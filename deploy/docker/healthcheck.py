"""The image's HEALTHCHECK: healthy when the process in this container (the Rasa server, the
action server or the desk: one of the three ports in deploy/docker/entrypoint.sh) answers
its liveness endpoint."""

import sys
import urllib.request

PORTS = (5005, 5055, 5010)


def answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=3) as reply:
            return reply.status == 200
    except OSError:
        return False


sys.exit(0 if any(answers(port) for port in PORTS) else 1)
