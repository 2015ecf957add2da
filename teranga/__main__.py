import sys

from teranga.cli import main

sys.exit(main())
