"""The bundle's entry point: the same `main` the `clinic-desk` console script runs."""

from app.main import main

raise SystemExit(main())
