"""Which cases (violations) a user may read: the one place that says so.

A unit's users (role ``unit``) answer for one responsible unit and read only the cases owned
by it or by its communities (the units whose parent it is); the campaign's other roles read
every case of their city. Every read of ``violation`` made for a user — features, search,
tiles, photos, the map page, problem points — goes through :func:`case_scope`.
"""

from __future__ import annotations

from dataclasses import dataclass

# the roles that read every case of their city; any other role reads only a unit's
CITY_WIDE_ROLES = ("admin", "planner", "inspector", "leader")


@dataclass(frozen=True)
class CaseScope:
    """The cases of the unit ``unit_id`` and its communities in city ``city_id``; no unit
    (a unit-role user without one, an unknown role) means no case at all.

    Hashable, so it can key a cache of what it filters (the vector tiles)."""

    city_id: int
    unit_id: int | None

    def where(self, column: str = "t.unit_id") -> str:
        """SQL: true when the unit in ``column`` (of a case, or ``unit.id`` itself) is in
        scope. Its parameters, :attr:`params`, are named so they meet no caller's."""
        if self.unit_id is None:
            return "false"
        return (
            f"{column} IN (SELECT id FROM unit WHERE city_id = :scope_city "
            "AND (id = :scope_unit OR parent_id = :scope_unit))"
        )

    @property
    def params(self) -> dict:
        return {"scope_city": self.city_id, "scope_unit": self.unit_id}


def case_scope(user) -> CaseScope | None:
    """The cases ``user`` (anything with ``role``, ``unit_id`` and ``city_id``, such as
    ``service.accounts.users.User``) may read: None when that is the whole city."""
    if user.role in CITY_WIDE_ROLES:
        return None
    unit_id = user.unit_id if user.role == "unit" else None
    return CaseScope(city_id=user.city_id, unit_id=unit_id)


def and_where(scope: CaseScope | None, column: str = "t.unit_id") -> str:
    """``" AND <condition>"`` to append to a WHERE clause, or ``""`` for the whole city."""
    return "" if scope is None else f" AND {scope.where(column)}"


def scope_params(scope: CaseScope | None) -> dict:
    """The scope's query parameters (none for the whole city)."""
    return {} if scope is None else scope.params
