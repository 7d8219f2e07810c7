"""``python -m llmsl``: the ``llmsl`` command line."""
import sys

from llmsl.cli import main

sys.exit(main())
