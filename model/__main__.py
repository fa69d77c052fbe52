import sys

from toe_twitch.cli import main

sys.exit(main())
