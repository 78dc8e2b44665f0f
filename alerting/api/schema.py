"""Document the error answers every operation can give, in one place."""

from __future__ import annotations

_ERROR = {
    "description": "",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "description": "`detail` says what went wrong; validation errors name each field.",
                "additionalProperties": True,
            }
        }
    },
}
_WHY = {
    "400": "Invalid input; the body names each bad field or parameter.",
    "401": "Missing, unknown, expired or revoked credentials.",
    "403": "The API token lacks the scope this operation needs; `detail` names it.",
    "404": "No such object in this tenant.",
}


def error_responses(result, generator, request, public):
    """drf-spectacular post-processing hook: add 400/401/403/404 where they apply."""
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            codes = ["401"]
            if any("apiToken" in scheme for scheme in operation.get("security", [])):
                codes.append("403")
            if operation.get("parameters") or operation.get("requestBody"):
                codes.append("400")
            if "{" in path:
                codes.append("404")
            for code in codes:
                responses.setdefault(code, {**_ERROR, "description": _WHY[code]})
    return result
