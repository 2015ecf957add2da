"""How hard the property-based tests push: a bounded run in `make test`, a long one in
`make fuzz` (TERANGA_FUZZ_EXAMPLES sets the number of inputs per test)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("TERANGA_FUZZ_EXAMPLES", "40"))

fuzz = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 100,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])
