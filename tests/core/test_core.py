

def test_every_role_sees_at_most_seven_top_menu_entries_and_every_page_behind_them(app, users):
    """The admin menu is grouped: at most seven top entries (the overview and six groups), and no page lost."""
    import re

    from flask import url_for

    from opplevelseskort.core import nav

    from ..conftest import login

    with app.test_request_context():
        urls = {i.endpoint: url_for(i.endpoint) for i in nav._STAFF}
        dashboard = url_for("core.dashboard")
    for role in ("admin", "caseworker", "partner", "volunteer", "analyst"):
        c = app.test_client()
        login(c, users[role])
        menu = c.get(dashboard).text.split('<ul class="nav-list">')[1].split("</nav>")[0]
        # top-level entries: the menu list's own <li>s, not those inside a group's disclosure
        outside = re.sub(r"<details>.*?</details>", "", menu, flags=re.S)
        top = outside.count("<li")
        assert 2 <= top <= 7, (role, top)
        for item in nav._STAFF:
            if users[role].role in item.roles:
                assert f'href="{urls[item.endpoint]}"' in menu, (role, item.endpoint)
    assert "<details>" in menu or role != "analyst"
