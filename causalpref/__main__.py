import sys

from causalpref.cli import main

sys.exit(main())
