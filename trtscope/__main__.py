import sys

from trtscope.cli.main import main

sys.exit(main())
