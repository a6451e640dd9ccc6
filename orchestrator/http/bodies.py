"""Bodies every feature shares: the strict request base model, JSON integers, and the error answers.

Requests are strict and carry the input rules (lengths, ranges, the listed names); answers are separate, lenient
models with the same fields, built from stored documents that may predate today's rules. The names and ranges
come from the modules that define them, never copied into a body.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator


def _integral_number(value: Any) -> Any:
    # JSON has one number type: 5.0 is the integer 5 (as JSON Schema's "integer" says); 5.5 stays refused.
    return int(value) if isinstance(value, float) and value.is_integer() else value


# An integer in a request body: also written as 5.0, never as "5" or true. (In an optional field, constraints
# go before it, `Annotated[int, Field(ge=0), INTEGRAL] | None`: after it pydantic writes "ge" into the schema.)
INTEGRAL = BeforeValidator(_integral_number)
JsonInt = Annotated[int, INTEGRAL]


def _has_unpaired_surrogate(value: Any) -> bool:
    # A walk with a list, not recursion: however deep a body nests, this never exhausts the stack.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


class RequestModel(BaseModel):
    """A request body: strict, so that it accepts what its schema says and nothing else (no `false` for 0,
    no "8" for 8): the schema-driven fuzzing holds the API to its schema both ways."""

    model_config = ConfigDict(strict=True)

    @model_validator(mode="before")
    @classmethod
    def valid_unicode(cls, data: Any) -> Any:
        # JSON may escape half of a surrogate pair ("\ud83d" alone): no Unicode text, it cannot be stored
        # (MongoDB wants UTF-8) nor sent back, so it is refused here rather than failing later with a 500.
        if _has_unpaired_surrogate(data):
            raise ValueError("strings must be valid Unicode: an unpaired surrogate (\\ud800-\\udfff) was sent")
        return data


class ErrorOut(BaseModel):
    """Every refusal: 4xx and 503 answers all carry `detail`."""

    detail: str = Field(description="Why, in words")


class FieldErrorOut(BaseModel):
    loc: list[str | int] = Field(description='Where: e.g. ["body", "mood", "label"] or ["query", "limit"]')
    msg: str
    type: str = Field(description="Kind of error, e.g. missing, string_too_long, greater_than_equal")


class ValidationErrorOut(ErrorOut):
    errors: list[FieldErrorOut] = Field(default_factory=list, description="Each invalid field, when the "
                                        "request did not match its schema (absent when a rule beyond it refused)")


class UnavailableOut(ErrorOut):
    dependency: str = Field(description="What is unavailable, e.g. mongodb, redis, object storage, model:emotion")
