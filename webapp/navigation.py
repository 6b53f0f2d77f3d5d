"""The header navigation: each blueprint adds its own items, shown only to people who may use them."""
from dataclasses import dataclass
from typing import Callable

from engine.accounts import User


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    blueprint: str
    visible: Callable[[User], bool]


ITEMS: list[NavItem] = []


def add_item(endpoint: str, label: str, visible: Callable[[User], bool] = lambda user: True) -> None:
    """Offer `endpoint` in the header to signed-in people for whom `visible(user)` is true."""
    ITEMS.append(NavItem(endpoint, label, endpoint.split(".")[0], visible))


def items_for(user: User, current_endpoint: str | None) -> list[tuple[NavItem, bool]]:
    """The items `user` sees, each with whether it is the current section."""
    here = (current_endpoint or "").split(".")[0]
    return [(item, item.blueprint == here) for item in ITEMS if item.visible(user)]
