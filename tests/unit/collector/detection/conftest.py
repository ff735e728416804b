"""Fixtures shared by the detection tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from collector.detection import prefilter


@pytest.fixture(scope="module", params=["python", "native"])
def prefilter_native(request: pytest.FixtureRequest) -> Iterator[bool]:
    """Runs a module's tests once per pre-filter implementation: every RouteIndex built meanwhile (the
    engine's too) uses the Python scan or the Rust extension. Module fixtures that build engines must
    request this one, so they are built again for each."""
    native = request.param == "native"
    if native and not prefilter.NATIVE_AVAILABLE:
        pytest.skip("the native pre-filter extension is not built (cargo was absent at install)")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(prefilter, "use_native", native)
        yield native
