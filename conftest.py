"""Root conftest: every test in the repository gets the real-services fixtures."""

pytest_plugins = ["portal_infra.pytest_plugin"]
