"""Small configs shared by the config-testing tests."""

# One include rule named "shell" for cmd.exe; everything else of event 1 is dropped.
SHELL_CONFIG = """<Sysmon schemaversion="4.90"><EventFiltering>
<RuleGroup groupRelation="or"><ProcessCreate onmatch="include">
<Image name="shell" condition="end with">\\cmd.exe</Image></ProcessCreate></RuleGroup>
</EventFiltering></Sysmon>"""
