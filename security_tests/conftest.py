from tests.harness.fixtures import *  # noqa: F403
