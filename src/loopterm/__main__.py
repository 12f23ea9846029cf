import sys

try:
    from loopterm.cli import main
except KeyboardInterrupt:  # Ctrl-C while the command itself is still being imported
    print("loopterm: interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
