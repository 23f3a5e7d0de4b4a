"""Imports every model module, so that Base.metadata knows all tables."""


def import_all_models() -> None:
    from marketplace import audit, jobs, taxonomy  # noqa: F401
    from marketplace.accounts import models as accounts  # noqa: F401
    from marketplace.capabilities import models as capabilities  # noqa: F401
    from marketplace.editions import models as editions  # noqa: F401
    from marketplace.events import models as events  # noqa: F401
    from marketplace.imports import models as imports  # noqa: F401
    from marketplace.matches import models as matches  # noqa: F401
    from marketplace.notifications import models as notifications  # noqa: F401
    from marketplace.organizations import models as organizations  # noqa: F401
    from marketplace.plans import models as plans  # noqa: F401
    from marketplace.scenes import models as scenes  # noqa: F401
    from marketplace.subsidies import models as subsidies  # noqa: F401
    from marketplace.worklists import models as worklists  # noqa: F401
