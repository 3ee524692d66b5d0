"""The owner's home page stays short however many requests the owner has: what is under
way, the devices and the recent requests that did not finish, with "show all"."""

from __future__ import annotations

import re

from tests.integration.helpers import add_requests, make_world, signed_in_client

SHOW_ALL = "Show all your requests and devices"


def continue_buttons(html: str) -> int:
    return len(re.findall(r'class="button button--secondary card__action"', html))


def test_a_few_requests_are_all_shown_without_a_show_all_link(app) -> None:
    world = make_world(app)
    add_requests(app, world.acme_id, 8, owner_email=world.alice)
    alice = signed_in_client(app, world.alice)
    page = alice.get("/")
    assert page.status_code == 200
    # By turns Pending, Succeeded, Canceled, Draft: 4 under way, 2 devices, 2 canceled.
    assert continue_buttons(page.text) == 4
    assert SHOW_ALL not in page.text


def test_many_requests_show_the_latest_and_a_link_to_all(app) -> None:
    world = make_world(app)
    add_requests(app, world.acme_id, 60, owner_email=world.alice)
    alice = signed_in_client(app, world.alice)
    page = alice.get("/")
    assert continue_buttons(page.text) == 10
    assert page.text.count("/disconnect") == 10
    assert SHOW_ALL in page.text

    everything = alice.get("/?all=1")
    assert continue_buttons(everything.text) == 30  # Pending and Draft, 15 each
    assert everything.text.count("/disconnect") == 15
    assert SHOW_ALL not in everything.text


def test_another_owners_requests_never_show(app) -> None:
    world = make_world(app)
    add_requests(app, world.acme_id, 12, owner_email=world.bob)
    alice = signed_in_client(app, world.alice)
    page = alice.get("/?all=1")
    assert continue_buttons(page.text) == 0
    assert "/disconnect" not in page.text
