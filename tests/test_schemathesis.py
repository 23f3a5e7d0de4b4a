"""RELIABILITY I11: schemathesis over /api/openapi.json as three identities finds
nothing: no 500, every status, header and body as the document says, valid
requests accepted and invalid ones refused.

Each operation gets schema-valid and schema-invalid requests; operations on one
item are also tried on items that exist (a unit's draft scene, a published scene
and capability), not only on random ids that answer 404. Bounded for CI: a fixed
number of generated requests per operation, mode and identity, derandomized so that
a failure is reproduced by the next run. Every failure is reported, not only the
first.
"""

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

EXAMPLES_PER_OPERATION = 10


def _check(
    operation: Any,
    identities: dict[str, dict[str, str]],
    mode: GenerationMode,
    path_parameters: dict[str, int] | None = None,
) -> None:
    @given(
        case=operation.as_strategy(
            generation_mode=mode, path_parameters=path_parameters
        )
    )
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        for headers in identities.values():
            case.call_and_validate(headers=headers)

    try:
        run()
    except Unsatisfiable:
        # Nothing to get wrong: no parameters and no body (GET /api/v1/taxonomy).
        if mode is not GenerationMode.NEGATIVE:
            raise


def test_the_api_answers_as_its_document_says(
    app, make_user, token_for, make_scene, make_capability
):
    unit = make_user("unit")
    existing = {
        "draft scene": make_scene(owner=unit, status="draft"),
        "published scene": make_scene(),
        "published capability": make_capability(),
    }
    identities = {
        "anonymous": {},
        "unit": token_for(unit),
        "center": token_for(make_user("center")),
    }
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    failures = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        takes_id = "{id}" in operation.path
        runs = [(mode, None) for mode in GenerationMode]
        if takes_id:
            runs += [
                (GenerationMode.POSITIVE, {"id": item_id})
                for item_id in existing.values()
            ]
        for mode, path_parameters in runs:
            try:
                _check(operation, identities, mode, path_parameters)
            except (Exception, BaseExceptionGroup) as error:  # each is reported below
                where = f" (id {path_parameters['id']})" if path_parameters else ""
                failures.append(
                    f"{operation.label} [{mode.value}]{where}: {str(error)[:1500]}"
                )
    assert operations >= 40
    assert not failures, f"{len(failures)} failures:\n" + "\n\n".join(failures)
