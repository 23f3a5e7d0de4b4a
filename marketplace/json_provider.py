"""The app's JSON: request bodies nested past what the parser can follow are
invalid JSON (400), not a crash."""

from typing import Any

from flask.json.provider import DefaultJSONProvider


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, with `loads` turning a RecursionError into a ValueError.

    `json.loads` of `[[[...]]]` 100,000 levels deep raises RecursionError, which
    `request.get_json` does not catch (it catches ValueError), so the body reached the
    error handler as a 500. As a ValueError it is what it is: a body we cannot read.
    """

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
