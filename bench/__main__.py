"""``python -m stochad.bench ...`` is ``stochad-bench ...``."""

from .runner import main

raise SystemExit(main())
