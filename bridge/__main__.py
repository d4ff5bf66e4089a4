"""`python -m bridge` is the `lienthong` command."""

from bridge.cli import main

raise SystemExit(main())
