"""The authorization endpoint is throttled per address, before any other work.

Validating a client there may make this server fetch a Client ID Metadata
Document, before anyone has logged in; every request counts against the
address's OAuth limit (``rate_limit_oauth_calls`` per ``rate_limit_window``),
and one over it gets the error page with 429 and Retry-After.
"""

import requests


def test_authorize_is_throttled_per_address(odoo_http, oauth_app, oauth_setting):
    # One window for the whole burst; the run's template has the limit off.
    oauth_setting("rate_limit_window", "3600")
    oauth_setting("rate_limit_oauth_calls", "2")
    app = oauth_app()
    answers = [
        requests.get(
            f"{odoo_http.url}/oauth/authorize",
            params=app.authorize_params(),
            allow_redirects=False,
            timeout=30,
        )
        for _ in range(4)
    ]
    assert [answer.status_code for answer in answers] == [303, 303, 429, 429]
    refused = answers[-1]
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert "o_mcp_oauth_error" in refused.text
    assert "Location" not in refused.headers
    assert refused.headers["X-Frame-Options"] == "DENY"
    assert "MCP OAuth authorization DENY rate limit from 127.0.0.1" in (
        odoo_http.log_text()
    )
