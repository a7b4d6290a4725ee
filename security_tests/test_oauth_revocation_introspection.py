"""Revocation (RFC 7009) and introspection (RFC 7662) attacks and answers."""


def _status(client_for, token):
    return client_for(token).send("tools/list").status_code


def test_revoking_an_access_token_stops_it_at_once(oauth_token_for, client_for):
    tokens, app, _uid = oauth_token_for()
    response = app.revoke(tokens["access_token"], "access_token")
    assert response.status_code == 200
    assert _status(client_for, tokens["access_token"]) == 401
    # The refresh token of the grant still works (RFC 7009 §2.1).
    assert app.refresh(tokens["refresh_token"]).status_code == 200


def test_revoking_a_refresh_token_revokes_its_access_tokens(
    oauth_token_for, client_for
):
    tokens, app, _uid = oauth_token_for()
    assert app.revoke(tokens["refresh_token"]).status_code == 200
    assert _status(client_for, tokens["access_token"]) == 401
    assert app.refresh(tokens["refresh_token"]).status_code == 400


def test_unknown_token_answers_200(oauth_app):
    """RFC 7009 §2.2: an invalid token is not an error."""
    app = oauth_app()
    response = app.revoke("mcpat_" + "x" * 43)
    assert response.status_code == 200
    assert app.revoke("garbage").status_code == 200


def test_unknown_hint_is_ignored_and_the_token_still_revoked(
    oauth_token_for, client_for
):
    tokens, app, _uid = oauth_token_for()
    response = app.revoke(tokens["access_token"], "something_else")
    assert response.status_code == 200
    assert _status(client_for, tokens["access_token"]) == 401


def test_wrong_hint_still_finds_the_token(oauth_token_for, client_for):
    tokens, app, _uid = oauth_token_for()
    assert app.revoke(tokens["access_token"], "refresh_token").status_code == 200
    assert _status(client_for, tokens["access_token"]) == 401


def test_missing_token_is_invalid_request(oauth_app):
    response = oauth_app().revoke(None)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_another_clients_token_is_refused_and_not_revoked(
    oauth_token_for, oauth_app, client_for
):
    tokens, _victim, _uid = oauth_token_for()
    attacker = oauth_app()
    response = attacker.revoke(tokens["access_token"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert _status(client_for, tokens["access_token"]) == 200


def test_confidential_client_must_authenticate_to_revoke(oauth_token_for):
    tokens, app, _uid = oauth_token_for("client_secret_basic")
    app.secret = "mcpcs_wrong"
    response = app.revoke(tokens["access_token"])
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_introspection_of_own_token_by_confidential_client(oauth_token_for):
    tokens, app, uid = oauth_token_for("client_secret_post")
    response = app.introspect(tokens["access_token"])
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["active"] is True
    assert body["client_id"] == app.client_id
    assert body["aud"] == app.resource
    assert body["iss"] == app.base_url
    assert body["sub"] == str(uid)
    assert body["scope"] == "mcp"
    assert body["token_type"] == "Bearer"


def test_introspection_of_revoked_token_is_inactive(oauth_token_for):
    tokens, app, _uid = oauth_token_for("client_secret_basic")
    app.revoke(tokens["refresh_token"])
    assert app.introspect(tokens["access_token"]).json() == {"active": False}
    assert app.introspect(tokens["refresh_token"]).json() == {"active": False}


def test_introspection_of_another_clients_token_is_inactive(oauth_token_for, oauth_app):
    tokens, _victim, _uid = oauth_token_for()
    prober = oauth_app("client_secret_basic")
    assert prober.introspect(tokens["access_token"]).json() == {"active": False}


def test_public_client_may_not_introspect(oauth_token_for):
    tokens, app, _uid = oauth_token_for("none")
    response = app.introspect(tokens["access_token"])
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "active" not in response.json()


def test_unknown_token_introspects_inactive(oauth_app):
    app = oauth_app("client_secret_basic")
    assert app.introspect("mcpat_nothing").json() == {"active": False}
