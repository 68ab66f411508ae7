"""The OpenAPI schema's shared parts: the error answers every operation may give."""

from typing import Any

ERROR = {
    "type": "object",
    "description": "What went wrong: `detail` for the request as a whole, or a list of "
    "messages under each field or parameter name.",
    "additionalProperties": True,
}

ERRORS = {
    "400": "Malformed or refused input: unknown parameters, bad values, or a change the "
    "model's rules refuse (each message under its field).",
    "401": "A write without a token, or with a revoked or expired one.",
    "403": "The token's user lacks the permission this change needs.",
    "404": "No such record (drafts are found only by staff).",
    "429": "Too many requests: retry after the number of seconds in Retry-After.",
}


def add_error_responses(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """A drf-spectacular postprocessing hook: document the error answers on every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for status, description in ERRORS.items():
                responses.setdefault(
                    status,
                    {
                        "description": description,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        },
                    },
                )
    return result
