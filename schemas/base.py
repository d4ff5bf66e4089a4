"""The base model every schema class derives from: frozen, strict about unknown keys."""

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """Immutable value object; unknown keys are an error, never silently dropped."""

    model_config = ConfigDict(frozen=True, extra="forbid")
