"""What a browser calls an origin (`https://host`, `https://host:port`), checked where a
setting lists the origins a server lets in: the desk's TERANGA_DESK_ORIGINS, the web chat's
TERANGA_WEBCHAT_ORIGINS. Pure: no other module of the library."""

from __future__ import annotations

import re
from collections.abc import Iterable

# A host (and port) that may be repeated in the Content-Security-Policy, and an origin.
HOST = r"([a-z0-9.-]+|\[[0-9a-f:.]+\])(:[0-9]{1,5})?"
_ORIGIN = re.compile(rf"https?://{HOST}")


def checked_origins(origins: Iterable[str], variable: str) -> set[str]:
    """The origins listed in `variable`, each as browsers write an origin (lower case, no
    trailing slash); a value that is not an origin raises ValueError with what is wrong."""
    normalized = {origin.strip().rstrip("/").lower() for origin in origins}
    wrong = sorted(origin for origin in normalized if not _ORIGIN.fullmatch(origin))
    if wrong:
        raise ValueError(f"{variable}: {', '.join(wrong)} is not an origin such as "
                         "https://desk.example.com (a scheme, a host, maybe a port)")
    return normalized
