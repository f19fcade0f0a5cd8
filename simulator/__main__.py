import sys

from simulator.cli import main

if __name__ == "__main__":  # a worker process of `--workers N` imports this module again, and must not run it
    sys.exit(main())
