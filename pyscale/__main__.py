import sys

from pyscale.cli import main

sys.exit(main())
