"""The settings the deployment files rely on exist (names from kaohe.settings, not copied lists)."""

from __future__ import annotations

from kaohe import settings
from tests.infra.common import REQUIRED_INFRA


def test_required_infra_names_are_settings_fields() -> None:
    # Guards REQUIRED_INFRA itself: a renamed field must not silently drop out of the checks.
    assert set(REQUIRED_INFRA) <= set(settings.InfraSettings.model_fields)
    assert set(settings.SETTINGS_BY_COMPONENT) == set(settings.COMPONENTS)
