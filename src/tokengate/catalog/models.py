from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tokengate.db import Base, UTCDateTime, utcnow


class Model(Base):
    """A model users can call by its public name, served by one provider deployment.

    Prices are integer micro-units (of the tenant currency) per million tokens.
    """

    __tablename__ = "models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    provider: Mapped[str] = mapped_column(String(32))
    upstream_model: Mapped[str] = mapped_column(String(200))
    base_url: Mapped[str] = mapped_column(String(500))
    api_key_encrypted: Mapped[str | None] = mapped_column(Text, default=None)
    input_price: Mapped[int] = mapped_column(BigInteger, default=0)
    output_price: Mapped[int] = mapped_column(BigInteger, default=0)
    cached_input_price: Mapped[int] = mapped_column(BigInteger, default=0)
    cache_write_price: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    default_max_tokens: Mapped[int | None] = mapped_column(Integer, default=None)
    max_max_tokens: Mapped[int | None] = mapped_column(Integer, default=None)
    status: Mapped[str] = mapped_column(String(16), default="active")
    # metadata shown to admins: the model's version and a free description
    version: Mapped[str | None] = mapped_column(String(64), default=None)
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    # how requests are spread over the model's deployments: weighted or least_busy
    routing: Mapped[str] = mapped_column(String(16), default="weighted", server_default="weighted")
    # the weight of the deployment described by the columns above (the primary one)
    weight: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # sampling parameters: {"temperature": {"default": 0.7, "min": 0, "max": 1}, …}
    params: Mapped[dict[str, dict[str, float]]] = mapped_column(
        JSON, default=dict, server_default="{}"
    )
    # other models (public names) tried in order when every deployment of this one fails
    fallbacks: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Deployment(Base):
    """One more upstream serving a model (same provider kind, its own URL, key and weight)."""

    __tablename__ = "model_deployments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"), index=True)
    upstream_model: Mapped[str] = mapped_column(String(200))
    base_url: Mapped[str] = mapped_column(String(500))
    api_key_encrypted: Mapped[str | None] = mapped_column(Text, default=None)
    weight: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
