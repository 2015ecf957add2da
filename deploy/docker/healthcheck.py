"""The image's health check: `healthcheck.py [live|ready]` exits 0 when the process in this
container (the Rasa server, the action server or the desk: one of the three ports of
deploy/docker/entrypoint.sh) answers /health/live (the default, Docker's HEALTHCHECK) or
/health/ready (Compose's checks, before nginx sends it traffic)."""

import sys
import urllib.request

PORTS = (5005, 5055, 5010)


def answers(port: int, probe: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/{probe}",
                                    timeout=3) as reply:
            return reply.status == 200
    except OSError:
        return False


probe = sys.argv[1] if len(sys.argv) > 1 else "live"
sys.exit(0 if any(answers(port, probe) for port in PORTS) else 1)
