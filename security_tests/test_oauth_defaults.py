"""The security defaults as the addon installs them, not as the test run sets them.

The run's template database switches Odoo API keys on for most tests
(tests/harness/fixtures.py); here that switch is taken away again, inside a
transaction that is rolled back, to read what a fresh install has: API keys
refused on /mcp, dynamic registration restricted to loopback and listed hosts.
"""

API_KEYS = "mcp_server_odoo.accept_api_keys"
REGISTRATION = "mcp_server_odoo.oauth_registration_mode"


def _installed_parameters(env):
    """The system parameters the addon's data files create: key -> value."""
    data = env["ir.model.data"].search(
        [("module", "=", "mcp_server_odoo"), ("model", "=", "ir.config_parameter")]
    )
    records = env["ir.config_parameter"].browse(data.mapped("res_id"))
    return {record.key: record.value for record in records}


def test_install_data_restricts_registration_and_leaves_api_keys_off(odoo_env):
    installed = _installed_parameters(odoo_env)
    assert installed[REGISTRATION] == "restricted"
    assert API_KEYS not in installed


def test_without_the_test_runs_switch_api_keys_are_refused(odoo_env):
    params = odoo_env["ir.config_parameter"]
    assert params.get_param(API_KEYS) == "True"  # the harness's switch
    params.search([("key", "=", API_KEYS)]).unlink()
    settings = odoo_env["mcp.oauth.client"]._oauth_settings()
    assert settings.accept_api_keys is False
    assert settings.registration_mode == "restricted"
    shown = odoo_env["res.config.settings"].create({})
    assert shown.mcp_accept_api_keys is False
    assert shown.mcp_oauth_registration_mode == "restricted"


def test_without_any_parameter_the_code_defaults_are_just_as_strict(odoo_env):
    params = odoo_env["ir.config_parameter"]
    params.search([("key", "in", [API_KEYS, REGISTRATION])]).unlink()
    settings = odoo_env["mcp.oauth.client"]._oauth_settings()
    assert settings.accept_api_keys is False
    assert settings.registration_mode == "restricted"
    # An unknown mode is read as closed, never as open.
    params.set_param(REGISTRATION, "wide-open")
    assert odoo_env["mcp.oauth.client"]._oauth_settings().registration_mode == (
        "closed"
    )
