"""``python -m bench ...`` is ``stochad-bench ...``."""

from .runner import main

raise SystemExit(main())
