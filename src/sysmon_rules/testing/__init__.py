"""Testing Sysmon configs: test files (``testfile``), a pytest plugin and hypothesis strategies.

Nothing is imported here, so the pytest plugin (``sysmon_rules.testing.pytest_plugin``) stays
light; import ``sysmon_rules.testing.strategies`` or ``.testfile`` directly.
"""
