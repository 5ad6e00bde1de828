"""Who may change heroes: one rule for the web views and the JSON endpoint."""


def may_change_heroes(user, action: str) -> bool:
    """Staff with the model permission for ``action`` ("add", "change" or "delete")."""
    return user.is_staff and user.has_perm(f"heroes.{action}_hero")
