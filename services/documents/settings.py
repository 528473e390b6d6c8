"""Settings of the documents service (公文): env prefix KAOHE_DOCUMENTS_, named in kaohe.registry."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from kaohe import registry
from kaohe.settings import ComponentSettings


class DocumentsSettings(ComponentSettings):
    """What the documents service reads from the environment besides the shared component settings."""

    component: ClassVar[str] = "documents"
    model_config = SettingsConfigDict(env_prefix="KAOHE_DOCUMENTS_", extra="ignore")
    http_port: int = registry.get("documents").port
    download_ttl_s: int = Field(300, ge=30, le=3600, description="lifetime of a presigned download URL")
    upstream_timeout_s: float = Field(30.0, gt=0, description="deadline of each scoring read")
