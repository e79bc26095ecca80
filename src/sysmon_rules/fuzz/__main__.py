"""``python -m sysmon_rules.fuzz [SURFACE...] --inputs N --shared ../shared`` (see harness)."""

from .harness import main

if __name__ == "__main__":
    raise SystemExit(main())
