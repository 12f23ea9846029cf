import sys

from loopterm.cli import main

sys.exit(main())
